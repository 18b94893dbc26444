"""The website widget in a real browser (Debian's chromium through Playwright).

A real Rasa server and action server run the trained model (`TEST_MODEL`, or the newest
`models/*.tar.gz`); the browser opens the demo product page the server itself serves.
The screenshots go to `tests/artifacts/` (`widget-result.png`, `widget-phone.png`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from bot.launcher import Stack
from tests.support.servers import free_port, running_servers

pytestmark = [pytest.mark.browser, pytest.mark.server]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
DEMO = "/webhooks/widget/demo"
QUESTION = "What is the difference between a virtual machine and a container?"
REPLY_TIMEOUT_MS = 30_000
# Any enabled quick reply in the newest group, or a drawn scorecard.
NEXT_STEP_JS = """() => document.querySelector('.ca-scorecard') ||
  document.querySelector('.ca-quick-replies:not(.ca-used) .ca-quick-reply:not(:disabled)')"""


EMBED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>A customer's own page</title></head>
<body><h1>Our static page</h1>
<script>window.CloudAdvisorConfig = {title: "Ask us", greeting: "Hello from the embed!",
  position: "left", colors: {primary: "#7a1fa2"}};</script>
<script src="%s/webhooks/widget/static/widget.js" defer></script>
</body></html>"""


@dataclass
class StaticSite:
    """A plain static web server on 127.0.0.1 (another origin than the assistant)."""

    server: ThreadingHTTPServer
    root: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def static_site(root: Path) -> Iterator[StaticSite]:
    root.mkdir(parents=True, exist_ok=True)

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield StaticSite(server, root)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def customer_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    """A static page on an allowed origin that embeds the widget with one script tag."""
    with static_site(tmp_path_factory.mktemp("customer-site")) as site:
        yield site


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory,
            customer_site: StaticSite) -> Iterator[Stack]:
    env = {"RATE_LIMIT_MESSAGES": "200", "ALLOWED_ORIGINS": customer_site.origin}
    with running_servers(tmp_path_factory.mktemp("widget"), env=env,
                         cors=[customer_site.origin]) as started:
        (customer_site.root / "index.html").write_text(EMBED_PAGE % started.url)
        yield started


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context
    context.close()


