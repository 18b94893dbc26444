"""Live handoff to a sales engineer, end to end: the widget in Chromium, two Rasa
replicas, Slack's Web API stand-in, Redis.

Both replicas share a PostgreSQL tracker store and Redis (lock store and the handoff's
state and deliveries), as in production. The visitor's socket is on replica A; every
Slack event (the engineer's replies, "/done", the button) is delivered to replica B, so
the replies only reach the visitor if the replicas pass them on through Redis.

One conversation goes the whole way (the handoff starts, a reply reaches the widget,
the visitor's reply reaches the thread while the bot is silent, "/done" hands it back);
meanwhile a second one, whose thread nobody answers, runs out its wait and is offered
the lead form.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page

from bot.channels.credentials import effective_credentials
from bot.launcher import ServerProcess
from bot.settings import load_settings
from tests.e2e import test_widget_browser as widget_suite
from tests.e2e.test_slack import SECRET, TOKEN, message_event, signed_headers
from tests.e2e.test_widget_browser import DEMO, REPLY_TIMEOUT_MS, bot_messages, transcript
from tests.support.databases import (
    REDIS_URL,
    fresh_postgres_database,
    redis_client,
    redis_lock_store,
)
from tests.support.fake_slack import FakeSlack
from tests.support.servers import running_servers, start_servers

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.postgres,
              pytest.mark.redis]

playwright = widget_suite.playwright
browser = widget_suite.browser
context = widget_suite.context

SALES = "C0SALES"
ENGINEER = "U0DANA"
WAIT_SECONDS = 10
STARTED = "I'm asking someone from our solutions team"
BACK = "You're back with the assistant"
NO_ANSWER = "nobody from our team is free"
CONSENT = "Happy to connect you with our solutions team"


@dataclass
class Replicas:
    a: ServerProcess  # holds the visitor's socket
    b: ServerProcess  # receives Slack's events


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        fake.user_names[ENGINEER] = "Dana"
        yield fake


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, slack: FakeSlack) -> Iterator[Replicas]:
    workdir = tmp_path_factory.mktemp("handoff")
    prefix = "handoff" + uuid.uuid4().hex[:8]
    redis_at = urlsplit(REDIS_URL)
    env = {"SLACK_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_BASE_URL": slack.base_url, "SLACK_SALES_CHANNEL": SALES,
           "HANDOFF_HOURS": "Mon-Sun 00:00-24:00", "HANDOFF_TIMEZONE": "Europe/Berlin",
           "HANDOFF_WAIT_SECONDS": str(WAIT_SECONDS), "RATE_LIMIT_MESSAGES": "200",
           "REDIS_HOST": redis_at.hostname or "127.0.0.1",
           "REDIS_PORT": str(redis_at.port or 6379), "REDIS_KEY_PREFIX": prefix}
    credentials = effective_credentials(load_settings(env))
    with fresh_postgres_database("test_handoff") as database, ExitStack() as servers:
        stores = {"tracker_store": database.tracker_store(),
                  "lock_store": redis_lock_store(prefix)}
        # Replica B is launched before replica A is waited for: the model loads overlap.
        replica_b = servers.enter_context(start_servers(
            workdir / "b", env=env, credentials=credentials, wait=False, **stores))
        replica_a = servers.enter_context(
            running_servers(workdir / "a", env=env, credentials=credentials, **stores))
        replica_b.wait_ready()
        yield Replicas(replica_a.rasa, replica_b.rasa)
    client = redis_client()
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


# ---- Slack, as a sales engineer uses it ---------------------------------------------------

def thread_starts(slack: FakeSlack) -> list[dict[str, Any]]:
    """The handoff threads' first messages in the sales channel, oldest first."""
    return [m for m in slack.messages(SALES) if not m.get("thread_ts")]


def wait_for_thread(slack: FakeSlack, count: int) -> str:
    assert slack.wait_for(lambda _: len(thread_starts(slack)) >= count, 20), (
        f"no handoff thread #{count} in the sales channel: {slack.messages(SALES)}")
    return str(thread_starts(slack)[count - 1]["ts"])


def wait_for_reply(slack: FakeSlack, thread_ts: str, needle: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next((m for m in slack.replies(SALES, thread_ts)
                     if m.get("thread_ts") == thread_ts and needle in str(m.get("text"))),
                    None)

    assert slack.wait_for(lambda _: found() is not None, 20), (
        f"{needle!r} never reached the thread: {slack.replies(SALES, thread_ts)}")
    message = found()
    assert message is not None
    return message


def post_signed(server: ServerProcess, body: bytes, content_type: str) -> None:
    answer = requests.post(server.url + "/webhooks/slack/webhook", data=body, timeout=10,
                           headers=signed_headers(body, content_type))
    assert answer.status_code == 200, answer.text


def engineer_writes(server: ServerProcess, thread_ts: str, text: str) -> None:
    envelope = message_event(text, ENGINEER, SALES, channel_type="channel")
    envelope["event"]["thread_ts"] = thread_ts
    post_signed(server, json.dumps(envelope).encode(), "application/json")


# ---- the widget ---------------------------------------------------------------------------

def open_chat(context: BrowserContext, server: ServerProcess) -> Page:
    page = context.new_page()
    page.goto(server.url + DEMO)
    page.click(".ca-launcher")
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)
    return page


