from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallbackWithTopics


def _tracker(ranking: list[dict[str, Any]]) -> Tracker:
    latest = {"text": "hmm vms?", "intent": {"name": "nlu_fallback", "confidence": 0.3},
              "intent_ranking": ranking, "entities": []}
    return Tracker("visitor", {}, latest, [], False, None, {}, "action_listen")


@pytest.mark.asyncio
async def test_offers_the_likely_topics_as_buttons() -> None:
    dispatcher = CollectingDispatcher()
    ranking = [{"name": "nlu_fallback", "confidence": 0.3},
               {"name": "ask_difference", "confidence": 0.28},
               {"name": "ask_cost", "confidence": 0.2}]
    events = await ActionDefaultFallbackWithTopics().run(dispatcher, _tracker(ranking), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert [b["payload"] for b in message["buttons"]] == ["/ask_difference", "/ask_cost", "/help"]
    assert events == [UserUtteranceReverted()]


@pytest.mark.asyncio
async def test_asks_to_rephrase_when_nothing_is_likely() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallbackWithTopics().run(
        dispatcher, _tracker([{"name": "greet", "confidence": 0.9}]), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]
    assert events == [UserUtteranceReverted()]