def watch_errors(page: Page) -> list[str]:
    """Collect page errors and failed requests: the widget must produce none."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}")
            if msg.type == "error" else None)
    return errors


def open_widget(page: Page, servers: Stack) -> None:
    page.goto(servers.url + DEMO)
    page.click(".ca-launcher")
    page.wait_for_selector(".ca-panel:not([hidden])")
    # Connected and confirmed: the send button is enabled.
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)


def bot_messages(page: Page) -> int:
    return page.locator(".ca-log .ca-bot").count()


def ask(page: Page, text: str) -> None:
    """Type a message and wait for at least one new bot message."""
    before = bot_messages(page)
    page.fill("#ca-input", text)
    page.press("#ca-input", "Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.ca-log .ca-bot').length > {before}",
                           timeout=REPLY_TIMEOUT_MS)


def transcript(page: Page) -> str:
    return page.inner_text(".ca-log")


def complete_advisor(page: Page, max_steps: int = 15) -> list[str]:
    """Start the advisor from the greeting and answer every question with a button.

    Returns:
        The titles of the buttons clicked, in order.
    """
    page.get_by_role("button", name="Recommend for my workload").first.click()
    clicked = ["Recommend for my workload"]
    for _ in range(max_steps):
        page.wait_for_function(NEXT_STEP_JS, timeout=REPLY_TIMEOUT_MS)
        if page.locator(".ca-scorecard").count():
            return clicked
        choice = page.locator(
            ".ca-quick-replies:not(.ca-used) .ca-quick-reply:not(:disabled)").first
        clicked.append(choice.inner_text())
        choice.click()
    raise AssertionError(f"no scorecard after {max_steps} answers {clicked}:\n"
                         f"{transcript(page)}")


def test_whole_conversation_with_advisor_scorecard_and_history(
    servers: Stack, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = watch_errors(page)
    open_widget(page, servers)
    assert page.get_attribute(".ca-launcher", "aria-expanded") == "true"
    assert page.locator(".ca-log .ca-bot").count() >= 1  # the greeting

    # The advisor, started from the greeting's suggestion and answered through its
    # buttons, ends with the scorecard.
    clicked = complete_advisor(page)
    card = page.locator(".ca-scorecard").first
    card.wait_for()
    page.wait_for_selector(".ca-typing", state="hidden", timeout=REPLY_TIMEOUT_MS)
    verdict = card.locator(".ca-verdict").inner_text()
    assert verdict.strip(), transcript(page)
    factors = card.locator(".ca-factor")
    assert factors.count() >= 1
    widths = [factors.nth(i).locator(".ca-bar-fill").evaluate(
        "el => el.getBoundingClientRect().width") for i in range(factors.count())]
    values = [factors.nth(i).locator(".ca-factor-value").inner_text()
              for i in range(factors.count())]
    # A bar for every factor that weighed in (and only those).
    assert all(w > 0 for w in widths) and "0.0" not in values, values
    assert max(widths) > 20
    labels = [factors.nth(i).locator(".ca-bar").get_attribute("aria-label")
              for i in range(factors.count())]
    assert all(label and "weight" in label for label in labels)
    # Every clicked button was answered and shows as the visitor's message.
    for title in clicked:
        assert page.locator(".ca-user .ca-bubble", has_text=title).count() >= 1
    card.evaluate("el => el.scrollIntoView({block: 'start'})")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-result.png"))

    # A question in the visitor's own words gets an answer.
    ask(page, QUESTION)
    assert page.locator(".ca-user .ca-bubble", has_text=QUESTION).count() == 1
    answer = page.locator(".ca-log .ca-bot").last.inner_text()
    assert len(answer.strip()) > 20, transcript(page)
    page.wait_for_selector(".ca-typing", state="hidden", timeout=REPLY_TIMEOUT_MS)

    # A reload continues the same conversation and shows its history.
    session_id = page.evaluate("() => window.CloudAdvisor.sessionId()")
    assert re.fullmatch(r"[0-9a-f]{32}", session_id)
    page.reload()
    page.wait_for_selector(".ca-panel:not([hidden])")  # it stays open across a reload
    page.wait_for_selector(".ca-scorecard", timeout=REPLY_TIMEOUT_MS)
    assert page.evaluate("() => window.CloudAdvisor.sessionId()") == session_id
    assert page.locator(".ca-user .ca-bubble", has_text=QUESTION).count() == 1
    assert page.locator(".ca-scorecard .ca-verdict").first.inner_text() == verdict
    assert page.locator(".ca-user .ca-bubble", has_text=clicked[-1]).count() >= 1

    # So does a new tab.
    other = context.new_page()
    open_widget(other, servers)
    other.wait_for_selector(".ca-scorecard", timeout=REPLY_TIMEOUT_MS)
    assert other.evaluate("() => window.CloudAdvisor.sessionId()") == session_id
    assert other.locator(".ca-user .ca-bubble", has_text=QUESTION).count() == 1
    assert errors == [], errors


def test_keyboard_only(servers: Stack, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(servers.url + DEMO)
    page.wait_for_selector(".ca-launcher")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('ca-launcher')"):
            break
    else:
        raise AssertionError("the launcher cannot be reached with Tab")
    # Focus is visible on the launcher.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ca-panel:not([hidden])")
    assert page.evaluate("() => document.activeElement.id") == "ca-input"
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)

    # New messages are announced: the conversation is a polite live region.
    assert page.get_attribute(".ca-log", "role") == "log"
    assert page.get_attribute(".ca-log", "aria-live") == "polite"
    assert page.get_attribute(".ca-panel", "role") == "dialog"

    before = bot_messages(page)
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.ca-log .ca-bot').length > {before}",
                           timeout=REPLY_TIMEOUT_MS)
    page.wait_for_selector(".ca-typing", state="hidden", timeout=REPLY_TIMEOUT_MS)

    # A quick reply is reachable and usable from the keyboard (Shift+Tab back from the
    # input into the conversation), when the answer offered one.
    if page.locator(".ca-quick-replies:not(.ca-used) .ca-quick-reply").count():
        for _ in range(30):
            page.keyboard.press("Shift+Tab")
            if page.evaluate("() => document.activeElement.classList.contains('ca-quick-reply')"):
                break
        else:
            raise AssertionError("no quick reply reachable with Shift+Tab")
        title = page.evaluate("() => document.activeElement.textContent")
        before = bot_messages(page)
        page.keyboard.press("Enter")
        page.wait_for_function(
            f"() => document.querySelectorAll('.ca-log .ca-bot').length > {before}",
            timeout=REPLY_TIMEOUT_MS)
        assert page.locator(".ca-user .ca-bubble", has_text=title).count() >= 1
        assert page.evaluate("() => document.activeElement.id") == "ca-input"

    # Escape closes the panel and gives focus back to the launcher.
    page.keyboard.press("Escape")
    page.wait_for_selector(".ca-panel", state="hidden")
    assert page.evaluate("() => document.activeElement.classList.contains('ca-launcher')")
    assert page.get_attribute(".ca-launcher", "aria-expanded") == "false"


def test_phone_sized_screen(servers: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(servers.url + DEMO)
        page.tap(".ca-launcher")
        page.wait_for_selector(".ca-panel:not([hidden])")
        page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)
        box = page.locator(".ca-panel").bounding_box()
        assert box is not None
        # The panel takes the whole screen.
        assert (box["x"], box["y"]) == (0, 0)
        assert box["width"] == pytest.approx(390, abs=1)
        assert box["height"] == pytest.approx(844, abs=1)
        ask(page, QUESTION)
        page.wait_for_selector(".ca-typing", state="hidden", timeout=REPLY_TIMEOUT_MS)
        # Nothing sticks out sideways, and the input and send button are on screen.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        for selector in ("#ca-input", ".ca-send", ".ca-close"):
            element = page.locator(selector).bounding_box()
            assert element is not None
            assert element["x"] >= 0 and element["x"] + element["width"] <= 390
            assert element["y"] >= 0 and element["y"] + element["height"] <= 844
        # Fields are at least 16px so phones do not zoom into them.
        assert page.evaluate("() => parseFloat(getComputedStyle("
                             "document.querySelector('#ca-input')).fontSize)") >= 16
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))
        page.tap(".ca-close")
        page.wait_for_selector(".ca-panel", state="hidden")
        assert page.locator(".ca-launcher").is_visible()
    finally:
        context.close()


def test_visitor_text_is_never_markup(servers: Stack,
                                      context: BrowserContext) -> None:
    page = context.new_page()
    open_widget(page, servers)
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    ask(page, attack)
    bubble = page.locator(".ca-user .ca-bubble").last
    assert bubble.inner_text() == attack
    assert bubble.locator("img, script").count() == 0
    page.reload()
    page.wait_for_selector(".ca-user .ca-bubble", timeout=REPLY_TIMEOUT_MS)
    assert page.locator(".ca-user .ca-bubble").last.inner_text() == attack
    assert page.locator(".ca-log img, .ca-log script").count() == 0
    assert page.evaluate("() => window.__pwned") is None


RENDER_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>
  // A stand-in socket: the widget talks to it instead of the server, so the test can
  // hand the widget any message and see how it is drawn.
  window.__sent = [];
  window.io = function () {
    var handlers = {};
    var socket = {
      connected: true,
      on: function (name, fn) { handlers[name] = fn; },
      emit: function (name, data) {
        window.__sent.push([name, data]);
        if (name === "session_request") {
          setTimeout(function () { handlers.session_confirm("f".repeat(32)); }, 0);
        }
      }
    };
    window.__deliver = function (name, data) { handlers[name](data); };
    setTimeout(function () { handlers.connect(); }, 0);
    return socket;
  };
  window.CloudAdvisorConfig = { title: "Render test", openOnLoad: true };
</script>
<script src="/webhooks/widget/static/widget.js"></script>
</body></html>"""


