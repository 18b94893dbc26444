"""Slack against the real server: requests built as Slack builds them, a fake Web API.

The Rasa server runs the project's Slack credentials (`deploy/credentials.slack.yml`,
merged by `bot.channels.credentials`) with `SLACK_API_BASE_URL` pointing at
`tests.support.fake_slack.FakeSlack`, a real HTTP server on 127.0.0.1 that records
`chat.postMessage`. The action server is `tests.support.slow_actions`: the fallback
action takes 5 seconds, to prove the webhook still answers Slack within 3.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from bot.channels.credentials import effective_credentials
from bot.channels.slack_signature import sign
from bot.launcher import Stack
from bot.settings import load_settings
from tests.support.fake_slack import ApiCall, FakeSlack
from tests.support.servers import running_servers

pytestmark = [pytest.mark.server]

TOKEN = "e2e-test-bot-token"
SECRET = "e2e-signing-secret-0123456789abcdef"
TEAM = "T0E2ETEST"
BOT_USER = "U0BOTUSER"
SLOW_SECONDS = 5.0
# Rasa reads `/intent` as that intent: this turn always runs the (slowed) fallback action,
# whatever the NLU model makes of words.
SLOW_TURN = "/nlu_fallback"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory,
            slack: FakeSlack) -> Iterator[Stack]:
    env = {"SLACK_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_BASE_URL": slack.base_url, "RATE_LIMIT_MESSAGES": "200"}
    credentials = effective_credentials(load_settings(env))
    assert "${SLACK_TOKEN}" in json.dumps(credentials)  # the real file, secrets by reference
    with running_servers(
        tmp_path_factory.mktemp("slack"),
        credentials=credentials,
        env=env,
        actions_package="tests.support.slow_actions",
        action_env={"SLOW_ACTION_SECONDS": str(SLOW_SECONDS),
                    "SLOW_ACTIONS": "action_default_fallback_with_topics"},
    ) as started:
        yield started


# ---- requests as Slack builds them --------------------------------------------------------

def slack_ts() -> str:
    return f"{time.time():.6f}"


def signed_headers(body: bytes, content_type: str, secret: str = SECRET,
                   timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(secret, stamp, body),
    }


def message_event(text: str, user: str, channel: str, *, channel_type: str = "im",
                  event_type: str = "message", ts: str | None = None) -> dict[str, Any]:
    """An Events API `event_callback` envelope for a user's message."""
    ts = ts or slack_ts()
    return {
        "token": "verification-token-unused",
        "team_id": TEAM,
        "api_app_id": "A0E2ETEST",
        "event": {
            "client_msg_id": str(uuid.uuid4()),
            "type": event_type,
            "text": text,
            "user": user,
            "ts": ts,
            "team": TEAM,
            "blocks": [],
            "channel": channel,
            "event_ts": ts,
            "channel_type": channel_type,
        },
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }


def block_action(post: ApiCall, index: int, user: str) -> dict[str, Any]:
    """An Interactivity `block_actions` payload: `user` clicks button `index` of `post`."""
    actions = next(b for b in post.args["blocks"] if b["type"] == "actions")
    button = actions["elements"][index]
    channel = post.args["channel"]
    thread_ts = post.args.get("thread_ts")
    message = {"type": "message", "user": BOT_USER, "bot_id": "B0E2EBOT", "ts": post.ts,
               "text": post.args.get("text", ""), "blocks": post.args["blocks"],
               "thread_ts": thread_ts}
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "visitor", "name": "visitor", "team_id": TEAM},
        "api_app_id": "A0E2ETEST",
        "token": "verification-token-unused",
        "container": {"type": "message", "message_ts": post.ts, "channel_id": channel,
                      "is_ephemeral": False, "thread_ts": thread_ts},
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}",
        "team": {"id": TEAM, "domain": "e2e"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "state": {"values": {}},
        "response_url": "https://hooks.slack.invalid/actions/T0/1/x",
        "actions": [{"action_id": button["action_id"], "block_id": actions.get("block_id", ""),
                     "text": button["text"], "value": button["value"], "type": "button",
                     "action_ts": slack_ts()}],
    }


