"""The actions that show a named answer, "tell me more", and answers about our products."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerOffering, ActionShowAnswer, last_answer_key, more_on
from bot.offerings import load_catalogue

DOMAIN = {"responses": {"utter_ask_cost/esxi_free": [{"text": "ESXi..."}],
                        "utter_ask_cost/general": [{"text": "Costs..."}]}}


def _user(intent: str, answer: str | None = None,
          entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    parse = {"intent": {"name": intent}, "entities": entities or []}
    if answer:
        parse["response_selector"] = {intent: {"response": {"intent_response_key": answer}}}
    return {"event": "user", "parse_data": parse}


def _tracker(latest: dict[str, Any], events: list[dict[str, Any]]) -> Tracker:
    return Tracker("visitor", {}, latest["parse_data"], events, False, None, {},
                   "action_listen")


async def _run(action: Any, tracker: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker, DOMAIN)
    messages: list[dict[str, Any]] = dispatcher.messages
    return messages


@pytest.mark.asyncio
async def test_a_button_shows_the_answer_it_names() -> None:
    latest = _user("show_answer", entities=[{"entity": "answer_key",
                                             "value": "ask_cost/esxi_free"}])
    [message] = await _run(ActionShowAnswer(), _tracker(latest, [latest]))
    assert message["response"] == "utter_ask_cost/esxi_free"


@pytest.mark.asyncio
async def test_an_unknown_answer_asks_for_a_rephrase() -> None:
    latest = _user("show_answer", entities=[{"entity": "answer_key", "value": "ask_cost/nope"}])
    [message] = await _run(ActionShowAnswer(), _tracker(latest, [latest]))
    assert message["response"] == "utter_ask_rephrase"


@pytest.mark.asyncio
async def test_tell_me_more_after_a_specific_answer_gives_the_topic_overview() -> None:
    latest = _user("show_answer")
    events = [_user("ask_cost", "ask_cost/esxi_free"), {"event": "bot"}, latest]
    [message] = await _run(ActionShowAnswer(), _tracker(latest, events))
    assert message["response"] == "utter_ask_cost/general"


@pytest.mark.asyncio
async def test_tell_me_more_after_an_overview_says_so() -> None:
    latest = _user("show_answer")
    events = [_user("ask_cost", "ask_cost/general"), latest]
    [message] = await _run(ActionShowAnswer(), _tracker(latest, events))
    assert message["response"] == "utter_no_more_detail"


def test_the_last_answer_is_found_through_buttons_too() -> None:
    events = [_user("ask_cost", "ask_cost/esxi_free"),
              _user("show_answer", entities=[{"entity": "answer_key",
                                              "value": "ask_portability/vm_migration"}]),
              _user("show_answer")]
    assert last_answer_key(events) == "ask_portability/vm_migration"
    assert more_on("ask_portability/vm_migration") == "ask_portability/general"
    assert more_on("ask_offerings/vms") is None and more_on(None) is None


@pytest.mark.asyncio
async def test_a_question_about_our_products_is_answered_from_the_catalogue() -> None:
    latest = _user("ask_offerings", "ask_offerings/managed_kubernetes")
    [message] = await _run(ActionAnswerOffering(), _tracker(latest, [latest]))
    assert message["text"] == load_catalogue().offerings["managed_kubernetes"].answer
    assert "/contact_sales" in [b["payload"] for b in message["buttons"]]


@pytest.mark.asyncio
async def test_a_platform_answer_links_the_products_it_names() -> None:
    latest = _user("ask_offerings", "ask_offerings/windows_support")
    [message] = await _run(ActionAnswerOffering(), _tracker(latest, [latest]))
    linked = load_catalogue().platform_answers["windows_support"].offerings
    titles = [b["title"] for b in message["buttons"]]
    for name in linked:
        assert load_catalogue().offerings[name].title in titles


@pytest.mark.asyncio
async def test_no_chosen_product_lists_them_all() -> None:
    latest = _user("ask_offerings")
    [message] = await _run(ActionAnswerOffering(), _tracker(latest, [latest]))
    for offering in load_catalogue().offerings.values():
        assert offering.name in message["text"]
