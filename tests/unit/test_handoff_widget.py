"""The widget channel's side of the handoff: which messages it hands to a person, and
that the action's start payload starts the handoff instead of reaching the visitor."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, UserUttered

from bot.channels.widget.channel import HandoffReading, WidgetInput, WidgetOutput
from bot.handoff.desk import HandoffDesk
from bot.handoff.signals import START_PAYLOAD
from bot.handoff.states import Change
from bot.handoff.store import MemoryHandoffStore
from bot.opening_hours import parse_hours, time_zone
from bot.settings import load_settings
from tests.unit.test_handoff_desk import SATURDAY_NOON, TUESDAY_NOON, FakeLog, FakeThreads

SETTINGS = load_settings({"SLACK_TOKEN": "t", "SLACK_SIGNING_SECRET": "s",
                          "SLACK_SALES_CHANNEL": "C0SALES"})
SESSION = "0123456789abcdef0123456789abcdef"


class FakeAgent:
    def __init__(self, intent: str, in_form: bool) -> None:
        self.intent = intent
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.in_form = in_form

    async def parse_message(self, text: str) -> dict[str, Any]:
        return {"text": text, "intent": {"name": self.intent, "confidence": 0.9},
                "entities": []}

    async def prepare(self) -> None:
        tracker = await self.tracker_store.get_or_create_tracker(SESSION)
        tracker.update(UserUttered("hi"))
        if self.in_form:
            tracker.update(ActiveLoop("lead_form"))
        await self.tracker_store.save(tracker)


@pytest.mark.parametrize(("intent", "clock", "in_form", "before", "handed_off"), [
    ("request_person", TUESDAY_NOON, False, None, True),
    ("contact_sales", TUESDAY_NOON, False, None, True),  # "talk to sales", the fallback's button
    ("ask_difference", TUESDAY_NOON, False, None, False),
    ("contact_sales", SATURDAY_NOON, False, None, False),  # closed: the lead form
    ("contact_sales", TUESDAY_NOON, True, None, False),  # inside the lead form
    ("contact_sales", TUESDAY_NOON, False, Change.WAIT_EXPIRED, False),  # just unanswered
    ("request_person", TUESDAY_NOON, False, Change.ENDED, True),  # again, after an end
])
def test_which_messages_are_handed_to_a_person(intent: str, clock: Any, in_form: bool,
                                               before: Change | None, handed_off: bool) -> None:
    async def scenario() -> HandoffReading:
        store = MemoryHandoffStore()
        desk = HandoffDesk(store, FakeThreads(), FakeLog(), parse_hours("Mon-Fri 09:00-17:00"),
                           time_zone("Europe/Berlin"), 30.0, clock=lambda: clock)
        if before is not None:
            await store.start(SESSION)
            await store.change(SESSION, Change.THREAD_OPENED, thread_ts="T1")
            await store.change(SESSION, before)
        agent = FakeAgent(intent, in_form)
        await agent.prepare()
        channel = WidgetInput(settings=SETTINGS)
        # A stand-in for the Sanic app: the channel reads only `app.ctx`.
        channel.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent,  # type: ignore[assignment]
                                                          handoff_desk=desk))
        return await channel._read_for_handoff(desk, SESSION, "talk to someone")

    reading = asyncio.run(scenario())
    assert reading.hands_off is handed_off
    if clock is SATURDAY_NOON:  # nobody to hand off to: nothing is read before Rasa
        assert reading.parse_data is None
        return
    # Read once, here: Rasa gets this parse and does not parse the message again.
    assert reading.parse_data is not None
    assert reading.parse_data["text"] == "talk to someone"  # the visitor's words are kept
    expected = "request_person" if handed_off else intent
    assert reading.parse_data["intent"]["name"] == expected


def test_the_start_payload_starts_the_handoff_and_is_not_shown() -> None:
    class Sio:
        emitted: list[Any] = []

        async def emit(self, *args: Any, **kwargs: Any) -> None:
            self.emitted.append(args)

    started: list[str] = []
    output = WidgetOutput(Sio(), "bot_uttered", on_handoff=started.append)
    asyncio.run(output.send_response(SESSION, {"custom": START_PAYLOAD}))
    asyncio.run(output.send_response(SESSION, {"text": "I'm asking someone"}))
    assert started == [SESSION]
    assert Sio.emitted == [("bot_uttered", {"sender": "bot", "text": "I'm asking someone"})]
    assert output.sent == 1
