"""Erasing a conversation's events from Rasa's SQL tracker store ("forget me").

Why not delete them in the action itself: Rasa saves the tracker after the action
returns, appending "the events not stored yet" counted by rows since the last session
start; with the rows gone it would write the whole conversation back. So "forget me"
queues an erasure (conversation id, cut-off timestamp) and the delivery worker deletes
the events stamped up to the cut-off in a few passes over the next minutes, which also
catches a write-back racing with the first pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, inspect
from sqlalchemy.engine import Engine

from bot.leads.model import utc_now
from bot.leads.unit_of_work import UnitOfWork

# Rasa's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent), the columns we use.
_tracker_metadata = MetaData()
tracker_events = Table(
    "events",
    _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)

# How long an erasure keeps being re-run to catch late write-backs.
ERASURE_WINDOW = timedelta(minutes=10)


def erase_conversation_events(
    tracker_engine: Engine, conversation_id: str, before_timestamp: float
) -> int:
    """Delete the conversation's tracker events stamped up to `before_timestamp`.

    Returns:
        How many events were deleted (0 when the tracker store has no events table).
    """
    with tracker_engine.begin() as conn:
        if not inspect(conn).has_table("events"):
            return 0
        result = conn.execute(
            delete(tracker_events).where(
                tracker_events.c.sender_id == conversation_id,
                tracker_events.c.timestamp <= before_timestamp,
            )
        )
        return int(result.rowcount)


def process_erasures(
    uow: UnitOfWork,
    tracker_engine: Engine | None,
    clock: Callable[[], datetime] = utc_now,
    window: timedelta = ERASURE_WINDOW,
    min_age: timedelta = timedelta(0),
) -> int:
    """Run every open erasure once; close those older than `window`.

    Args:
        uow: The leads database's unit of work (where erasures are queued).
        tracker_engine: Rasa's tracker store database; None when there is none.
        clock: The current UTC time.
        window: How long an erasure is repeated.
        min_age: Leave younger requests for later (the action server waits a few
            seconds, so that Rasa has saved the "forget me" turn first).

    Returns:
        The number of tracker events deleted in this pass.
    """
    with uow:
        erasures = uow.erasures.open()
    deleted_total = 0
    for erasure in erasures:
        if clock() - erasure.requested_at < min_age:
            continue
        deleted = 0
        if tracker_engine is not None:
            deleted = erase_conversation_events(
                tracker_engine, erasure.conversation_id, erasure.before_timestamp
            )
        now = clock()
        with uow:
            uow.erasures.record_pass(
                erasure.id, deleted, now, done=now - erasure.requested_at >= window
            )
            uow.commit()
        deleted_total += deleted
    return deleted_total