def post_to_slack_webhook(servers: Stack, body: bytes,
                          headers: dict[str, str]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = requests.post(servers.url + "/webhooks/slack/webhook", data=body, headers=headers,
                           timeout=10)
    return answer, time.monotonic() - started


def send_event(servers: Stack, envelope: dict[str, Any],
               extra_headers: dict[str, str] | None = None) -> tuple[requests.Response, float]:
    body = json.dumps(envelope).encode()
    headers = {**signed_headers(body, "application/json"), **(extra_headers or {})}
    return post_to_slack_webhook(servers, body, headers)


def send_click(servers: Stack, payload: dict[str, Any]
               ) -> tuple[requests.Response, float]:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return post_to_slack_webhook(
        servers, body, signed_headers(body, "application/x-www-form-urlencoded"))


def settled_posts(slack: FakeSlack, channel: str, at_least: int = 1, quiet: float = 2.0,
                  timeout: float = 40.0) -> list[ApiCall]:
    """The posts to `channel` once at least `at_least` came and none for `quiet` seconds."""
    def posts() -> list[ApiCall]:
        return [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == channel]

    assert slack.wait_for(lambda _: len(posts()) >= at_least, timeout), (
        f"fewer than {at_least} posts to {channel}: {[p.args.get('text') for p in posts()]}")
    count = len(posts())
    while True:
        time.sleep(quiet)
        if len(posts()) == count:
            return posts()
        count = len(posts())


def new_ids(prefix: str) -> tuple[str, str]:
    """A fresh user id and DM channel id, so tests do not share conversations."""
    tag = uuid.uuid4().hex[:8].upper()
    return f"U{prefix}{tag}", f"D{prefix}{tag}"


# ---- tests ------------------------------------------------------------------------------------

def test_url_verification_challenge(servers: Stack) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    answer, _ = send_event(servers, {"token": "x", "challenge": challenge,
                                     "type": "url_verification"})
    assert answer.status_code == 200
    assert answer.json() == {"challenge": challenge}


def test_one_reply_per_event_in_its_thread_even_with_retries(
    servers: Stack, slack: FakeSlack
) -> None:
    # What one delivery of "hello" produces.
    user, channel = new_ids("CTL")
    answer, _ = send_event(servers, message_event("hello", user, channel))
    assert answer.status_code == 200
    expected = [c.args.get("text") for c in settled_posts(slack, channel)]

    # The same event delivered again by Slack's retries, and once more without a header.
    user, channel = new_ids("RTR")
    envelope = message_event("hello", user, channel)
    first, elapsed = send_event(servers, envelope)
    assert first.status_code == 200 and elapsed < 3.0
    for retry, reason in (("1", "http_timeout"), ("2", "http_error")):
        answer, elapsed = send_event(servers, envelope, {"X-Slack-Retry-Num": retry,
                                                         "X-Slack-Retry-Reason": reason})
        assert answer.status_code == 200 and elapsed < 3.0
    duplicate, _ = send_event(servers, envelope)
    assert duplicate.status_code == 200

    posts = settled_posts(slack, channel, quiet=3.0)
    assert [c.args.get("text") for c in posts] == expected
    # Every reply is in the thread of the visitor's message.
    assert {c.args.get("thread_ts") for c in posts} == {envelope["event"]["ts"]}


def test_a_retry_whose_first_delivery_was_lost_is_answered_once(
    servers: Stack, slack: FakeSlack
) -> None:
    control_user, control_channel = new_ids("LCT")
    send_event(servers, message_event("hello", control_user, control_channel))
    expected = [c.args.get("text") for c in settled_posts(slack, control_channel)]

    user, channel = new_ids("LST")
    envelope = message_event("hello", user, channel)
    for retry in ("1", "2"):
        answer, elapsed = send_event(servers, envelope, {"X-Slack-Retry-Num": retry,
                                                         "X-Slack-Retry-Reason": "http_error"})
        assert answer.status_code == 200 and elapsed < 3.0
    posts = settled_posts(slack, channel, quiet=3.0)
    assert expected and [c.args.get("text") for c in posts] == expected


def test_a_mention_delivered_twice_is_answered_once(
    servers: Stack, slack: FakeSlack
) -> None:
    user = new_ids("MEN")[0]
    channel = "C" + uuid.uuid4().hex[:9].upper()
    ts = slack_ts()
    text = f"<@{BOT_USER}> hello"
    # Slack sends `message` (channel_type channel) and `app_mention` for one message.
    as_message = message_event(text, user, channel, channel_type="channel", ts=ts)
    as_mention = message_event(text, user, channel, event_type="app_mention", ts=ts)
    del as_mention["event"]["channel_type"]
    for envelope in (as_message, as_mention):
        answer, _ = send_event(servers, envelope)
        assert answer.status_code == 200
    posts = settled_posts(slack, channel, quiet=3.0)
    control_user, control_channel = new_ids("MCT")
    send_event(servers, message_event("hello", control_user, control_channel))
    assert len(posts) == len(settled_posts(slack, control_channel))
    assert {c.args.get("thread_ts") for c in posts} == {ts}


def test_forged_stale_and_unsigned_requests_are_refused_without_logging_content(
    servers: Stack, slack: FakeSlack
) -> None:
    marker = "SECRET-CONTENT-" + uuid.uuid4().hex
    user, channel = new_ids("BAD")
    body = json.dumps(message_event(f"hello {marker}", user, channel)).encode()
    json_type = "application/json"
    now = int(time.time())
    attempts = {
        "bad_signature": signed_headers(body, json_type, secret="not-the-secret"),
        "stale_timestamp": signed_headers(body, json_type, timestamp=now - 6 * 60),
        "missing_signature_or_timestamp": {"Content-Type": json_type},
    }
    tampered = signed_headers(body, json_type)
    for reason, headers in attempts.items():
        answer, _ = post_to_slack_webhook(servers, body, headers)
        assert answer.status_code == 401, reason
    # A body changed after signing.
    answer, _ = post_to_slack_webhook(servers, body.replace(b"hello", b"howdy"), tampered)
    assert answer.status_code == 401
    # A correctly signed request still goes through: the refusals were about signatures.
    answer, _ = post_to_slack_webhook(servers, body, signed_headers(body, json_type))
    assert answer.status_code == 200
    settled_posts(slack, channel)

    assert servers.rasa.log_path is not None
    log = servers.rasa.log_path.read_text(errors="replace")
    for reason in attempts:
        assert f"slack: request refused ({reason})" in log
    assert marker not in log


def test_slow_action_is_acknowledged_at_once_and_answered_later(
    servers: Stack, slack: FakeSlack
) -> None:
    user, channel = new_ids("SLW")
    sent_at = time.monotonic()
    answer, elapsed = send_event(servers, message_event(SLOW_TURN, user, channel))
    assert answer.status_code == 200
    assert elapsed < 3.0, f"webhook answered in {elapsed:.2f} s"
    posts = settled_posts(slack, channel, timeout=60.0)
    first_reply_after = posts[0].at - sent_at
    assert first_reply_after >= SLOW_SECONDS - 0.5, (
        f"reply after {first_reply_after:.1f} s: the slow fallback action did not run")
    # Slack would not have retried: the acknowledgement beat its 3 seconds.
    assert elapsed < first_reply_after


def test_buttons_are_block_kit_and_clicks_are_answered_once(
    servers: Stack, slack: FakeSlack
) -> None:
    user, channel = new_ids("BTN")
    envelope = message_event("hello", user, channel)
    send_event(servers, envelope)
    posts = settled_posts(slack, channel)
    with_buttons = [p for p in posts if any(b["type"] == "actions"
                                            for b in p.args.get("blocks") or [])]
    assert with_buttons, [p.args for p in posts]
    post = with_buttons[-1]
    actions = next(b for b in post.args["blocks"] if b["type"] == "actions")
    assert 1 <= len(actions["elements"]) <= 25
    assert all(e["type"] == "button" and len(e["text"]["text"]) <= 75
               for e in actions["elements"])
    assert post.args.get("text"), "a plain-text fallback goes with the blocks"

    click = block_action(post, 0, user)
    answer, elapsed = send_click(servers, click)
    assert answer.status_code == 200 and elapsed < 3.0
    again, _ = send_click(servers, click)  # the same click delivered twice
    assert again.status_code == 200
    after = settled_posts(slack, channel, at_least=len(posts) + 1, quiet=3.0)
    replies = after[len(posts):]
    control_user, control_channel = new_ids("BCT")
    send_event(servers, message_event("hello", control_user, control_channel))
    control = settled_posts(slack, control_channel)
    send_click(servers, block_action(control[-1], 0, control_user))
    control_replies = settled_posts(slack, control_channel,
                                    at_least=len(control) + 1)[len(control):]
    assert [r.args.get("text") for r in replies] == [r.args.get("text")
                                                     for r in control_replies]
    assert {r.args.get("thread_ts") for r in replies} == {envelope["event"]["ts"]}
    # The clicked message now shows the choice instead of its buttons.
    updates = [c for c in slack.calls("chat.update") if c.args.get("ts") == post.ts]
    assert len(updates) == 1
    blocks = updates[0].args["blocks"]
    assert not any(b["type"] == "actions" for b in blocks)
    assert actions["elements"][0]["text"]["text"] in json.dumps(blocks)


def test_advisor_result_is_a_block_layout(servers: Stack, slack: FakeSlack) -> None:
    user, channel = new_ids("ADV")
    send_event(servers, message_event("hello", user, channel))
    posts = settled_posts(slack, channel)
    post = next(p for p in reversed(posts) if "Recommend" in json.dumps(p.args.get("blocks")))
    actions = next(b for b in post.args["blocks"] if b["type"] == "actions")
    index = next(i for i, e in enumerate(actions["elements"]) if "Recommend" in e["text"]["text"])
    send_click(servers, block_action(post, index, user))
    for _ in range(15):
        posts = settled_posts(slack, channel, at_least=len(posts) + 1)
        card = [p for p in posts if (p.args.get("blocks") or [{}])[0].get("type") == "header"
                and "Recommendation" in p.args["blocks"][0]["text"]["text"]]
        if card:
            break
        latest = posts[-1]
        assert any(b["type"] == "actions" for b in latest.args.get("blocks") or []), (
            f"the advisor asked without buttons: {latest.args.get('text')}")
        send_click(servers, block_action(latest, 0, user))
    else:
        raise AssertionError("no scorecard in Slack after 15 answers")
    blocks = card[0].args["blocks"]
    assert card[0].args["text"].startswith("Recommendation: ")
    assert any("█" in json.dumps(b, ensure_ascii=False) for b in blocks)  # factor bars
    assert len(blocks) <= 50


def test_too_long_message_gets_a_polite_refusal(servers: Stack,
                                               slack: FakeSlack) -> None:
    user, channel = new_ids("LNG")
    send_event(servers, message_event("x" * 5000, user, channel))
    posts = settled_posts(slack, channel)
    assert len(posts) == 1
    assert "too long" in posts[0].args["text"].lower()
