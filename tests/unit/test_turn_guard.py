"""`run_turn`: a turn that fails, stays silent or is too slow still gets the visitor an answer."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.channels.turns import (
    TURN_FAILED_TEXT,
    TURN_SLOW_TEXT,
    TurnOutcome,
    notice_text,
    run_turn,
)
from bot.settings import load_settings


class FakeTurn:
    """A turn that says something, says nothing, fails, or waits until released."""

    def __init__(self, says: str | None = "hello", fails: bool = False,
                 delay: float = 0.0) -> None:
        self.says = says
        self.fails = fails
        self.delay = delay
        self.said: list[str] = []
        self.finished = False
        self.release = asyncio.Event()

    async def __call__(self) -> None:
        if self.delay:
            await asyncio.wait_for(self.release.wait(), self.delay)
        if self.fails:
            raise RuntimeError("action server unreachable")
        if self.says is not None:
            self.said.append(self.says)
        self.finished = True

    def answered(self) -> bool:
        return bool(self.said)


def test_an_answered_turn_is_answered() -> None:
    turn = FakeTurn()
    outcome = asyncio.run(run_turn(turn(), turn.answered, 5.0, channel="test"))
    assert outcome is TurnOutcome.ANSWERED
    assert notice_text(outcome) is None
    assert turn.said == ["hello"]


def test_a_turn_without_any_message_gets_an_apology() -> None:
    turn = FakeTurn(says=None)
    outcome = asyncio.run(run_turn(turn(), turn.answered, 5.0, channel="test"))
    assert outcome is TurnOutcome.SILENT
    assert notice_text(outcome) == TURN_FAILED_TEXT


def test_a_failing_turn_gets_an_apology_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turn = FakeTurn(fails=True)
    with caplog.at_level(logging.ERROR, logger="bot.channels.turns"):
        outcome = asyncio.run(run_turn(turn(), turn.answered, 5.0, channel="test"))
    assert outcome is TurnOutcome.FAILED
    assert notice_text(outcome) == TURN_FAILED_TEXT
    assert any("failed to handle a message" in r.getMessage() for r in caplog.records)
    assert any(r.exc_info for r in caplog.records), "the traceback was not logged"


def test_a_slow_turn_times_out_and_keeps_running_to_its_end() -> None:
    async def scenario() -> tuple[TurnOutcome, float, bool, FakeTurn]:
        turn = FakeTurn(delay=5.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        outcome = await run_turn(turn(), turn.answered, 0.05, channel="test")
        waited = loop.time() - started
        finished_at_timeout = turn.finished
        turn.release.set()  # the action server comes back
        for _ in range(100):
            if turn.finished:
                break
            await asyncio.sleep(0.01)
        return outcome, waited, finished_at_timeout, turn

    outcome, waited, finished_at_timeout, turn = asyncio.run(scenario())
    assert outcome is TurnOutcome.TIMED_OUT
    assert notice_text(outcome) == TURN_SLOW_TEXT
    assert waited < 1.0
    assert not finished_at_timeout
    assert turn.finished and turn.said == ["hello"], "the shielded turn was cancelled"


def test_a_live_channel_is_told_the_turn_is_slow_then_gets_the_late_answer() -> None:
    async def scenario() -> tuple[TurnOutcome, list[str]]:
        turn = FakeTurn(delay=5.0)
        events: list[str] = []

        async def on_slow() -> None:
            events.append("slow")
            turn.release.set()

        outcome = await run_turn(turn(), turn.answered, 0.05, channel="test",
                                 on_slow=on_slow)
        return outcome, events + turn.said

    outcome, events = asyncio.run(scenario())
    assert outcome is TurnOutcome.ANSWERED
    assert events == ["slow", "hello"]


def test_a_live_channel_gets_an_apology_when_the_late_turn_fails() -> None:
    async def scenario() -> TurnOutcome:
        turn = FakeTurn(delay=5.0, fails=True)

        async def on_slow() -> None:
            turn.release.set()

        return await run_turn(turn(), turn.answered, 0.05, channel="test", on_slow=on_slow)

    assert asyncio.run(scenario()) is TurnOutcome.FAILED


def test_a_cancelled_caller_leaves_the_turn_running() -> None:
    async def scenario() -> FakeTurn:
        turn = FakeTurn(delay=5.0)
        caller = asyncio.ensure_future(run_turn(turn(), turn.answered, 10.0, channel="test"))
        await asyncio.sleep(0.05)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        turn.release.set()
        for _ in range(100):
            if turn.finished:
                break
            await asyncio.sleep(0.01)
        return turn

    assert asyncio.run(scenario()).finished


@pytest.mark.parametrize(("env", "expected"), [({}, 10.0),
                                               ({"TURN_TIMEOUT_SECONDS": "2.5"}, 2.5)])
def test_the_time_limit_is_a_setting(env: dict[str, str], expected: float) -> None:
    assert load_settings(env).turn_timeout_seconds == expected
