"""The handoff's state machine: every (status, change) pair, as a table."""

from __future__ import annotations

import pytest

from bot.handoff.states import (
    Change,
    HandoffState,
    Status,
    advance,
    may_start,
)

R, W, L, E, T = (Status.REQUESTED, Status.WAITING, Status.LIVE, Status.ENDED,
                 Status.TIMED_OUT)

EXPECTED = {
    # status: {change: next status}; every other change is refused (None).
    R: {Change.THREAD_OPENED: W, Change.OPEN_FAILED: T, Change.ENDED: E},
    W: {Change.ENGINEER_REPLIED: L, Change.WAIT_EXPIRED: T, Change.ENDED: E},
    L: {Change.ENGINEER_REPLIED: L, Change.ENDED: E},
    E: {},
    T: {},
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("change", list(Change))
def test_every_transition(status: Status, change: Change) -> None:
    assert advance(status, change) == EXPECTED[status].get(change)


def test_a_late_timer_cannot_undo_an_answer() -> None:
    assert advance(L, Change.WAIT_EXPIRED) is None
    assert advance(E, Change.WAIT_EXPIRED) is None


@pytest.mark.parametrize(("status", "active", "startable"), [
    (R, True, False), (W, True, False), (L, True, False), (E, False, True), (T, False, False),
])
def test_silence_and_restart(status: Status, active: bool, startable: bool) -> None:
    state = HandoffState("c1", status)
    assert state.is_active is active
    assert may_start(state) is startable
    assert may_start(None) is True


def test_state_survives_its_json() -> None:
    state = HandoffState("c1", L, thread_ts="1700000000.000100", engineer="Dana")
    assert HandoffState.from_json(state.to_json()) == state
    moved = state.moved(E)
    assert (moved.status, moved.thread_ts, moved.engineer) == (E, state.thread_ts, "Dana")
    assert moved.changed_at >= state.changed_at
