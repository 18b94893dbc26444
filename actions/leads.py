"""Lead capture: the lead form's validation, its summary, submission, and "forget me".

Thin: each action reads slots, calls one function of `bot.leads`, utters a response and
returns events. Decisions live in `bot/leads/form.py`, storage in `bot/leads/services.py`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.slot_hooks import SlotHooks
from bot.advisor.profile import FIELD_ORDER
from bot.leads.db import DatabaseConfigError
from bot.leads.form import (
    FORM_SLOTS,
    HELPER_SLOTS,
    draft_from_slots,
    form_is_over,
    judge_answer,
    next_step_response,
    read_recommendation,
    summary_fields,
)
from bot.leads.runtime import get_runtime
from bot.leads.services import forget_conversation, submit_lead
from bot.leads.transcript import summarise_conversation
from bot.leads.worker import wake_running_worker
from bot.topics import TOPIC_TITLES

logger = logging.getLogger(__name__)



def _reset_lead_slots() -> list[EventType]:
    return [SlotSet(slot, None) for slot in (*FORM_SLOTS, *HELPER_SLOTS)]


class ValidateLeadForm(SlotHooks, FormValidationAction):
    """Checks each answer; explains after two misses; ends the form on a refusal."""

    # Every question is judged by `validate_slot`; SlotHooks makes `validate_<slot>`.
    validated_slots = FORM_SLOTS

    def name(self) -> str:
        return "validate_lead_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Refused consent or a visitor who gave up: no more questions.
        return [] if form_is_over(tracker.slots) else domain_slots

    async def validate_slot(
        self,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Judge the answer to `slot` (bot.leads.form); say why when it is refused."""
        verdict = judge_answer(slot, value, tracker.get_slot("lead_form_misses"))
        if verdict.response:
            dispatcher.utter_message(response=verdict.response)
        return verdict.slots


class ActionAskLeadConfirmed(Action):
    """Show the summary, with buttons to send, change an answer, or cancel."""

    def name(self) -> str:
        return "action_ask_lead_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_lead_summary", **summary_fields(tracker.slots))
        return []


class ActionFinishLeadForm(Action):
    """After the form: store the lead (or drop everything if it was refused or cancelled).

    The lead and its outbox row are committed together; the CRM is the delivery
    worker's business, so the visitor is answered even when the CRM is down.
    """

    def name(self) -> str:
        return "action_finish_lead_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = tracker.slots
        if slots.get("lead_consent") is False:
            dispatcher.utter_message(response="utter_lead_consent_declined")
            return _reset_lead_slots()
        if slots.get("lead_form_abandoned"):
            dispatcher.utter_message(response="utter_lead_form_abandoned")
            return _reset_lead_slots()
        if slots.get("lead_confirmed") is not True:
            dispatcher.utter_message(response="utter_lead_cancelled")
            return _reset_lead_slots()

        recommendation = read_recommendation(slots.get("recommendation"))
        profile = recommendation.get("profile") or {
            name: slots[name] for name in FIELD_ORDER if slots.get(name) is not None
        }
        draft = draft_from_slots(
            slots,
            conversation_id=tracker.sender_id,
            profile=profile,
            recommendation=recommendation,
            transcript_summary=summarise_conversation(
                _turns_before_lead_form(tracker), recommendation, TOPIC_TITLES
            ),
        )
        try:
            runtime = get_runtime()
            lead = submit_lead(runtime.unit_of_work(), draft, runtime.rules)
        except (SQLAlchemyError, DatabaseConfigError):
            # Say so: never tell a visitor "we'll be in touch" about a lead we lost.
            logger.exception("could not store the lead of conversation %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_lead_submit_failed")
            return [SlotSet("lead_confirmed", None)]
        wake_running_worker()
        meeting_link = runtime.settings.meeting_link
        dispatcher.utter_message(
            response=next_step_response(lead.qualification.tier, meeting_link),
            name=draft.contact.first_name or draft.contact.name,
            meeting_link=meeting_link,
        )
        return [
            *_reset_lead_slots(),
            SlotSet("lead_id", lead.lead_id),
            SlotSet("lead_tier", lead.qualification.tier),
        ]


class ActionForgetMe(Action):
    """Erase what this conversation gave: its leads, their outbox rows, its events.

    Only this conversation: the email typed in it proves nothing, so leads from other
    conversations stay (erasing a person by email is the operator's CLI). The leads go
    now; a lead that may have reached the CRM is queued for erasure there; the tracker
    events up to this message are erased by the delivery worker shortly after Rasa has
    saved this turn (see bot/leads/erasure.py).
    """

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        timestamps = [float(e["timestamp"]) for e in tracker.events if e.get("timestamp")]
        runtime = get_runtime()
        report = forget_conversation(
            runtime.unit_of_work(),
            tracker.sender_id,
            before_timestamp=max(timestamps) if timestamps else None,
        )
        wake_running_worker()
        response = "utter_forget_me_done_crm" if report.crm_erasures else "utter_forget_me_done"
        dispatcher.utter_message(response=response, leads=report.leads,
                                 crm_copies=report.crm_erasures)
        return [AllSlotsReset(), ActiveLoop(None), SlotSet("requested_slot", None)]


def _turns_before_lead_form(tracker: Tracker) -> list[tuple[str, str]]:
    """(intent, text) of the visitor's messages before the lead form last started."""
    turns: list[tuple[str, str]] = []
    collected: list[tuple[str, str]] = []
    for event in tracker.events:
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            turns.append((str(intent), str(event.get("text") or "")))
        elif event.get("event") == "active_loop" and event.get("name") == "lead_form":
            collected = list(turns)
    return collected


class ActionStopLeadForm(Action):
    """Leave the lead form on "stop", "bye" or a change of subject, keeping no answers.

    Nothing was confirmed, so nothing is kept: the next lead form starts from consent.
    """

    def name(self) -> str:
        return "action_stop_lead_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        # "stop" and "bye" end here; a change of subject goes on to what was asked.
        left_for = "utter_lead_stopped" if intent in ("stop", "goodbye") else "utter_lead_left"
        dispatcher.utter_message(response=left_for)
        return [ActiveLoop(None), *_reset_lead_slots()]
