"""What the assistant does when it is not sure what the visitor meant."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.offerings import load_catalogue
from bot.topics import suggest_answers


def answer_ranking(latest_message: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer selector's ranking over every answer, or [] when it did not run."""
    selector = latest_message.get("response_selector") or {}
    ranking = (selector.get("default") or {}).get("ranking")
    return list(ranking) if isinstance(ranking, list) else []


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
        # The unclear message is taken back so that it does not steer later predictions
        # (and an active form resumes as if it had not been said).
        return [UserUtteranceReverted()]
