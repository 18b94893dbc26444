"""The Slack sales channel adapter against a real HTTP server standing in for Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.crm.base import DELIVERED, REJECTED, RETRY
from bot.crm.slack_sales import SlackSalesChannel
from bot.settings import load_settings
from tests.support.fake_slack import FakeSlack

LEAD = {
    "lead_id": "L-42",
    "created_at": "2026-01-01T09:00:00+00:00",
    "contact": {"name": "Grace Hopper", "email": "grace@example.com", "company": "Navy Labs",
                "role": "Director"},
    "qualification": {"score": 91, "tier": "hot", "reasons": ["decision maker (+20)"]},
    "timeline": "now",
    "size": 120,
    "budget": "over_250k",
    "recommendation": {"verdict": "hybrid"},
    "transcript_summary": "Migrating a mainframe batch system.",
}
ALERT = {"lead": LEAD, "crm_reference": None, "taken_by": None}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-sales") as fake:
        yield fake


def channel(slack: FakeSlack, token: str = "xoxb-sales",
            template: str = "https://crm.example/contacts/{id}") -> SlackSalesChannel:
    return SlackSalesChannel(token, "C0SALES", base_url=slack.base_url, timeout_seconds=2,
                             contact_url_template=template)


def test_posts_the_alert_with_its_key_in_the_metadata(slack: FakeSlack) -> None:
    result = channel(slack).show_alert(ALERT, "alert-L-42", None, may_be_posted=False)
    assert result.outcome == DELIVERED
    [post] = slack.posts(channel="C0SALES")
    assert result.reference == f"C0SALES:{slack.messages('C0SALES')[0]['ts']}"
    assert post["text"] == "Hot lead from Navy Labs (score 91)"
    assert "grace@example.com" not in post["text"]  # not in notification previews
    assert post["metadata"] == {"event_type": "sales_alert",
                                "event_payload": {"alert_key": "alert-L-42"}}
    dumped = json.dumps(post["blocks"])
    assert "decision maker (+20)" in dumped and "Hybrid" in dumped
    assert "Migrating a mainframe" not in dumped  # behind "Open transcript"
    assert "crm.example" not in dumped  # no CRM contact yet


def test_an_alert_with_a_message_updates_it_with_the_crm_link(slack: FakeSlack) -> None:
    posted = channel(slack).show_alert(ALERT, "alert-L-42", None, may_be_posted=False)
    revised = {**ALERT, "crm_reference": "1001"}
    result = channel(slack).show_alert(revised, "alert-L-42", posted.reference,
                                       may_be_posted=False)
    assert (result.outcome, result.reference) == (DELIVERED, posted.reference)
    [message] = slack.messages("C0SALES")
    assert "<https://crm.example/contacts/1001|" in json.dumps(message["blocks"])
    assert len(slack.calls("chat.postMessage")) == 1


def test_a_post_that_may_have_happened_is_found_not_repeated(slack: FakeSlack) -> None:
    slack.fail_next(500, after_handling=True)  # posted, but the answer is lost
    first = channel(slack).show_alert(ALERT, "alert-L-42", None, may_be_posted=False)
    assert first.outcome == RETRY
    again = channel(slack).show_alert(ALERT, "alert-L-42", None, may_be_posted=True)
    assert again.outcome == DELIVERED
    [message] = slack.messages("C0SALES")
    assert again.reference == f"C0SALES:{message['ts']}"
    assert len(slack.calls("chat.postMessage")) == 1


def test_another_alerts_message_is_not_taken_for_this_one(slack: FakeSlack) -> None:
    channel(slack).show_alert(ALERT, "alert-OTHER", None, may_be_posted=False)
    result = channel(slack).show_alert(ALERT, "alert-L-42", None, may_be_posted=True)
    assert result.outcome == DELIVERED
    assert len(slack.messages("C0SALES")) == 2


@pytest.mark.parametrize(
    ("status", "body", "outcome", "alert"),
    [
        (200, {"ok": False, "error": "ratelimited"}, RETRY, False),
        (429, {"ok": False, "error": "ratelimited"}, RETRY, False),
        (503, {"ok": False}, RETRY, False),
        (200, {"ok": False, "error": "channel_not_found"}, RETRY, True),
        (200, {"ok": False, "error": "not_in_channel"}, RETRY, True),
        (200, {"ok": False, "error": "msg_too_long"}, REJECTED, False),
    ],
)
def test_failures_are_classified(slack: FakeSlack, status: int, body: dict[str, Any],
                                 outcome: str, alert: bool) -> None:
    slack.fail_next(status, body)
    result = channel(slack).show_alert(ALERT, "alert-L-42", None, may_be_posted=False)
    assert (result.outcome, result.alert) == (outcome, alert)
    assert slack.posts() == []


def test_a_bad_token_is_the_operators_to_fix(slack: FakeSlack) -> None:
    result = channel(slack, token="xoxb-wrong").show_alert(ALERT, "k", None, False)
    assert (result.outcome, result.alert) == (RETRY, True)


def test_unreachable_slack_is_retried_later() -> None:
    with FakeSlack() as gone:
        url = gone.base_url
    result = SlackSalesChannel("xoxb", "C0SALES", base_url=url, timeout_seconds=2).show_alert(
        ALERT, "alert-L-42", None, False)
    assert result.outcome == RETRY and result.status_code is None


def test_deleting_finds_an_unconfirmed_post_and_a_gone_message_is_fine(
    slack: FakeSlack,
) -> None:
    slack.stall_next(1.0)  # posted; the 0.3 s client gives up first
    quick = SlackSalesChannel("xoxb-sales", "C0SALES", base_url=slack.base_url,
                              timeout_seconds=0.3)
    assert quick.show_alert(ALERT, "alert-L-42", None, False).outcome == RETRY
    deletion = {"lead_id": "L-42", "alert_key": "alert-L-42", "message_reference": None}
    assert channel(slack).delete_alert(deletion).outcome == DELIVERED
    assert slack.messages("C0SALES") == []
    gone = {**deletion, "message_reference": "C0SALES:1.000000"}
    assert channel(slack).delete_alert(gone).outcome == DELIVERED


def test_tell_is_ephemeral(slack: FakeSlack) -> None:
    assert channel(slack).tell("U1", "The lead is yours")
    [call] = slack.calls("chat.postEphemeral")
    assert call.args == {"channel": "C0SALES", "user": "U1", "text": "The lead is yours"}
    assert slack.messages("C0SALES") == []


def test_configuration() -> None:
    assert SlackSalesChannel.from_settings(load_settings({})) is None
    assert SlackSalesChannel.from_settings(load_settings({"SLACK_TOKEN": "x"})) is None
    configured = SlackSalesChannel.from_settings(load_settings({
        "SLACK_TOKEN": "xoxb", "SLACK_SIGNING_SECRET": "s", "SLACK_SALES_CHANNEL": "C1",
        "SLACK_API_BASE_URL": "http://127.0.0.1:9/api/",
        "CRM_CONTACT_URL_TEMPLATE": "https://crm/{id}"}))
    assert configured is not None and configured.base_url == "http://127.0.0.1:9/api/"
    assert (configured.channel, configured.contact_url_template) == ("C1", "https://crm/{id}")
