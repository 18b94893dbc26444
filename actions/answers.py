"""Answers that are not a plain retrieval response: chosen by a button, or about our products.

Most specific answers need no action: Rasa's retrieval action (`utter_ask_cost`) utters
the answer that the answer selector chose. These two cover the rest:
- a button that names an answer (`/show_answer{"answer_key": "ask_cost/esxi_free"}`), from
  the "more" buttons and the fallback's choices;
- questions about our products (`ask_offerings/...`), answered from `bot/offerings.yml`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.insights.feedback import feedback_buttons
from bot.offerings import OFFERINGS_INTENT, Catalogue, load_catalogue
from bot.topics import show_answer_payload

ANSWER_KEY_ENTITY = "answer_key"
# Each topic's overview answer: `ask_cost/general`.
GENERAL_ANSWER = "general"


def _offering_reply(dispatcher: CollectingDispatcher, catalogue: Catalogue,
                    answer_key: str | None, rated: bool = False) -> bool:
    """An answer about our products; with no key, the list of products."""
    found = catalogue.answer(answer_key) if answer_key else catalogue.overview()
    if found is None:
        return False
    text, linked = found
    buttons = [{"title": title, "payload": show_answer_payload(key)}
               for name in linked
               if (title := catalogue.title(key := f"{OFFERINGS_INTENT}/{name}"))]
    buttons.append({"title": "Recommend for my workload",
                    "payload": "/ask_use_case_recommendation"})
    buttons.append({"title": "Talk to our solutions team", "payload": "/contact_sales"})
    # "Was this helpful?" (retrieval answers get theirs from bot/insights/feedback_nlg.py).
    if rated and answer_key:
        buttons += feedback_buttons(answer_key)
    dispatcher.utter_message(text=text, buttons=buttons)
    return True


def _show(dispatcher: CollectingDispatcher, domain: dict[str, Any], answer_key: str,
          rated: bool = False) -> bool:
    """Utter the answer with this key; False when there is no such answer."""
    if answer_key.startswith(f"{OFFERINGS_INTENT}/"):
        return _offering_reply(dispatcher, load_catalogue(), answer_key, rated)
    response = f"utter_{answer_key}"
    if response not in (domain.get("responses") or {}):
        return False
    dispatcher.utter_message(response=response)
    return True


def last_answer_key(events: list[dict[str, Any]]) -> str | None:
    """The answer given before the latest message ("tell me more"), if any."""
    user_events = [e for e in events if e.get("event") == "user"]
    for event in reversed(user_events[:-1]):
        parse_data = event.get("parse_data") or {}
        named = next((e.get("value") for e in parse_data.get("entities") or []
                      if e.get("entity") == ANSWER_KEY_ENTITY), None)
        if isinstance(named, str):
            return named
        intent = (parse_data.get("intent") or {}).get("name")
        selected = (parse_data.get("response_selector") or {}).get(intent) or {}
        chosen = (selected.get("response") or {}).get("intent_response_key")
        if isinstance(chosen, str):
            return chosen
    return None


def more_on(answer_key: str | None) -> str | None:
    """The overview of an answer's topic ("tell me more"), or None when it was the overview."""
    if not answer_key or "/" not in answer_key:
        return None
    topic, specific = answer_key.split("/", 1)
    return None if specific == GENERAL_ANSWER or topic == OFFERINGS_INTENT else (
        f"{topic}/{GENERAL_ANSWER}")


class ActionShowAnswer(Action):
    """Show the answer that a button named; "tell me more" shows the topic's overview."""

    def name(self) -> str:
        return "action_show_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        named = next(tracker.get_latest_entity_values(ANSWER_KEY_ENTITY), None)
        if isinstance(named, str):
            if not _show(dispatcher, domain, named, rated=not tracker.active_loop_name):
                dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        overview = more_on(last_answer_key(tracker.events))
        if overview is None or not _show(dispatcher, domain, overview,
                                         rated=not tracker.active_loop_name):
            dispatcher.utter_message(response="utter_no_more_detail")
        return []


class ActionAnswerOffering(Action):
    """Answer a question about our products with the answer the selector chose."""

    def name(self) -> str:
        return "action_answer_offering"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        selector = (tracker.latest_message or {}).get("response_selector") or {}
        chosen = ((selector.get(OFFERINGS_INTENT) or {}).get("response") or {}).get(
            "intent_response_key")
        if not isinstance(chosen, str) or not _show(dispatcher, domain, chosen,
                                                    rated=not tracker.active_loop_name):
            _offering_reply(dispatcher, load_catalogue(), None)
        return []
