"""Actions of the workload advisor: the form's validation, the result.

Thin by design: they read slots, call `bot.advisor`, utter responses and return events.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions.slot_hooks import SlotHooks
from bot.advisor.answers import (
    NOT_SURE,
    answer_from_candidates,
    apply_correction,
    correction_from_candidates,
    default_description,
    describe_answers,
    normalise_answer,
    profile_from_answers,
    remaining_questions,
    understood_profile,
)
from bot.advisor.engine import questions_that_could_change, recommend
from bot.advisor.profile import FIELD_ORDER
from bot.advisor.report import chat_fields, scorecard
from bot.advisor.retries import asking_after, record_answer, record_miss
from bot.advisor.rules import Rules, load_rules
from bot.insights.feedback import feedback_buttons, recommendation_subject
from bot.settings import load_settings

FORM_NAME = "advisor_form"
# The form's questions, as in domain.yml. Rasa asks each with its `utter_ask_<slot>`.
FORM_QUESTIONS = (
    "isolation", "os_mix", "density", "startup", "stateful", "legacy", "team_containers",
    "traffic", "privileged", "os_patching", "licences", "work_pattern",
)
# Asked only when `questions_that_could_change` says their answer alone could change the
# verdict; otherwise they come from what the visitor volunteers, or stay assumed.
ASKED_IF_DECISIVE = ("traffic", "privileged", "os_patching", "licences", "work_pattern")
# Intents whose message may be a free-text answer to the current question. Questions
# (FAQ intents), greetings or "talk to sales" are not answers: the form is rejected so
# that the rules answer them, and then it resumes.
ANSWER_INTENTS = frozenset({"inform", "affirm", "deny", "nlu_fallback", "out_of_scope"})
RETRIES_SLOT = "advisor_retries"
# True while the question being asked has missed twice: its `utter_ask_<slot>` then comes
# in the explained variation (a response condition in domain.yml).
EXPLAIN_SLOT = "advisor_explain_question"


@lru_cache(maxsize=1)
def advisor_rules() -> Rules:
    """The decision rules, loaded on first use (not at import time)."""
    return load_rules(load_settings().advisor_rules_path)


def profile_slots_set_by_latest_message(tracker: Tracker) -> list[str]:
    """Profile slots filled since the visitor's latest message (from its entities)."""
    names: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot" and event.get("name") in FIELD_ORDER:
            names.append(str(event["name"]))
    return list(dict.fromkeys(reversed(names)))


def _retries(tracker: Tracker) -> dict[str, int]:
    value = tracker.get_slot(RETRIES_SLOT)
    return dict(value) if isinstance(value, dict) else {}


def _set_in(events: list[EventType], slot: str, default: Any) -> Any:
    """The last value `events` set for `slot`, else `default`."""
    values = [e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == slot]
    return values[-1] if values else default


