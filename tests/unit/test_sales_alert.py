"""The hot-lead alert's pure parts: its layout, its buttons, the CRM link, which tiers
alert sales, and the settings that switch it on."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
import yaml

from bot.crm.base import crm_contact_url
from bot.crm.slack_sales import SalesClick, parse_sales_click
from bot.leads.model import LeadTaker, Qualification
from bot.leads.sales_alert import (
    TakeOutcome,
    TakeResult,
    build_alert_deletion,
    build_alert_document,
    take_reply,
    with_crm_reference,
    with_taker,
)
from bot.leads.scoring import (
    DEFAULT_RULES_PATH,
    ScoringRulesError,
    alerts_sales,
    load_scoring_rules,
    parse_scoring_rules,
)
from bot.settings import SettingsError, load_settings
from bot.slack.blocks import (
    SALES_TAKE_ACTION,
    SALES_TRANSCRIPT_ACTION,
    sales_alert_blocks,
    sales_alert_text,
)

LEAD: dict[str, Any] = {
    "lead_id": "L-1",
    "contact": {"name": "Ada", "email": "ada@example.com", "company": "Acme <Ltd>",
                "role": "CTO"},
    "qualification": {"score": 88, "tier": "hot", "reasons": ["timeline: now (+30)"]},
    "recommendation": {"verdict": "hybrid"},
    "transcript_summary": "Wants to move a web shop.",
}
AT = datetime(2026, 11, 30, 9, 15, tzinfo=timezone.utc)


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_an_untaken_alert_has_both_buttons_carrying_the_lead() -> None:
    blocks = sales_alert_blocks(LEAD)
    dumped = json.dumps(blocks)
    assert blocks[0]["text"]["text"] == "Hot lead: Acme <Ltd>"  # plain text: not escaped
    assert "*Score*\\n88" in dumped and "timeline: now (+30)" in dumped
    assert "Hybrid: containers and virtual machines" in dumped
    assert "Wants to move" not in dumped  # behind "Open transcript"
    assert action_ids(blocks) == [SALES_TAKE_ACTION, SALES_TRANSCRIPT_ACTION]
    assert {e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]} == {
        "L-1"}


def test_a_taken_alert_says_who_and_drops_the_take_button() -> None:
    taken = with_taker(build_alert_document(LEAD), LeadTaker("U7", "grace", AT))["taken_by"]
    blocks = sales_alert_blocks(LEAD, None, taken)
    assert action_ids(blocks) == [SALES_TRANSCRIPT_ACTION]
    assert "Taken by <@U7> at 2026-11-30 09:15 UTC" in json.dumps(blocks)


def test_the_crm_link_shows_once_there_is_one() -> None:
    assert "crm.example" not in json.dumps(sales_alert_blocks(LEAD))
    linked = sales_alert_blocks(LEAD, "https://crm.example/c/1001")
    assert "<https://crm.example/c/1001|Open the contact in the CRM>" in json.dumps(linked)


def test_the_notification_line_has_no_email() -> None:
    assert sales_alert_text(LEAD) == "Hot lead from Acme <Ltd> (score 88)"
    assert sales_alert_text({}) == "New lead from unknown company (score ?)"


@pytest.mark.parametrize(
    ("template", "reference", "url"),
    [
        ("https://crm/{id}", "1001", "https://crm/1001"),
        ("https://crm/{id}", None, None),
        ("https://crm/{id}", "note:55", None),  # a note on someone else's contact
        ("", "1001", None),
    ],
)
def test_crm_contact_url(template: str, reference: str | None, url: str | None) -> None:
    assert crm_contact_url(template, reference) == url


def _payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": "U1", "username": "grace"},
        "actions": [{"type": "button", "action_id": SALES_TAKE_ACTION, "value": "L-1"}],
    }
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_payload(), SalesClick(SALES_TAKE_ACTION, "L-1", "U1", "grace")),
        (_payload(actions=[{"action_id": SALES_TRANSCRIPT_ACTION, "value": "L-1"}]),
         SalesClick(SALES_TRANSCRIPT_ACTION, "L-1", "U1", "grace")),
        (_payload(actions=[{"action_id": "rasa_button_0", "value": "/affirm"}]), None),
        (_payload(type="view_submission"), None),
        (_payload(actions=[{"action_id": SALES_TAKE_ACTION}]), None),
        (_payload(user={}), None),
        (_payload(actions=[]), None),
    ],
)
def test_parse_sales_click(payload: dict[str, Any], expected: SalesClick | None) -> None:
    assert parse_sales_click(payload) == expected


def test_the_alert_document_keeps_each_revision() -> None:
    document = with_crm_reference(build_alert_document(LEAD), "1001")
    document = with_taker(document, LeadTaker("U7", "grace", AT))
    assert document["lead"] == LEAD and document["crm_reference"] == "1001"
    assert document["taken_by"] == {"user_id": "U7", "name": "grace",
                                    "taken_at": AT.isoformat()}
    assert "@" not in json.dumps(build_alert_deletion("L-1", "C1:1.2"))


@pytest.mark.parametrize(
    ("result", "reply"),
    [
        (TakeResult(TakeOutcome.TAKEN, None), "The lead is yours"),
        (TakeResult(TakeOutcome.ALREADY_YOURS, None), "You have already taken"),
        (TakeResult(TakeOutcome.TAKEN_BY_SOMEONE_ELSE, LeadTaker("U7", "g", AT)),
         "Already taken by <@U7> at 2026-11-30 09:15 UTC"),
        (TakeResult(TakeOutcome.LEAD_GONE, None), "erased"),
    ],
)
def test_take_replies(result: TakeResult, reply: str) -> None:
    assert reply in take_reply(result)


def test_only_the_listed_tiers_alert_and_only_with_a_channel() -> None:
    assert load_scoring_rules().sales_alert_tiers == frozenset()
    rules = load_scoring_rules(sales_alerts=True)
    assert rules.sales_alert_tiers == frozenset({"hot"})
    assert alerts_sales(Qualification(90, "hot", ()), rules)
    assert not alerts_sales(Qualification(50, "warm", ()), rules)


def test_an_unknown_alert_tier_is_refused() -> None:
    raw = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    raw["sales_alert_tiers"] = ["boiling"]
    with pytest.raises(ScoringRulesError, match="sales_alert_tiers"):
        parse_scoring_rules(raw)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_SALES_CHANNEL": "C1"}, "SLACK_TOKEN (needed because SLACK_SALES_CHANNEL"),
        ({"SLACK_SALES_CHANNEL": "C1", "SLACK_TOKEN": "x"}, "SLACK_SIGNING_SECRET"),
        ({"CRM_CONTACT_URL_TEMPLATE": "https://crm/contacts"}, "must contain {id}"),
    ],
)
def test_settings_name_what_the_sales_channel_lacks(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("{", r"\{")):
        load_settings(env).check()
