"""Slack turns get the widget's notices (issue 13, item 11): an apology when a turn fails
or says nothing, a "taking longer" notice when it is slow, and then its late answer.

The guarded Slack channel runs in a real server (`tests.support.slack_channel_app`, a
scripted turn in place of Rasa) and posts to a fake Slack Web API on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from bot.channels.slack_signature import sign
from bot.channels.turns import TURN_FAILED_TEXT, TURN_SLOW_LIVE_TEXT
from tests.support.fake_slack import FakeSlack
from tests.support.slack_channel_app import serving_slack_channel

SECRET = "integration-signing-secret"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def webhook(slack: FakeSlack) -> Iterator[str]:
    env = {"TURN_TIMEOUT_SECONDS": "1", "REDIS_HOST": ""}
    with serving_slack_channel(slack.base_url, SECRET, env) as url:
        yield url


def say(webhook: str, text: str) -> str:
    """Send `text` as a direct message; return the channel it was sent in."""
    channel = "D" + uuid.uuid4().hex[:8].upper()
    ts = f"{time.time():.6f}"
    body = json.dumps({
        "type": "event_callback", "event_id": "Ev" + uuid.uuid4().hex[:10],
        "team_id": "T0TEST", "event": {"type": "message", "text": text, "user": "U0VISITOR",
                                       "ts": ts, "channel": channel, "channel_type": "im"},
    }).encode()
    stamp = str(int(time.time()))
    answer = requests.post(webhook, data=body, timeout=5, headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(SECRET, stamp, body)})
    assert answer.status_code == 200
    return channel


def texts_in(slack: FakeSlack, channel: str, count: int, timeout: float = 10) -> list[str]:
    slack.wait_for(lambda _: len(slack.posts(channel=channel)) >= count, timeout)
    time.sleep(0.3)  # nothing more should follow
    return [str(post["text"]) for post in slack.posts(channel=channel)]


def test_an_answered_turn_gets_no_notice(webhook: str, slack: FakeSlack) -> None:
    assert texts_in(slack, say(webhook, "hello"), 1) == ["echo: hello"]


@pytest.mark.parametrize("what", ["fail", "silent"])
def test_a_failed_or_silent_turn_gets_an_apology(webhook: str, slack: FakeSlack,
                                                 what: str) -> None:
    assert texts_in(slack, say(webhook, what), 1) == [TURN_FAILED_TEXT]


def test_a_slow_turn_gets_a_notice_then_its_late_answer(webhook: str,
                                                        slack: FakeSlack) -> None:
    channel = say(webhook, "slow")
    assert texts_in(slack, channel, 2) == [TURN_SLOW_LIVE_TEXT, "late answer"]
