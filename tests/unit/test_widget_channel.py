"""The widget channel's pieces: history, offered payloads, refusals, one event per message."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.conversation import (
    bot_message_payload,
    conversation_history,
    offered_payloads,
    refusal_for,
    screen_message,
)
from bot.channels.guard import MessageGuard, SlidingWindowRateLimiter, Verdict
from bot.channels.widget.channel import (
    STATIC_DIR,
    WidgetOutput,
    clean_metadata,
    inline_script_hashes,
)

DOMAIN = Domain.from_dict({
    "responses": {
        "utter_message_too_long": [{"text": "Too long: {max_chars} characters at most."}],
    }
})
CHOICES = [{"title": "Web shop", "payload": '/inform{"workload": "web"}'},
           {"title": "Batch jobs", "payload": '/inform{"workload": "batch"}'}]
CARD = {"verdict": "containers", "confidence": 0.8,
        "factors": [{"name": "startup", "label": "Fast start", "contribution": 1.5}]}


def agent_with(events: list[Any], sender: str = "a" * 32) -> SimpleNamespace:
    store = InMemoryTrackerStore(DOMAIN)
    tracker = DialogueStateTracker.from_events(sender, events)
    asyncio.run(store.save(tracker))
    return SimpleNamespace(tracker_store=store, domain=DOMAIN)


EVENTS = [
    ActionExecuted("action_session_start"),
    SessionStarted(),
    ActionExecuted("action_listen"),
    UserUttered("/ask_use_case_recommendation", metadata={"display_text": "Recommend for me"}),
    BotUttered("What kind of workload?", {"buttons": CHOICES}),
    ActionExecuted("action_listen"),
    UserUttered('/inform{"workload": "web"}'),
    BotUttered("Here is my recommendation.", {"custom": {"scorecard": CARD}}),
    BotUttered("Can I have your email?", {"custom": {"input": "email"}},
               {"utter_action": "utter_ask_email"}),
]


def test_history_shows_what_the_visitor_saw() -> None:
    history = asyncio.run(conversation_history(agent_with(EVENTS), "a" * 32))
    assert [(m["sender"], m.get("text")) for m in history] == [
        ("user", "Recommend for me"),  # the button title sent as display text
        ("bot", "What kind of workload?"),
        ("user", "Web shop"),  # a payload shown as the title of the button it came from
        ("bot", "Here is my recommendation."),
        ("bot", "Can I have your email?"),
    ]
    assert history[1]["buttons"] == CHOICES
    assert history[3]["custom"] == {"scorecard": CARD}
    assert history[4]["custom"] == {"input": "email"}
    assert history[4]["utter_action"] == "utter_ask_email"
    assert all(isinstance(m["timestamp"], float) for m in history)


def test_history_of_an_unknown_conversation_is_empty() -> None:
    assert asyncio.run(conversation_history(agent_with(EVENTS), "b" * 32)) == []
    assert asyncio.run(conversation_history(None, "b" * 32)) == []


def test_offered_payloads_are_the_buttons_since_the_user_last_spoke() -> None:
    sender = "c" * 32
    agent = agent_with(EVENTS[:5], sender)
    assert asyncio.run(offered_payloads(agent, sender)) == {c["payload"] for c in CHOICES}
    assert asyncio.run(offered_payloads(agent_with(EVENTS, sender), sender)) == set()


def test_screen_message_keeps_offered_and_strips_unoffered_payloads() -> None:
    sender = "d" * 32
    agent = agent_with(EVENTS[:5], sender)
    guard = MessageGuard(100, SlidingWindowRateLimiter(100, 60))
    result, text = asyncio.run(screen_message(agent, guard, sender, CHOICES[0]["payload"]))
    assert result.accepted and text == CHOICES[0]["payload"]
    result, text = asyncio.run(
        screen_message(agent, guard, sender, '/inform{"email": "eve@example.com"}'))
    assert result.accepted and text == "/inform"


def test_refusal_is_worded_by_the_domain() -> None:
    guard = MessageGuard(300, SlidingWindowRateLimiter(1, 60))
    agent = SimpleNamespace(domain=DOMAIN)
    assert refusal_for(agent, guard, Verdict.TOO_LONG) == "Too long: 300 characters at most."
    assert "faster" in refusal_for(agent, guard, Verdict.RATE_LIMITED)  # built-in wording


def test_bot_message_payload_normalises_buttons_and_drops_junk() -> None:
    payload = bot_message_payload({
        "text": "Pick",
        "quick_replies": [{"title": "A", "payload": "/a"}, {"title": 3}, "junk"],
        "custom": {"scorecard": CARD},
        "image": None,
        "utter_action": "utter_pick",
        "timestamp": 12.5,
    })
    assert payload == {"sender": "bot", "text": "Pick", "buttons": [{"title": "A",
                                                                     "payload": "/a"}],
                       "custom": {"scorecard": CARD}, "utter_action": "utter_pick",
                       "timestamp": 12.5}


class RecordingSocket:
    """Stands in for python-socketio's server: records emits."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, str | None]] = []

    async def emit(self, event: str, data: Any = None, room: str | None = None,
                   **_: Any) -> None:
        self.emitted.append((event, data, room))


def test_output_sends_text_buttons_and_scorecard_as_one_event() -> None:
    sio = RecordingSocket()
    output = WidgetOutput(sio, "bot_uttered")
    asyncio.run(output.send_response("room1", {"text": "Result", "buttons": CHOICES,
                                               "custom": {"scorecard": CARD}}))
    asyncio.run(output.send_custom_json("room1", {"input": "email"}))
    assert sio.emitted == [
        ("bot_uttered", {"sender": "bot", "text": "Result", "buttons": CHOICES,
                         "custom": {"scorecard": CARD}}, "room1"),
        ("bot_uttered", {"sender": "bot", "custom": {"input": "email"}}, "room1"),
    ]


def test_client_metadata_is_an_allow_list() -> None:
    assert clean_metadata({"display_text": "x" * 500, "email": "a@b.c", "slots": {}}) == {
        "display_text": "x" * 200}
    assert clean_metadata('{"display_text": "Web shop"}') == {"display_text": "Web shop"}
    assert clean_metadata("not json") == {}
    assert clean_metadata(["list"]) == {}


def test_demo_page_inline_script_is_hashed_for_its_csp() -> None:
    html = (STATIC_DIR / "demo.html").read_text()
    hashes = inline_script_hashes(html)
    assert len(hashes) == len(re.findall(r"<script>", html)) == 1
    assert hashes[0].startswith("'sha256-")
    # the widget embeds with a plain script tag, no inline handlers
    assert not re.search(r"\son[a-z]+=", html)
