"""The lead actions against a real database (SQLite and PostgreSQL) and the CRM stand-in:
what the visitor is told, and what is stored, including when the CRM or the database
is down."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text
from sqlalchemy.engine import Engine

from actions.leads import ActionFinishLeadForm, ActionForgetMe, ValidateLeadForm
from bot.crm.webhook import WebhookClient
from bot.leads.delivery import WorkerOptions, deliver_until_idle
from bot.leads.model import CONSENT_VERSION
from bot.leads.outbox import RetryPolicy
from bot.leads.runtime import LeadsRuntime, install_runtime, reset_runtime
from bot.leads.scoring import load_scoring_rules
from bot.leads.unit_of_work import SqlUnitOfWork
from bot.settings import load_settings
from tests.support.crm_standin import CrmStandIn

DOMAIN: dict[str, Any] = {
    "forms": {"lead_form": {"required_slots": [
        "lead_consent", "lead_name", "lead_email", "lead_company", "lead_role",
        "lead_timeline", "lead_size", "lead_budget", "lead_confirmed"]}},
}

FILLED: dict[str, Any] = {
    "lead_consent": True, "lead_consent_at": "2024-06-01T09:30:00+00:00",
    "lead_consent_version": CONSENT_VERSION, "lead_name": "Maria Rossi",
    "lead_email": "maria@acme-logistics.com", "lead_email_free_mail": False,
    "lead_company": "Acme Logistics", "lead_role": "Head of IT", "lead_timeline": "now",
    "lead_size": 120, "lead_budget": "50k_250k", "lead_confirmed": True,
    "recommendation": {"verdict": "hybrid", "title": "Containers on VMs",
                       "profile": {"isolation": "untrusted"}},
}


@pytest.fixture
def runtime(leads_engine: Engine) -> Iterator[LeadsRuntime]:
    settings = load_settings({"MEETING_LINK": "https://meet.example.com/sales"})
    rt = LeadsRuntime(settings=settings, engine=leads_engine, rules=load_scoring_rules())
    install_runtime(rt)
    yield rt
    reset_runtime()


def tracker(slots: dict[str, Any], sender: str = "visitor-1",
            events: list[dict[str, Any]] | None = None,
            latest: dict[str, Any] | None = None) -> Tracker:
    return Tracker(sender, slots, latest or {}, events or [], False, None,
                   {"name": "lead_form"}, "action_listen")


def run(action: Any, slots: dict[str, Any], **kwargs: Any) -> tuple[list[Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker(slots, **kwargs), DOMAIN))
    return events, [m.get("response") or "" for m in dispatcher.messages]


def test_a_confirmed_lead_is_stored_and_the_hot_visitor_gets_the_meeting_link(
    runtime: LeadsRuntime,
) -> None:
    history: list[dict[str, Any]] = [
        {"event": "user", "text": "what does it cost?",
         "parse_data": {"intent": {"name": "ask_cost"}}},
        {"event": "user", "text": "talk to sales",
         "parse_data": {"intent": {"name": "contact_sales"}}},
        {"event": "active_loop", "name": "lead_form"},
        {"event": "user", "text": "maria@acme-logistics.com",
         "parse_data": {"intent": {"name": "inform"}}},
    ]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionFinishLeadForm().run(
        dispatcher, tracker(FILLED, events=history), DOMAIN))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_lead_submitted_hot"
    assert message["meeting_link"] == "https://meet.example.com/sales"
    assert message["name"] == "Maria"
    with SqlUnitOfWork(runtime.engine) as uow:
        (lead,) = uow.leads.latest()
        (entry,) = uow.outbox.for_lead(lead.lead_id)
    assert SlotSet("lead_id", lead.lead_id) in events
    assert SlotSet("lead_name", None) in events  # the form's answers are cleared
    assert lead.qualification.tier == "hot"
    assert lead.draft.recommendation["verdict"] == "hybrid"
    assert lead.draft.profile == {"isolation": "untrusted"}
    assert lead.draft.transcript_summary.startswith("Asked about: Costs and licensing.")
    assert "maria@" not in lead.draft.transcript_summary  # form answers are not "context"
    assert entry.status == "pending"


@pytest.mark.parametrize(
    ("change", "response"),
    [({"lead_consent": False}, "utter_lead_consent_declined"),
     ({"lead_form_abandoned": True, "lead_confirmed": None}, "utter_lead_form_abandoned"),
     ({"lead_confirmed": False}, "utter_lead_cancelled")],
)
def test_refused_abandoned_or_cancelled_keeps_nothing(
    runtime: LeadsRuntime, change: dict[str, Any], response: str
) -> None:
    events, responses = run(ActionFinishLeadForm(), {**FILLED, **change})
    assert responses == [response]
    assert SlotSet("lead_email", None) in events
    with SqlUnitOfWork(runtime.engine) as uow:
        assert uow.leads.count() == 0


def test_the_visitor_is_confirmed_while_the_crm_is_down_and_the_lead_arrives_later(
    runtime: LeadsRuntime, crm: CrmStandIn
) -> None:
    crm.state.down = True
    _, responses = run(ActionFinishLeadForm(), FILLED)
    assert responses == ["utter_lead_submitted_hot"]
    client = WebhookClient(crm.webhook_url, "test-secret", timeout_seconds=1)
    policy = RetryPolicy(max_attempts=50, base_seconds=0.05, cap_seconds=0.2,
                         retry_after_cap_seconds=0.1)
    deliver_until_idle(runtime.unit_of_work(), client, policy, WorkerOptions(lease_seconds=10),
                       max_seconds=0.5, sleep=time.sleep)
    assert crm.lead_copies() == {}
    crm.state.down = False
    deliver_until_idle(runtime.unit_of_work(), client, policy, WorkerOptions(lease_seconds=10),
                       max_seconds=20, sleep=time.sleep)
    with SqlUnitOfWork(runtime.engine) as uow:
        (lead,) = uow.leads.latest()
    assert crm.lead_copies() == {lead.lead_id: 1}


def test_a_database_failure_is_admitted_not_hidden(runtime: LeadsRuntime) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text("ALTER TABLE leads RENAME TO leads_away"))
    try:
        events, responses = run(ActionFinishLeadForm(), FILLED)
    finally:
        with runtime.engine.begin() as conn:
            conn.execute(text("ALTER TABLE leads_away RENAME TO leads"))
    assert responses == ["utter_lead_submit_failed"]
    assert events == [SlotSet("lead_confirmed", None)]  # the summary comes back on a retry
    with SqlUnitOfWork(runtime.engine) as uow:
        assert uow.leads.count() == 0
        assert uow.outbox.status_counts()["pending"] == 0


def test_forget_me_erases_this_conversation_only_whatever_email_it_typed(
    runtime: LeadsRuntime,
) -> None:
    """Item 1: typing a victim's email and saying "forget me" erases none of the
    victim's leads or conversations, only what this conversation gave."""
    run(ActionFinishLeadForm(), FILLED, sender="victim")
    run(ActionFinishLeadForm(), FILLED, sender="attacker")  # typed the victim's email
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionForgetMe().run(
        dispatcher,
        tracker({"lead_email": "maria@acme-logistics.com"}, sender="attacker",
                events=[{"event": "user", "timestamp": 1000.5}]),
        DOMAIN,
    ))
    assert dispatcher.messages[0]["response"] == "utter_forget_me_done"
    assert dispatcher.messages[0]["leads"] == 1
    assert events == [AllSlotsReset(), ActiveLoop(None), SlotSet("requested_slot", None)]
    with SqlUnitOfWork(runtime.engine) as uow:
        (kept,) = uow.leads.latest()
        assert kept.draft.conversation_id == "victim"
        assert uow.outbox.status_counts()["pending"] == 1
        erasures = uow.erasures.open()
    assert [(e.conversation_id, e.before_timestamp) for e in erasures] == [("attacker", 1000.5)]


