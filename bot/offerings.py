"""Our products, read from `bot/offerings.yml`: the one place that describes them.

The FAQ answers about our platform (`ask_offerings/<key>`) are rendered from it here,
and the advisor names the product it recommends from the same file, so a product's name
or description is changed in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

OFFERINGS_FILE = Path(__file__).with_name("offerings.yml")
OFFERINGS_INTENT = "ask_offerings"


class OfferingsError(ValueError):
    """`offerings.yml` is missing a field or names an unknown product."""


@dataclass(frozen=True)
class Offering:
    key: str
    name: str
    title: str
    summary: str
    answer: str
    facts: tuple[str, ...]


@dataclass(frozen=True)
class PlatformAnswer:
    """An answer about the platform as a whole (Windows support, migration, pricing)."""

    key: str
    title: str
    answer: str
    offerings: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    offerings: Mapping[str, Offering]
    platform_answers: Mapping[str, PlatformAnswer]

    def answer_keys(self) -> list[str]:
        """Every `ask_offerings/<key>` this catalogue can answer."""
        return [f"{OFFERINGS_INTENT}/{key}"
                for key in [*self.offerings, *self.platform_answers]]

    def _entry(self, answer_key: str) -> Offering | PlatformAnswer | None:
        key = answer_key.removeprefix(f"{OFFERINGS_INTENT}/")
        return self.offerings.get(key) or self.platform_answers.get(key)

    def title(self, answer_key: str) -> str | None:
        """The answer's title (a button label), or None for a key we cannot answer."""
        found = self._entry(answer_key)
        return found.title if found else None

    def answer(self, answer_key: str) -> tuple[str, list[str]] | None:
        """The answer's text and the keys of the products it points to, or None."""
        found = self._entry(answer_key)
        if isinstance(found, PlatformAnswer):
            return found.answer, list(found.offerings)
        return (found.answer, []) if found else None

    def overview(self) -> tuple[str, list[str]]:
        """A short list of every product, for a question about our platform in general."""
        lines = [f"- **{o.name}**: {o.summary}" for o in self.offerings.values()]
        return "Here is what we offer:\n" + "\n".join(lines), list(self.offerings)


def _text(entry: Mapping[str, Any], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise OfferingsError(f"{where}: '{field}' must be a non-empty text")
    return " ".join(value.split())


def parse_catalogue(document: Mapping[str, Any]) -> Catalogue:
    """Validate the YAML document; every error names the entry and the field."""
    offerings = {}
    for key, entry in (document.get("offerings") or {}).items():
        where = f"offerings.{key}"
        facts = entry.get("facts") or []
        if not isinstance(facts, list):
            raise OfferingsError(f"{where}: 'facts' must be a list")
        offerings[key] = Offering(key, _text(entry, "name", where), _text(entry, "title", where),
                                  _text(entry, "summary", where), _text(entry, "answer", where),
                                  tuple(" ".join(str(f).split()) for f in facts))
    if not offerings:
        raise OfferingsError("offerings.yml lists no offerings")
    platform = {}
    for key, entry in (document.get("faq") or {}).items():
        where = f"faq.{key}"
        linked = tuple(entry.get("offerings") or ())
        unknown = [name for name in linked if name not in offerings]
        if unknown:
            raise OfferingsError(f"{where}: unknown offerings {unknown}")
        platform[key] = PlatformAnswer(key, _text(entry, "title", where),
                                       _text(entry, "answer", where), linked)
    clash = set(offerings) & set(platform)
    if clash:
        raise OfferingsError(f"keys used both as an offering and a platform answer: {clash}")
    return Catalogue(offerings, platform)


@lru_cache(maxsize=1)
def load_catalogue(path: Path = OFFERINGS_FILE) -> Catalogue:
    with path.open(encoding="utf-8") as handle:
        return parse_catalogue(yaml.safe_load(handle) or {})
