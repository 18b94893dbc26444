"""The widget's static files: what is served, and that widget.js is the classic-script
bundle of the modules in `static/src/` (the bundle's freshness is checked by
`tests/js/bundle.test.mjs`, which rebuilds it)."""

from __future__ import annotations

import re

from bot.channels.widget.channel import DEMO_FILE, STATIC_DIR, STATIC_FILES, _load_static

SOURCES = STATIC_DIR / "src"


def test_every_served_file_exists_with_its_content_type() -> None:
    served = _load_static()
    assert set(served) == {*STATIC_FILES, DEMO_FILE}
    assert served["widget.js"].content_type == "application/javascript; charset=utf-8"
    assert all(file.body for file in served.values())


def test_the_modules_are_bundled_not_served() -> None:
    modules = sorted(path.name for path in SOURCES.glob("*.js"))
    assert "main.js" in modules and "scorecard.js" in modules and "markdown.js" in modules
    assert not set(modules) & set(STATIC_FILES)
    bundle = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    for name in modules:  # esbuild names each module it took in
        assert f"// bot/channels/widget/static/src/{name}\n" in bundle, name


def test_widget_js_is_one_classic_script() -> None:
    bundle = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    assert bundle.startswith("/*!\n * Cloud advisor chat widget. Built from")
    # An embed's <script src> has no type="module": no import or export may remain.
    assert not re.search(r"^\s*(import|export)\b", bundle, re.MULTILINE)
    assert '"use strict";\n(() => {\n' in bundle and bundle.endswith("})();\n")


def test_the_demo_page_embeds_the_bundle_with_one_script_tag() -> None:
    demo = (STATIC_DIR / DEMO_FILE).read_text(encoding="utf-8")
    assert re.findall(r"<script src=\"([^\"]+)\"", demo) == ["static/widget.js"]
