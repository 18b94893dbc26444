"""`action_request_person`: a handoff when the channel marked one available, else the
lead form's offer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestPerson
from bot.handoff.signals import START_PAYLOAD


def tracker_after(metadata: dict[str, Any] | None) -> Tracker:
    events = [{"event": "action", "name": "action_listen"},
              {"event": "user", "text": "can I talk to a human?", "metadata": metadata or {},
               "parse_data": {"intent": {"name": "request_person"}}}]
    return Tracker("c1", {}, {"intent": {"name": "request_person"}}, events, False, None,
                   {}, "action_listen")


@pytest.mark.parametrize(("metadata", "responses", "custom", "events"), [
    ({"handoff_offered": True}, ["utter_handoff_started"], [START_PAYLOAD],
     [ConversationPaused()]),
    (None, ["utter_handoff_unavailable"], [], []),
    ({"handoff_offered": "yes"}, ["utter_handoff_unavailable"], [], []),  # only the channel's
])
def test_request_person(metadata: dict[str, Any] | None, responses: list[str],
                        custom: list[dict[str, Any]], events: list[Any]) -> None:
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ActionRequestPerson().run(dispatcher, tracker_after(metadata), {}))
    assert [m["response"] for m in dispatcher.messages if m.get("response")] == responses
    assert [m["custom"] for m in dispatcher.messages if m.get("custom")] == custom
    assert result == events