class ValidateAdvisorForm(SlotHooks, FormValidationAction):
    """Normalise each answer, count misses, and stop asking once nothing can change."""

    # SlotHooks makes `extract_<slot>` and `validate_<slot>` for each question.
    extracted_slots = FORM_QUESTIONS
    validated_slots = FORM_QUESTIONS

    def name(self) -> str:
        return "validate_advisor_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        asked = tracker.get_slot("requested_slot")
        volunteered = [f for f in profile_slots_set_by_latest_message(tracker) if f != asked]
        if asked in FORM_QUESTIONS and volunteered and asked not in (
            profile_slots_set_by_latest_message(tracker)
        ):
            # An answer to another question: keep it, say so, and ask this one again.
            noted = describe_answers(
                {f: tracker.get_slot(f) for f in volunteered}, advisor_rules())
            if noted:
                dispatcher.utter_message(
                    response="utter_advisor_noted_elsewhere", noted="; ".join(noted))
        # rasa-sdk updates `tracker.slots` with the events as it goes: read the misses now.
        misses_before = _retries(tracker)
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        if asked is None:
            # Nothing asked yet, so the form is being activated: say what the opening
            # message already told us, so the visitor sees why some questions are skipped.
            noted = describe_answers(tracker.slots, advisor_rules())
            if noted:
                dispatcher.utter_message(response="utter_advisor_noted", noted="; ".join(noted))
        return events + self._prepare_next_question(
            dispatcher, tracker, asked, misses_before, events)

    @staticmethod
    def _prepare_next_question(
        dispatcher: CollectingDispatcher, tracker: Tracker, asked: str | None,
        misses_before: dict[str, int], events: list[EventType],
    ) -> list[EventType]:
        """Say what comes before the next question, and pick its variation.

        Rasa asks the question itself, with `utter_ask_<slot>`, right after this action:
        one call to the action server a turn instead of two (issue 14).
        """
        next_question = _set_in(events, REQUESTED_SLOT, asked)
        retries = _set_in(events, RETRIES_SLOT, misses_before) or {}
        misses = retries.get(next_question, 0) if next_question in FORM_QUESTIONS else 0
        asking = asking_after(misses)
        if asked is not None and next_question == asked and misses > misses_before.get(asked, 0):
            # Missed just now; not when the form resumes after an FAQ question.
            for response in asking.said_before:
                dispatcher.utter_message(response=response)
        if bool(tracker.get_slot(EXPLAIN_SLOT)) == asking.explained:
            return []
        if asked is not None and not any(
            e.get("event") == "slot" and e.get("name") != REQUESTED_SLOT for e in events
        ):
            # A lone slot event would count as an answer, and Rasa would not reject the
            # form for an FAQ question. Misses and the question change only with an
            # answer or a miss, which set slots themselves.
            return []
        return [SlotSet(EXPLAIN_SLOT, asking.explained)]

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventType:
        """Always name the next question, so that `run` can prepare it.

        rasa-sdk leaves it to Rasa when the required slots are the domain's; Rasa would
        pick the same one, the first required slot still empty.
        """
        required = await self.required_slots(
            self.domain_slots(domain), dispatcher, tracker, domain)
        missing = (slot for slot in required if tracker.slots.get(slot) is None)
        return SlotSet(REQUESTED_SLOT, next(missing, None))

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        rules = advisor_rules()
        core = [slot for slot in domain_slots if slot not in ASKED_IF_DECISIVE]
        answered = {slot for slot in domain_slots if tracker.slots.get(slot) is not None}
        wanted = set(remaining_questions(tracker.slots, core, rules)) | answered
        profile, _ = profile_from_answers(tracker.slots)
        extra = [s for s in ASKED_IF_DECISIVE if s in domain_slots]
        wanted |= {q.field for q in questions_that_could_change(profile, rules, fields=extra)}
        return [slot for slot in domain_slots if slot in wanted]

    def extract_slot(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """The latest message as a candidate answer to `slot`, if it is being asked."""
        if tracker.get_slot("requested_slot") != slot or tracker.get_slot(slot) is not None:
            return {}
        # The raw top intent: `get_intent_of_latest_message` would skip `nlu_fallback`,
        # but an unclear message is exactly the answer whose misses we must count.
        if (tracker.latest_message.get("intent") or {}).get("name") not in ANSWER_INTENTS:
            return {}
        if profile_slots_set_by_latest_message(tracker):
            # The message answered something else (e.g. named the OS): no miss to count;
            # the answer is noted and the question asked again (see `run`).
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        if not text or text.startswith("/"):
            return {}
        return {slot: text}

    def validate_slot(
        self,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """The answer to `slot` in the words the rules use; after misses, the default."""
        answer = normalise_answer(slot, value)
        if answer is None and slot == tracker.get_slot("requested_slot"):
            # A short reply ("lots", "pretty well") read for the question being asked.
            answer = answer_from_candidates(
                slot, tracker.latest_message.get("answer_candidates"))
        if answer is None:
            # An entity can be a fragment ("code" of "strangers' code"): read the whole
            # message for this question before calling it a miss.
            answer = normalise_answer(slot, tracker.latest_message.get("text") or "")
        retries = _retries(tracker)
        if answer is not None:
            return {slot: [answer] if slot == "os_mix" else answer,
                    RETRIES_SLOT: record_answer(retries, slot)}
        if slot != tracker.get_slot("requested_slot"):
            return {slot: None}  # an entity for another question that made no sense
        miss = record_miss(retries, slot)
        if miss.assume_default:
            dispatcher.utter_message(
                response="utter_advisor_assumed",
                assumption=default_description(slot, advisor_rules()),
            )
            return {slot: NOT_SURE, RETRIES_SLOT: miss.retries}
        return {slot: None, RETRIES_SLOT: miss.retries}


class ActionRecommend(Action):
    """Give the recommendation (again, after a correction) and keep it for the lead."""

    def name(self) -> str:
        return "action_recommend"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rules = advisor_rules()
        answers = {field: tracker.get_slot(field) for field in FIELD_ORDER}
        events: list[EventType] = []
        previous = tracker.get_slot("recommendation")
        if tracker.get_slot("advisor_done") and isinstance(previous, dict):
            mentioned = profile_slots_set_by_latest_message(tracker)
            reading = None if mentioned else correction_from_candidates(
                tracker.latest_message.get("answer_candidates"), FIELD_ORDER)
            if reading:
                # A short reply ("no databases"): its clear reading, as if it were an entity.
                field, value = reading
                answers[field], mentioned = ([value] if field == "os_mix" else value), [field]
            answers, changed = apply_correction(
                answers,
                mentioned,
                previous.get("profile") or {},
                tracker.latest_message.get("text") or "",
            )
            if not changed:
                dispatcher.utter_message(response="utter_advisor_no_change")
                return []
            events += [SlotSet(f, [answers[f]] if f == "os_mix" else answers[f]) for f in changed]
            dispatcher.utter_message(
                response="utter_advisor_updated",
                changes="; ".join(describe_answers({f: answers[f] for f in changed}, rules)),
            )
        profile, not_sure = profile_from_answers(answers)
        rec = recommend(profile, rules)
        dispatcher.utter_message(
            response="utter_advisor_result",
            # "What I understood": each field's value, said or assumed (the widget lets a
            # click change one).
            json_message={"scorecard": {**scorecard(rec),
                                        "understood": understood_profile(answers, rules)}},
            **chat_fields(rec, not_sure),
            # "Was this helpful?", after the response's own buttons.
            buttons=feedback_buttons(recommendation_subject(rec.verdict)),
        )
        kept = {**rec.to_dict(), "not_sure": list(not_sure)}
        return [
            *events,
            SlotSet("recommendation", kept),
            SlotSet("advisor_done", True),
            SlotSet(RETRIES_SLOT, None),
        ]


class ActionResetAdvisor(Action):
    """Forget the last workload's answers before a new recommendation.

    Answers given in the message that starts it again are kept.
    """

    def name(self) -> str:
        return "action_reset_advisor"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        fresh = set(profile_slots_set_by_latest_message(tracker))
        return [
            *(SlotSet(field, None) for field in FIELD_ORDER if field not in fresh),
            SlotSet("advisor_done", False),
            SlotSet(RETRIES_SLOT, None),
            SlotSet(EXPLAIN_SLOT, False),
        ]
