"""What the assistant does when it is not sure what the visitor meant."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.offerings import load_catalogue
from bot.topics import MISSES_BEFORE_OFFERING_PERSON, misses_in_a_row, suggest_answers


def answer_ranking(latest_message: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer selector's ranking over every answer, or [] when it did not run."""
    selector = latest_message.get("response_selector") or {}
    ranking = (selector.get("default") or {}).get("ranking")
    return list(ranking) if isinstance(ranking, list) else []


# The actions that answer a message the assistant could not help with.
MISS_ACTIONS = frozenset({"action_default_fallback_with_topics", "action_out_of_scope"})


def offer_person_after_misses(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Two misunderstandings in a row: a person may do better than a third guess."""
    if misses_in_a_row(tracker.events, MISS_ACTIONS) + 1 >= MISSES_BEFORE_OFFERING_PERSON:
        dispatcher.utter_message(response="utter_offer_person")


class ActionDefaultFallbackWithTopics(Action):
    """Offer the two likeliest specific answers as buttons, or say what is in scope."""

    def name(self) -> str:
        return "action_default_fallback_with_topics"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        latest = tracker.latest_message or {}
        catalogue = load_catalogue()
        titles = {key: title for key in catalogue.answer_keys()
                  if (title := catalogue.title(key))}
        suggestions = suggest_answers(answer_ranking(latest),
                                      latest.get("intent_ranking") or [], titles)
        if suggestions:
            buttons = [{"title": s.title, "payload": s.payload} for s in suggestions]
            buttons.append({"title": "Something else", "payload": "/help"})
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        offer_person_after_misses(dispatcher, tracker)
        # The unclear message is taken back so that it does not steer later predictions
        # (and an active form resumes as if it had not been said).
        return [UserUtteranceReverted()]


class ActionOutOfScope(Action):
    """Say what the assistant can help with; offer a person after repeated misses.

    Gibberish mostly lands here rather than in the fallback, so both count as misses.
    """

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_out_of_scope")
        offer_person_after_misses(dispatcher, tracker)
        return []
