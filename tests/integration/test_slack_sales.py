"""Hot leads to the sales channel, against a real HTTP server standing in for Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.channels.slack_sales import SlackSalesNotifier, is_hot, summary_text
from bot.crm.base import DELIVERED, REJECTED, RETRY
from bot.settings import load_settings
from tests.support.fake_slack import FakeSlack

LEAD = {
    "lead_id": "L-42",
    "contact": {"name": "Grace Hopper", "email": "grace@example.com", "company": "Navy Labs",
                "role": "Director"},
    "qualification": {"score": 91, "tier": "hot", "reasons": ["decision maker"]},
    "timeline": "now",
    "size": 120,
    "budget": "over_250k",
    "recommendation": {"verdict": "hybrid"},
    "transcript_summary": "Migrating a mainframe batch system.",
}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-sales") as fake:
        yield fake


def notifier(slack: FakeSlack, token: str = "xoxb-sales") -> SlackSalesNotifier:
    return SlackSalesNotifier(token, "C0SALES", base_url=slack.base_url, timeout_seconds=5)


def test_posts_the_lead_summary_to_the_sales_channel(slack: FakeSlack) -> None:
    result = notifier(slack).send(LEAD, "lead-L-42")
    assert result.outcome == DELIVERED and result.reference
    [post] = slack.posts(channel="C0SALES")
    assert post["text"] == "Hot lead from Navy Labs (score 91)"
    assert "grace@example.com" not in post["text"]  # not in notification previews
    assert any(b["type"] == "header" and b["text"]["text"] == "Hot lead: Navy Labs"
               for b in post["blocks"])


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, {"ok": False, "error": "ratelimited"}, RETRY),
        (429, {"ok": False, "error": "ratelimited"}, RETRY),
        (503, {"ok": False}, RETRY),
        (200, {"ok": False, "error": "channel_not_found"}, REJECTED),
        (200, {"ok": False, "error": "not_in_channel"}, REJECTED),
    ],
)
def test_failures_are_classified(slack: FakeSlack, status: int, body: dict[str, object],
                                 outcome: str) -> None:
    slack.fail_next(status, body)
    assert notifier(slack).send(LEAD, "lead-L-42").outcome == outcome
    assert slack.posts() == []


def test_bad_token_is_rejected(slack: FakeSlack) -> None:
    assert notifier(slack, token="xoxb-wrong").send(LEAD, "lead-L-42").outcome == REJECTED


def test_unreachable_slack_is_retried_later() -> None:
    with FakeSlack() as gone:
        url = gone.base_url
    result = SlackSalesNotifier("xoxb", "C0SALES", base_url=url, timeout_seconds=2).send(
        LEAD, "lead-L-42")
    assert result.outcome == RETRY and result.status_code is None


def test_configuration() -> None:
    assert SlackSalesNotifier.from_settings(load_settings({})) is None
    assert SlackSalesNotifier.from_settings(load_settings({"SLACK_TOKEN": "x"})) is None
    configured = SlackSalesNotifier.from_settings(load_settings({
        "SLACK_TOKEN": "xoxb", "SLACK_SIGNING_SECRET": "s", "SLACK_SALES_CHANNEL": "C1",
        "SLACK_API_BASE_URL": "http://127.0.0.1:9/api/"}))
    assert configured is not None and configured.url == "http://127.0.0.1:9/api/chat.postMessage"
    assert is_hot(LEAD) and not is_hot({"qualification": {"tier": "warm"}})
    assert summary_text({}) == "New lead from unknown company (score ?)"