def test_forget_me_after_delivery_says_the_crm_copy_is_being_deleted(
    runtime: LeadsRuntime, crm: CrmStandIn
) -> None:
    """Item 3: the reply says what went, and that the CRM's copy is being deleted;
    the signed lead.erased event then removes it at the receiver."""
    run(ActionFinishLeadForm(), FILLED, sender="visitor-1")
    client = WebhookClient(crm.webhook_url, "test-secret", timeout_seconds=2)
    policy = RetryPolicy(max_attempts=5, base_seconds=0.05, cap_seconds=0.2)
    deliver_until_idle(runtime.unit_of_work(), client, policy, WorkerOptions(lease_seconds=10),
                       max_seconds=10, sleep=time.sleep)
    assert len(crm.lead_copies()) == 1
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionForgetMe().run(dispatcher, tracker({}, sender="visitor-1"), DOMAIN))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_forget_me_done_crm"
    assert (message["leads"], message["crm_copies"]) == (1, 1)
    deliver_until_idle(runtime.unit_of_work(), client, policy, WorkerOptions(lease_seconds=10),
                       max_seconds=10, sleep=time.sleep)
    assert crm.lead_copies() == {}
    (erased,) = crm.received("POST")[1:]
    event = erased.json()
    assert event["event"] == "lead.erased"
    assert "maria@" not in erased.body.decode()  # the event carries no personal data
    assert erased.headers["Idempotency-Key"] == f"erase-{event['lead_id']}"


