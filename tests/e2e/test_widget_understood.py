"""The scorecard's "What I understood" in a real browser: a click changes an answer.

After a recommendation the widget lists the profile as understood (said or assumed); a
click on an item shows its other options, and choosing one corrects that answer, so the
assistant says what changed and draws a new scorecard.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.e2e.test_widget_browser import (
    CHROMIUM,
    REPLY_TIMEOUT_MS,
    ask,
    open_widget,
    transcript,
    watch_errors,
)
from tests.support.servers import AssistantServers, running_servers

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantServers]:
    with running_servers(tmp_path_factory.mktemp("understood"),
                         env={"RATE_LIMIT_MESSAGES": "200"}) as started:
        yield started


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context
    context.close()


def test_a_click_on_what_i_understood_changes_the_answer(
    servers: AssistantServers, context: BrowserContext
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