def test_bot_messages_render_links_and_scorecard_safely(
    servers: Stack, context: BrowserContext
) -> None:
    page = context.new_page()
    url = servers.url + "/render-test"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html",
                                                body=RENDER_PAGE))
    page.goto(url)
    page.wait_for_selector(".ca-send:not([disabled])")
    page.evaluate("""() => window.__deliver('bot_uttered', {
      text: 'See [the docs](https://example.com/docs?a=1&b=2) or https://example.com/x.\\n\\n'
          + '[click](javascript:window.__pwned=1) <b>not bold</b> **bold**\\n\\n- one\\n- two',
      buttons: [{title: '<i>Yes</i>', payload: '/affirm'}],
      custom: {scorecard: {verdict: 'hybrid', hybrid_kind: 'containers_on_vms',
        confidence: 0.72, offering: {name: 'Nimbus <Kubernetes>', summary: 'on <i>VMs</i>'},
        factors: [{fact: 'b', label: '<em>Kernel</em>', contribution: -1, assumed: true},
                  {fact: 'a', label: 'Fast start', contribution: 2, assumed: false}]}},
      timestamp: 1
    })""")
    message = page.locator(".ca-bot").last
    links = message.locator("a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == ["https://example.com/docs?a=1&b=2", "https://example.com/x"]
    assert all(links.nth(i).get_attribute("rel") == "noopener noreferrer nofollow"
               for i in range(links.count()))
    assert "javascript" not in message.inner_html().split("click")[0]
    assert message.locator("b, em, i, script").count() == 0
    assert message.locator("strong", has_text="bold").count() == 1
    assert message.locator(".ca-text li").count() == 2
    assert message.locator(".ca-quick-reply").inner_text() == "<i>Yes</i>"
    card = message.locator(".ca-scorecard")
    assert card.locator(".ca-verdict").inner_text() == "Hybrid: containers and virtual machines"
    assert card.locator(".ca-hybrid-kind").inner_text() == "Containers on vms"  # no title
    assert card.locator(".ca-confidence-value").inner_text() == "72%"
    assert card.locator(".ca-offering strong").inner_text() == "Nimbus <Kubernetes>"
    assert card.locator(".ca-offering-summary").inner_text() == "on <i>VMs</i>"
    # Strongest factor first; containers grow left of the middle line, VMs right.
    factors = card.locator(".ca-factor")
    assert factors.nth(0).get_attribute("class") == "ca-factor ca-toward-vms"
    assert factors.nth(1).get_attribute("class") == "ca-factor ca-toward-containers"
    assert factors.nth(1).locator(".ca-factor-label").inner_text() == "<em>Kernel</em> (assumed)"
    boxes = [(factors.nth(i).locator(".ca-bar").bounding_box(),
              factors.nth(i).locator(".ca-bar-fill").bounding_box()) for i in range(2)]
    (track, vms), (_, containers) = boxes
    assert track and vms and containers
    middle = track["x"] + track["width"] / 2
    assert vms["x"] == pytest.approx(middle, abs=1.5)
    assert containers["x"] + containers["width"] == pytest.approx(middle, abs=1.5)
    assert containers["width"] == pytest.approx(vms["width"] / 2, rel=0.1)
    assert "favours containers" in (factors.nth(1).locator(".ca-bar").get_attribute(
        "aria-label") or "")

    # The typing indicator follows the server's `bot_typing` events, and says so to
    # screen readers.
    page.evaluate("() => window.__deliver('bot_typing', {typing: true})")
    assert page.locator(".ca-typing").is_visible()
    assert "is typing" in page.locator(".ca-typing").inner_text()
    page.evaluate("() => window.__deliver('bot_typing', {typing: false})")
    assert page.locator(".ca-typing").is_hidden()

    # The email contract: `{"input": "email"}` switches the next answer to an email field.
    page.evaluate("""() => window.__deliver('bot_uttered',
      {text: 'Your work email?', custom: {input: 'email'}})""")
    assert page.get_attribute("#ca-input", "type") == "email"
    assert page.get_attribute("#ca-input", "autocomplete") == "email"
    page.fill("#ca-input", "no thanks")  # not an address: still sent (no browser blocking)
    page.press("#ca-input", "Enter")
    assert page.evaluate("() => window.__sent.at(-1)")[1]["message"] == "no thanks"
    assert page.get_attribute("#ca-input", "type") == "text"
    # ... and so does the response `utter_ask_email`.
    page.evaluate("""() => window.__deliver('bot_uttered',
      {text: 'Email?', utter_action: 'utter_ask_email'})""")
    assert page.get_attribute("#ca-input", "type") == "email"
    assert page.evaluate("() => window.__pwned") is None


def test_embedded_in_another_sites_static_page(
    servers: Stack, customer_site: StaticSite, context: BrowserContext,
    tmp_path: Path,
) -> None:
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(customer_site.origin + "/index.html")
    launcher = page.locator(".ca-launcher")
    launcher.click()
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)
    assert page.locator(".ca-title").inner_text() == "Ask us"
    assert "Hello from the embed!" in transcript(page)
    # The config's colours and position are applied.
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(122, 31, 162)"
    box = launcher.bounding_box()
    assert box is not None and box["x"] < 100
    ask(page, QUESTION)
    page.wait_for_selector(".ca-typing", state="hidden", timeout=REPLY_TIMEOUT_MS)
    page.reload()
    page.wait_for_selector(".ca-user .ca-bubble", timeout=REPLY_TIMEOUT_MS)
    assert page.locator(".ca-user .ca-bubble", has_text=QUESTION).count() == 1
    assert errors == [], errors

    # The same page on an origin that is not allowed gets no conversation.
    with static_site(tmp_path / "other-site") as other:
        (other.root / "index.html").write_text(EMBED_PAGE % servers.url)
        intruder = context.new_page()
        intruder.goto(other.origin + "/index.html")
        intruder.click(".ca-launcher")
        intruder.wait_for_selector(".ca-offline:not([hidden])", timeout=15_000)
        assert intruder.is_disabled(".ca-send")


