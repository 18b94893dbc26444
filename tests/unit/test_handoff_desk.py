"""The handoff desk with hand-written fakes for Slack's threads and Rasa's tracker."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event

from bot.handoff.desk import ENDED_RESPONSE, NO_ANSWER_RESPONSE, HandoffDesk
from bot.handoff.states import Change, Status
from bot.handoff.store import Delivery, MemoryHandoffStore
from bot.handoff.summary import (
    HANDOFF_END_ACTION,
    Turn,
    brief_from_slots,
    handoff_blocks,
)
from bot.opening_hours import parse_hours, time_zone

TUESDAY_NOON = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SATURDAY_NOON = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
LEAD_FORM_BUTTON = {"title": "Leave my details", "payload": "/contact_sales"}


class FakeThreads:
    def __init__(self, fail_open: bool = False) -> None:
        self.fail_open = fail_open
        self.opened: list[list[dict[str, Any]]] = []
        self.posts: list[tuple[str, str]] = []

    async def open(self, text: str, blocks: Sequence[dict[str, Any]]) -> str:
        if self.fail_open:
            raise ConnectionError("Slack is down")
        self.opened.append(list(blocks))
        return f"1700000000.00000{len(self.opened)}"

    async def post(self, thread_ts: str, text: str) -> None:
        self.posts.append((thread_ts, text))

    async def display_name(self, user_id: str) -> str:
        return {"U0DANA": "Dana"}.get(user_id, "our solutions team")


class FakeLog:
    def __init__(self) -> None:
        self.appended: dict[str, list[Event]] = {}
        self.slots: dict[str, Any] = {"lead_company": "Acme"}
        self.turns = [Turn("visitor", "can I talk to a human?")]

    async def read(self, conversation_id: str) -> tuple[dict[str, Any], list[Turn]]:
        return self.slots, self.turns

    async def wait_for_turn(self, conversation_id: str) -> None:
        return None

    async def append(self, conversation_id: str, events: Sequence[Event]) -> None:
        self.appended.setdefault(conversation_id, []).extend(events)

    def response(self, name: str) -> dict[str, Any]:
        if name == NO_ANSWER_RESPONSE:
            return {"text": "Nobody is free.", "buttons": [LEAD_FORM_BUTTON]}
        return {"text": "Back with the assistant."} if name == ENDED_RESPONSE else {}


def make_desk(threads: FakeThreads | None = None, clock: datetime = TUESDAY_NOON,
              wait_seconds: float = 30.0) -> tuple[HandoffDesk, FakeThreads, FakeLog,
                                                   list[Delivery]]:
    threads = threads or FakeThreads()
    log = FakeLog()
    desk = HandoffDesk(MemoryHandoffStore(), threads, log, parse_hours("Mon-Fri 09:00-17:00"),
                       time_zone("Europe/Berlin"), wait_seconds, clock=lambda: clock)
    return desk, threads, log, []


async def listening(desk: HandoffDesk, deliveries: list[Delivery]) -> asyncio.Task[None]:
    async def collect(delivery: Delivery) -> None:
        deliveries.append(delivery)

    task = asyncio.ensure_future(desk.listen(collect))
    await asyncio.sleep(0)
    return task


def test_a_whole_handoff_from_request_to_done() -> None:
    async def scenario() -> None:
        desk, threads, log, deliveries = make_desk()
        listener = await listening(desk, deliveries)
        assert await desk.may_hand_off("c1")
        state = await desk.start("c1")
        assert state is not None and state.status is Status.WAITING
        assert not await desk.may_hand_off("c1")  # one at a time
        assert deliveries[-1] == {"conversation_id": "c1", "kind": "status",
                                  "status": "waiting"}

        assert await desk.visitor_said("c1", "hello?")
        assert threads.posts[-1] == (state.thread_ts, "*Visitor:* hello?")

        assert await desk.engineer_said(state.thread_ts, "U0DANA", "Hi, Dana here")
        assert deliveries[-1] == {"conversation_id": "c1", "kind": "message", "status": "live",
                                  "engineer": "Dana", "text": "Hi, Dana here"}
        stored = log.appended["c1"][-1]
        assert isinstance(stored, BotUttered)
        assert (stored.text, stored.metadata) == ("Hi, Dana here", {"handoff_engineer": "Dana"})
        active = await desk.active("c1")
        assert active is not None and active.engineer == "Dana"

        assert await desk.engineer_said(state.thread_ts, "U0DANA", " /done ")
        resumed, back, listen = log.appended["c1"][-3:]
        assert isinstance(resumed, ConversationResumed)
        assert back.text == "Back with the assistant."
        assert isinstance(listen, ActionExecuted) and listen.action_name == "action_listen"
        assert deliveries[-1]["kind"] == "ended"
        assert "ended by the sales engineer" in threads.posts[-1][1]
        assert await desk.active("c1") is None
        assert not await desk.visitor_said("c1", "still there?")  # the bot answers again
        assert not await desk.engineer_said(state.thread_ts, "U0DANA", "/done")  # once only
        assert await desk.may_hand_off("c1")  # may ask again later
        listener.cancel()

    asyncio.run(scenario())


def test_nobody_answering_offers_the_lead_form_once() -> None:
    async def scenario() -> None:
        desk, threads, log, deliveries = make_desk(wait_seconds=0.05)
        listener = await listening(desk, deliveries)
        state = await desk.start("c2")
        assert state is not None
        await asyncio.sleep(0.2)
        assert deliveries[-1] == {"conversation_id": "c2", "kind": "ended",
                                  "status": "timed_out", "text": "Nobody is free.",
                                  "buttons": [LEAD_FORM_BUTTON]}
        resumed, offer, _ = log.appended["c2"]
        assert isinstance(resumed, ConversationResumed)
        assert offer.data == {"buttons": [LEAD_FORM_BUTTON]}
        assert "Nobody answered" in threads.posts[-1][1]
        # A late reply changes nothing, and no second handoff is offered.
        assert not await desk.engineer_said(state.thread_ts, "U0DANA", "sorry, here now")
        assert not await desk.may_hand_off("c2")
        listener.cancel()

    asyncio.run(scenario())


def test_a_thread_that_cannot_be_opened_offers_the_lead_form() -> None:
    async def scenario() -> None:
        desk, _, log, deliveries = make_desk(FakeThreads(fail_open=True))
        listener = await listening(desk, deliveries)
        assert await desk.start("c3") is None
        assert deliveries[-1]["status"] == "timed_out"
        assert isinstance(log.appended["c3"][0], ConversationResumed)
        listener.cancel()

    asyncio.run(scenario())


def test_the_visitor_leaving_ends_it_unless_they_come_back() -> None:
    async def scenario() -> None:
        desk, _, _, _ = make_desk()
        await desk.start("c4")
        await desk.start("c5")
        desk.visitor_left("c4", 0.05)
        desk.visitor_left("c5", 0.05)
        desk.visitor_back("c5")  # a reload
        await asyncio.sleep(0.2)
        assert await desk.active("c4") is None
        assert await desk.active("c5") is not None

    asyncio.run(scenario())


@pytest.mark.parametrize(("clock", "threads", "staffed"), [
    (TUESDAY_NOON, FakeThreads(), True),
    (SATURDAY_NOON, FakeThreads(), False),
    (TUESDAY_NOON, None, False),  # no sales channel
])
def test_staffed_only_with_a_channel_within_hours(clock: datetime, threads: FakeThreads | None,
                                                  staffed: bool) -> None:
    desk = HandoffDesk(MemoryHandoffStore(), threads, FakeLog(), parse_hours("Mon-Fri 09:00-17:00"),
                       time_zone("Europe/Berlin"), 30.0, clock=lambda: clock)
    assert desk.is_staffed_now() is staffed


def test_the_thread_opens_with_recommendation_profile_lead_and_last_turns() -> None:
    recommendation = {"verdict": "container", "title": "Containers", "confidence": 0.82,
                      "profile": {"startup": "seconds", "os_mix": "linux_only", "legacy": None}}
    turns = [Turn("visitor", f"message {i}") for i in range(12)]
    brief = brief_from_slots("c6", {"recommendation": recommendation, "lead_id": "L-1",
                                    "lead_tier": "hot", "lead_company": "Acme <Inc>"}, turns)
    blocks = handoff_blocks(brief)
    text = repr(blocks)
    assert "*Recommendation:* Containers (82% sure)" in text
    assert "*Startup*\\nSeconds" in text and "Legacy" not in text
    assert "*Lead:* L-1" in text and "Acme &lt;Inc&gt;" in text
    assert "message 11" in text and "message 3" not in text  # the last 8 turns only
    button = blocks[-1]["elements"][0]
    assert (button["action_id"], button["value"]) == (HANDOFF_END_ACTION, "c6")
    bare = repr(handoff_blocks(brief_from_slots("c7", {}, [])))
    assert "No recommendation yet." in bare and "Lead" not in bare


def test_a_reply_quicker_than_the_threads_record_is_not_lost() -> None:
    async def scenario() -> bool:
        desk, _, _, _ = make_desk()
        await desk.store.start("c8")

        async def recorded_late() -> None:
            await asyncio.sleep(0.3)
            await desk.store.change("c8", Change.THREAD_OPENED, thread_ts="T8")

        late = asyncio.ensure_future(recorded_late())
        relayed = await desk.engineer_said("T8", "U0DANA", "Hi!")
        await late
        return relayed

    assert asyncio.run(scenario()) is True


def test_without_its_store_the_desk_lets_the_bot_answer() -> None:
    class DownStore(MemoryHandoffStore):
        async def get(self, conversation_id: str) -> Any:
            raise ConnectionError("Redis is down")

    desk = HandoffDesk(DownStore(), FakeThreads(), FakeLog(), parse_hours("Mon-Fri 09:00-17:00"),
                       time_zone("Europe/Berlin"), 30.0, clock=lambda: TUESDAY_NOON)

    async def scenario() -> tuple[bool, Any, bool]:
        return (await desk.may_hand_off("c9"), await desk.active("c9"),
                await desk.visitor_said("c9", "hello"))

    assert asyncio.run(scenario()) == (False, None, False)