def say(page: Page, text: str) -> None:
    page.fill("#ca-input", text)
    page.press("#ca-input", "Enter")


def wait_for_bot_text(page: Page, text: str) -> None:
    page.locator(".ca-log .ca-bot", has_text=text).last.wait_for(timeout=REPLY_TIMEOUT_MS)


def click_end_button(server: ServerProcess, slack: FakeSlack, thread_ts: str) -> None:
    """A sales engineer presses the thread's "End handoff" button."""
    opening = next(m for m in slack.messages(SALES) if m["ts"] == thread_ts)
    button = next(b for b in opening["blocks"] if b["type"] == "actions")["elements"][0]
    payload = {"type": "block_actions", "user": {"id": ENGINEER, "name": "dana"},
               "channel": {"id": SALES}, "message": {"ts": thread_ts,
                                                     "blocks": opening["blocks"]},
               "trigger_id": uuid.uuid4().hex,
               "actions": [{"action_id": button["action_id"], "value": button["value"],
                            "type": "button", "text": button["text"],
                            "action_ts": f"{time.time():.6f}"}]}
    post_signed(server, urlencode({"payload": json.dumps(payload)}).encode(),
                "application/x-www-form-urlencoded")


def test_a_sales_engineer_takes_over_from_slack_and_gives_it_back(
    replicas: Replicas, slack: FakeSlack, browser: Browser, context: BrowserContext
) -> None:
    # Another visitor (their own browser) asks first; nobody will answer them.
    other_browser = browser.new_context()
    unanswered = open_chat(other_browser, replicas.a)
    say(unanswered, "talk to a person")
    wait_for_bot_text(unanswered, STARTED)
    unanswered_thread = wait_for_thread(slack, 1)
    asked_at = time.monotonic()

    # The handoff starts: the bot says so and a thread opens in the sales channel.
    page = context.new_page()
    errors = widget_suite.watch_errors(page)
    page.goto(replicas.a.url + DEMO)
    page.click(".ca-launcher")
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)
    say(page, "can I talk to a human?")
    wait_for_bot_text(page, STARTED)
    thread = wait_for_thread(slack, 2)
    opening = thread_starts(slack)[1]
    assert "can I talk to a human?" in json.dumps(opening["blocks"])

    # The engineer's reply, delivered to the other replica, reaches the widget at once.
    engineer_writes(replicas.b, thread, "Hi, I'm Dana from the solutions team. How can I help?")
    wait_for_bot_text(page, "I'm Dana from the solutions team")
    assert "You're talking to Dana" in page.inner_text(".ca-subtitle")
    assert page.locator(".ca-bot .ca-from", has_text="Dana").count() == 1
    # A reload is not leaving: the handoff goes on, and the widget still says who is there.
    page.reload()
    page.wait_for_selector(".ca-send:not([disabled])", timeout=REPLY_TIMEOUT_MS)
    page.wait_for_function("() => document.querySelector('.ca-subtitle').textContent"
                           ".includes(\"You're talking to Dana\")", timeout=REPLY_TIMEOUT_MS)

    # The visitor's reply goes to the thread, and the bot stays silent.
    quiet_from = bot_messages(page)
    say(page, "We run 40 VMs on ESXi and want to move some to containers")
    wait_for_reply(slack, thread, "*Visitor:* We run 40 VMs on ESXi")
    time.sleep(1.5)
    assert bot_messages(page) == quiet_from, transcript(page)

    # "/done" in the thread hands the conversation back; the bot answers again.
    engineer_writes(replicas.b, thread, "/done")
    wait_for_bot_text(page, BACK)
    wait_for_reply(slack, thread, "Handoff ended by the sales engineer")
    before = bot_messages(page)
    say(page, widget_suite.QUESTION)
    page.wait_for_function(
        f"() => document.querySelectorAll('.ca-log .ca-bot').length > {before}",
        timeout=REPLY_TIMEOUT_MS)
    assert BACK not in page.locator(".ca-log .ca-bot").last.inner_text()

    # Asked again, the visitor is handed over again; the thread's button ends it too.
    say(page, "can I talk to a human?")
    second_thread = wait_for_thread(slack, 3)
    click_end_button(replicas.b, slack, second_thread)
    wait_for_reply(slack, second_thread, f"Handoff ended by <@{ENGINEER}>")
    # The widget hears it through Redis and the visitor's replica, which may come after
    # the thread's note: wait for the second notice, then check there is no third.
    back_notices = page.locator(".ca-log .ca-bot", has_text=BACK)
    back_notices.nth(1).wait_for(timeout=REPLY_TIMEOUT_MS)
    assert back_notices.count() == 2
    assert errors == [], errors

    # The first visitor's wait ran out: the bot says so and offers the lead form.
    wait_for_bot_text(unanswered, NO_ANSWER)
    assert time.monotonic() - asked_at >= WAIT_SECONDS - 1
    wait_for_reply(slack, unanswered_thread, "Nobody answered in time")
    unanswered.get_by_role("button", name="Leave my details").last.click()
    wait_for_bot_text(unanswered, CONSENT)
    # A late reply in that thread no longer reaches the visitor.
    shown = bot_messages(unanswered)
    engineer_writes(replicas.b, unanswered_thread, "Sorry, I'm here now")
    time.sleep(1.0)
    assert bot_messages(unanswered) == shown
    other_browser.close()