def _validate(slots: dict[str, Any], latest_slot: str, value: Any) -> tuple[list[Any], list[str]]:
    """Run validate_lead_form as Rasa does after the visitor answered `latest_slot`."""
    dispatcher = CollectingDispatcher()
    state = {**slots, latest_slot: value, "requested_slot": latest_slot}
    t = Tracker("visitor-1", state, {"intent": {"name": "inform"}},
                [{"event": "slot", "name": latest_slot, "value": value}], False, None,
                {"name": "lead_form"}, "action_listen")
    events = asyncio.run(ValidateLeadForm().run(dispatcher, t, DOMAIN))
    return events, [m.get("response") or "" for m in dispatcher.messages]


def test_validation_explains_after_two_misses() -> None:
    events, responses = _validate({"lead_consent": True, "lead_name": "Jonas"},
                                  "lead_email", "jonas@")
    assert responses == ["utter_lead_invalid_email_malformed"]
    assert SlotSet("lead_email", None) in events
    assert SlotSet("lead_form_misses", 1) in events
    events, responses = _validate({"lead_consent": True, "lead_name": "Jonas",
                                   "lead_form_misses": 1}, "lead_email", "jonas at work")
    assert responses == ["utter_lead_explain_email"]


def test_refused_consent_ends_the_form() -> None:
    events, responses = _validate({}, "lead_consent", False)
    assert events == [SlotSet("requested_slot", None)]  # the form stops here
    assert responses == []


def test_a_failed_lead_insert_logs_none_of_the_visitors_details(
    runtime: LeadsRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 4: SQLAlchemy errors would carry the bound parameters (name, email, company)."""
    details = {"lead_name": "Zebulon Quaxley", "lead_email": "zebulon@quaxley-secret.io",
               "lead_company": "Quaxley Hidden Works"}
    with runtime.engine.begin() as conn:
        conn.execute(text("ALTER TABLE leads RENAME TO leads_away"))
    try:
        with caplog.at_level(logging.DEBUG):
            _, responses = run(ActionFinishLeadForm(), {**FILLED, **details})
    finally:
        with runtime.engine.begin() as conn:
            conn.execute(text("ALTER TABLE leads_away RENAME TO leads"))
    assert responses == ["utter_lead_submit_failed"]
    logged = caplog.text + "".join(
        str(r.exc_info[1]) for r in caplog.records if r.exc_info and r.exc_info[1])
    assert "could not store the lead" in logged  # the failure itself is logged
    for value in ("Zebulon", "quaxley-secret", "Quaxley Hidden"):
        assert value not in logged
