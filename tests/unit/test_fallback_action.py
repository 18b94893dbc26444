from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallbackWithTopics


def _tracker(answers: list[dict[str, Any]], intents: list[dict[str, Any]]) -> Tracker:
    latest = {"text": "hmm esxi?", "intent": {"name": "nlu_fallback", "confidence": 0.3},
              "intent_ranking": intents, "entities": [],
              "response_selector": {"default": {"ranking": answers}}}
    return Tracker("visitor", {}, latest, [], False, None, {}, "action_listen")


@pytest.mark.asyncio
async def test_offers_the_likely_specific_answers_as_buttons() -> None:
    dispatcher = CollectingDispatcher()
    answers = [{"intent_response_key": "ask_cost/esxi_free", "confidence": 0.3,
                "title": "Is ESXi still free?"},
               {"intent_response_key": "ask_offerings/vms", "confidence": 0.2,
                "title": "ask_offerings/vms"}]
    events = await ActionDefaultFallbackWithTopics().run(
        dispatcher, _tracker(answers, [{"name": "ask_cost", "confidence": 0.28}]), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert [b["title"] for b in message["buttons"]] == [
        "Is ESXi still free?", "Our Cloud Compute VMs", "Something else"]
    assert message["buttons"][0]["payload"] == '/show_answer{"answer_key": "ask_cost/esxi_free"}'
    assert events == [UserUtteranceReverted()]


@pytest.mark.asyncio
async def test_says_what_is_in_scope_when_nothing_is_likely() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallbackWithTopics().run(
        dispatcher, _tracker([], [{"name": "greet", "confidence": 0.9}]), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]
    assert events == [UserUtteranceReverted()]
