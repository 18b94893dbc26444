"""Asking for a person: a live handoff when the channel found one available, else the
lead form's offer.

Thin: whether a sales engineer can take over now (a sales channel is set, it is within
business hours, the conversation did not just go unanswered) is decided by the widget
channel inside the Rasa server, which holds the handoff's state; it marks the visitor's
message `handoff_offered`. The action only says so, asks the channel to start the
handoff (a custom payload the channel consumes) and pauses the conversation so that the
bot stays silent while a person talks (Rasa's `ConversationPaused`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.handoff.signals import OFFERED_METADATA_KEY, START_PAYLOAD


def handoff_offered(events: Sequence[Mapping[str, Any]]) -> bool:
    """True when the channel marked the visitor's latest message as one to hand off."""
    latest = next((e for e in reversed(events) if e.get("event") == "user"), None)
    metadata = (latest or {}).get("metadata") or {}
    return metadata.get(OFFERED_METADATA_KEY) is True


class ActionRequestPerson(Action):
    """Hand the conversation to a person, or offer the lead form when nobody is there."""

    def name(self) -> str:
        return "action_request_person"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        if not handoff_offered(tracker.events):
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        dispatcher.utter_message(response="utter_handoff_started")
        dispatcher.utter_message(json_message=START_PAYLOAD)
        return [ConversationPaused()]
