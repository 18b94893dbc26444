"""Actions of the workload advisor: the form's validation and questions, the result.

Thin by design: they read slots, call `bot.advisor`, utter responses and return events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.slot_hooks import SlotHooks
from bot.advisor.answers import (
    NOT_SURE,
    answer_from_candidates,
    apply_correction,
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
from bot.advisor.retries import question_responses, record_answer, record_miss
from bot.advisor.rules import Rules, load_rules
from bot.insights.feedback import feedback_buttons, recommendation_subject
from bot.settings import load_settings

FORM_NAME = "advisor_form"
# The form's questions, as in domain.yml; each has its own `action_ask_<slot>` below.
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
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        if asked is None:
            # Nothing asked yet, so the form is being activated: say what the opening
            # message already told us, so the visitor sees why some questions are skipped.
            noted = describe_answers(tracker.slots, advisor_rules())
            if noted:
                dispatcher.utter_message(response="utter_advisor_noted", noted="; ".join(noted))
        return events

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


class _AskAdvisorQuestion(Action, ABC):
    """Ask one form question; after misses, say so, then explain it with buttons.

    Abstract, so that the action server registers only the subclasses (one a question).
    """

    @property
    @abstractmethod
    def slot_name(self) -> str:
        """The form slot this action asks for; a subclass sets it as a class attribute."""

    def name(self) -> str:
        return f"action_ask_{self.slot_name}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        misses = _retries(tracker).get(self.slot_name, 0)
        for response in question_responses(self.slot_name, misses):
            dispatcher.utter_message(response=response)
        return []


def _ask_action_class(field: str) -> type[_AskAdvisorQuestion]:
    """`ActionAskOsMix` for `os_mix`: one ask action a question, made from the list."""
    class_name = "ActionAsk" + "".join(part.title() for part in field.split("_"))
    return type(class_name, (_AskAdvisorQuestion,), {"slot_name": field})


# The action server registers every concrete Action subclass, these included.
ASK_ACTIONS = tuple(_ask_action_class(field) for field in FORM_QUESTIONS)


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
            answers, changed = apply_correction(
                answers,
                profile_slots_set_by_latest_message(tracker),
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
        ]
