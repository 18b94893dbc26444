from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallbackWithTopics, ActionOutOfScope


def _tracker(answers: list[dict[str, Any]], intents: list[dict[str, Any]],
             events: list[dict[str, Any]] | None = None) -> Tracker:
    latest = {"text": "hmm esxi?", "intent": {"name": "nlu_fallback", "confidence": 0.3},
              "intent_ranking": intents, "entities": [],
              "response_selector": {"default": {"ranking": answers}}}
    return Tracker("visitor", {}, latest, events or [], False, None, {}, "action_listen")


FALLBACK = "action_default_fallback_with_topics"


def _unclear_turn() -> list[dict[str, Any]]:
    """The events one unclear message leaves: taken back by the fallback."""
    return [{"event": "user", "text": "blorp"}, {"event": "action", "name": FALLBACK},
            {"event": "bot", "text": "Sorry"}, {"event": "rewind"},
            {"event": "action", "name": "action_listen"}]


def _answered_turn() -> list[dict[str, Any]]:
    return [{"event": "user", "text": "what is a vm?"},
            {"event": "action", "name": "utter_ask_vm_definition"},
            {"event": "bot", "text": "A VM is"},
            {"event": "action", "name": "action_listen"}]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("before", "offered"),
    [([], False),
     (_unclear_turn(), True),
     # An answered question in between: the misses are not in a row.
     (_unclear_turn() + _answered_turn(), False),
     (_answered_turn() + _unclear_turn(), True)],
)
async def test_a_second_unclear_message_in_a_row_offers_a_person(
    before: list[dict[str, Any]], offered: bool
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallbackWithTopics().run(
        dispatcher, _tracker([], [{"name": "greet", "confidence": 0.9}], before), {})
    responses = [m["response"] for m in dispatcher.messages]
    assert ("utter_offer_person" in responses) is offered
    assert responses[0] == "utter_out_of_scope"


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


@pytest.mark.asyncio
async def test_out_of_scope_twice_in_a_row_offers_a_person() -> None:
    out_of_scope_turn = [{"event": "user", "text": "zorgle wibble"},
                         {"event": "action", "name": "action_out_of_scope"},
                         {"event": "bot", "text": "Sorry"},
                         {"event": "action", "name": "action_listen"}]
    first, second = CollectingDispatcher(), CollectingDispatcher()
    await ActionOutOfScope().run(first, _tracker([], [], _answered_turn()), {})
    await ActionOutOfScope().run(second, _tracker([], [], out_of_scope_turn), {})
    assert [m["response"] for m in first.messages] == ["utter_out_of_scope"]
    assert [m["response"] for m in second.messages] == ["utter_out_of_scope",
                                                       "utter_offer_person"]