def test_offline_notice_and_reconnect(servers: Stack,
                                      context: BrowserContext) -> None:
    """Runs last in this module: it restarts the Rasa server."""
    page = context.new_page()
    open_widget(page, servers)
    ask(page, QUESTION)
    page.wait_for_selector(".ca-typing", state="hidden", timeout=REPLY_TIMEOUT_MS)
    assert page.locator(".ca-offline").is_hidden()

    servers.rasa.stop()
    page.wait_for_selector(".ca-offline:not([hidden])", timeout=15_000)
    assert "offline" in page.inner_text(".ca-offline").lower()
    assert page.is_disabled(".ca-send")
    assert page.get_attribute(".ca-offline", "role") == "status"

    servers.restart_rasa()
    page.wait_for_selector(".ca-offline", state="hidden", timeout=60_000)
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)
    ask(page, "Which one starts faster?")
    # The earlier part of the conversation is still there, once.
    assert page.locator(".ca-user .ca-bubble", has_text=QUESTION).count() == 1


def test_specific_questions_get_specific_answers_and_more_on_the_topic(
    servers: Stack, context: BrowserContext
) -> None:
    answers = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "responses"
                              / "faq.yml").read_text())["responses"]

    def first_line(key: str) -> str:
        # The widget renders the answer's text; compare its opening words.
        return " ".join(str(answers[f"utter_{key}"][0]["text"]).split()[:8])

    page = context.new_page()
    errors = watch_errors(page)
    open_widget(page, servers)
    ask(page, "How come docker images are so much smaller than VM images?")
    assert first_line("ask_container_definition/image_size") in transcript(page)
    ask(page, "What is Firecracker?")
    assert first_line("ask_both_together/firecracker") in transcript(page)
    before = bot_messages(page)
    page.get_by_role("button", name="More on running both").last.click()
    page.wait_for_function(
        f"() => document.querySelectorAll('.ca-log .ca-bot').length > {before}",
        timeout=REPLY_TIMEOUT_MS)
    assert first_line("ask_both_together/general") in transcript(page)
    ask(page, "do you guys offer managed kubernetes?")
    assert "Managed Kubernetes Service" in page.locator(".ca-log .ca-bot").last.inner_text()
    assert not errors, errors


