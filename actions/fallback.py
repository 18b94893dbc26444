"""What the assistant does when it is not sure what the visitor meant."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.topics import suggest_topics


class ActionDefaultFallbackWithTopics(Action):
    """Offer the two most likely topics as buttons, or ask for a rephrase."""

    def name(self) -> str:
        return "action_default_fallback_with_topics"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        suggestions = suggest_topics(ranking)
        if suggestions:
            buttons = [{"title": s.title, "payload": f"/{s.intent}"} for s in suggestions]
            buttons.append({"title": "Something else", "payload": "/help"})
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        # The unclear message is taken back so that it does not steer later predictions
        # (and an active form resumes as if it had not been said).
        return [UserUtteranceReverted()]