# "What I understood": after a recommendation the widget lists the profile as understood
# (said or assumed); a click on an item shows its other options, and choosing one
# corrects that answer, so the assistant says what changed and draws a new scorecard.
def test_a_click_on_what_i_understood_changes_the_answer(
    servers: Stack, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = watch_errors(page)
    open_widget(page, servers)
    ask(page, "We run 40 small Linux services written by our own team, we know docker well, "
              "nothing is stateful and nothing is legacy")
    for _ in range(8):
        if page.locator(".ca-scorecard").count():
            break
        page.locator(".ca-quick-replies:not(.ca-used) .ca-quick-reply:not(:disabled)",
                     has_text="Not sure").first.click()
        page.wait_for_function(
            "() => document.querySelector('.ca-scorecard') || document.querySelector("
            "'.ca-quick-replies:not(.ca-used) .ca-quick-reply:not(:disabled)')",
            timeout=REPLY_TIMEOUT_MS)
    understood = page.locator(".ca-understood").last
    understood.wait_for(timeout=REPLY_TIMEOUT_MS)
    understood.locator("summary").click()
    os_item = understood.locator(".ca-understood-item", has_text="Linux").first
    assert "you said" in os_item.inner_text(), transcript(page)

    cards = page.locator(".ca-scorecard").count()
    os_item.locator(".ca-understood-label").click()
    os_item.locator(".ca-understood-options .ca-quick-reply",
                    has_text="everything runs on Windows").click()
    try:
        page.wait_for_function(
            f"() => document.querySelectorAll('.ca-scorecard').length > {cards}",
            timeout=REPLY_TIMEOUT_MS)
    except Exception as exc:
        raise AssertionError(f"no new scorecard:\n{transcript(page)[-1500:]}") from exc
    said = transcript(page)
    assert "updated your answers" in said and "Windows" in said, said
    assert not errors, errors
