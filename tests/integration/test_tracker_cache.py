"""The tracker cache (bot/rasa/tracker_cache.py) of our tracker store, on SQLite and PostgreSQL.

A cached tracker may only be handed out while it is what the database holds; these
tests write behind the cache's back (another replica, an erasure, a failed turn) and
check that the store reads the database again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.rasa.tracker_store import StrictSQLTrackerStore
from tests.support.databases import fresh_postgres_database

DOMAIN = Domain.empty()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_kwargs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Keyword arguments that point a tracker store at a fresh, empty database."""
    if request.param == "sqlite":
        yield {"domain": DOMAIN, "dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
        return
    with fresh_postgres_database("test_tracker_cache") as database:
        parts = make_url(database.url)
        yield {"domain": DOMAIN, "dialect": "postgresql", "host": parts.host,
               "port": parts.port, "db": parts.database, "username": parts.username,
               "password": parts.password}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def greeted(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_listen"), UserUttered("hello"), BotUttered("hi there"),
        ActionExecuted("action_listen")])


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    assert tracker is not None
    return [event.text for event in tracker.events if isinstance(event, (UserUttered,
                                                                         BotUttered))]


def take_turn(tracker: DialogueStateTracker, user: str, bot: str) -> None:
    tracker.update(UserUttered(user))
    tracker.update(BotUttered(bot))
    tracker.update(ActionExecuted("action_listen"))


def stored_rows(store: SQLTrackerStore, sender: str) -> list[str]:
    with store.session_scope() as session:
        rows = (session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender)
                .order_by(store.SQLEvent.id).all())
        return [row.type_name for row in rows]


def test_consecutive_turns_reuse_the_saved_tracker(store_kwargs: dict[str, Any]) -> None:
    store = StrictSQLTrackerStore(**store_kwargs)
    run(store.save(greeted("ann")))
    tracker = run(store.retrieve("ann"))
    take_turn(tracker, "how much?", "it depends")
    run(store.save(tracker))

    again = run(store.retrieve("ann"))
    assert again is tracker  # no read-and-replay of the conversation
    assert texts(again) == ["hello", "hi there", "how much?", "it depends"]
    # Each event stored exactly once, in order.
    assert stored_rows(store, "ann") == ["action", "user", "bot", "action",
                                         "user", "bot", "action"]


def test_rasa_reads_what_the_cached_store_wrote(store_kwargs: dict[str, Any]) -> None:
    ours = StrictSQLTrackerStore(**store_kwargs)
    run(ours.save(greeted("bea")))
    tracker = run(ours.retrieve("bea"))
    take_turn(tracker, "is it secure?", "yes")
    run(ours.save(tracker))

    rasa = SQLTrackerStore(**store_kwargs)
    restored = run(rasa.retrieve("bea"))
    assert restored is not None
    assert [e.as_dict() for e in restored.events] == [e.as_dict() for e in tracker.events]


def test_a_turn_taken_by_another_replica_is_read_again(store_kwargs: dict[str, Any]) -> None:
    replica_a = StrictSQLTrackerStore(**store_kwargs)
    replica_b = StrictSQLTrackerStore(**store_kwargs)
    run(replica_a.save(greeted("cid")))
    run(replica_a.retrieve("cid"))  # cached in replica A

    on_b = run(replica_b.retrieve("cid"))
    take_turn(on_b, "second turn on B", "answered by B")
    run(replica_b.save(on_b))

    on_a = run(replica_a.retrieve("cid"))
    assert texts(on_a) == ["hello", "hi there", "second turn on B", "answered by B"]
    take_turn(on_a, "third turn on A", "answered by A")
    run(replica_a.save(on_a))
    assert texts(run(replica_b.retrieve("cid")))[-2:] == ["third turn on A", "answered by A"]
    assert len(stored_rows(replica_a, "cid")) == 10  # nothing lost, nothing twice


def test_an_erased_conversation_is_not_served_from_the_cache(
        store_kwargs: dict[str, Any]) -> None:
    store = StrictSQLTrackerStore(**store_kwargs)
    run(store.save(greeted("dee")))
    assert run(store.retrieve("dee")) is not None
    with store.engine.begin() as connection:  # what the erasure worker does
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'dee'"))
    assert run(store.retrieve("dee")) is None


def test_a_partial_erasure_is_not_served_from_the_cache(
        store_kwargs: dict[str, Any]) -> None:
    """Item 6: "forget me" erases the events up to a cut-off and keeps the newest ones,
    so the newest id alone cannot tell; the next turn must not see the erased text."""
    from bot.leads.erasure import erase_conversation_events

    store = StrictSQLTrackerStore(**store_kwargs)
    tracker = greeted("fay")
    take_turn(tracker, "my email is fay@secret.example", "noted")
    run(store.save(tracker))
    assert "my email is fay@secret.example" in texts(run(store.retrieve("fay")))
    cutoff = max(e.timestamp for e in tracker.events if isinstance(e, UserUttered))
    assert erase_conversation_events(store.engine, "fay", cutoff) > 0  # another process
    served = texts(run(store.retrieve("fay")))
    assert "my email is fay@secret.example" not in served and "hello" not in served
    assert served == ["noted"]


def test_a_turn_that_failed_before_saving_leaves_no_trace(
        store_kwargs: dict[str, Any]) -> None:
    store = StrictSQLTrackerStore(**store_kwargs)
    run(store.save(greeted("eve")))
    tracker = run(store.retrieve("eve"))
    take_turn(tracker, "this turn crashed", "never saved")  # and then no save

    again = run(store.retrieve("eve"))
    assert texts(again) == ["hello", "hi there"]
    assert again is not tracker


def test_a_tracker_built_elsewhere_adds_only_its_new_events(
        store_kwargs: dict[str, Any]) -> None:
    store = StrictSQLTrackerStore(**store_kwargs)
    run(store.save(greeted("fay")))
    rebuilt = greeted("fay")  # e.g. the HTTP API replacing events
    take_turn(rebuilt, "more", "sure")
    run(store.save(rebuilt))
    assert stored_rows(store, "fay") == ["action", "user", "bot", "action",
                                         "user", "bot", "action"]


def test_cache_size_zero_reads_every_turn(tmp_path: Path) -> None:
    store = StrictSQLTrackerStore(domain=DOMAIN, dialect="sqlite",
                                  db=str(tmp_path / "t.db"), cache_size="0")
    run(store.save(greeted("gus")))
    first, second = run(store.retrieve("gus")), run(store.retrieve("gus"))
    assert first is not second
    assert texts(first) == texts(second) == ["hello", "hi there"]


def test_the_least_recently_used_conversation_is_dropped(tmp_path: Path) -> None:
    store = StrictSQLTrackerStore(domain=DOMAIN, dialect="sqlite",
                                  db=str(tmp_path / "t.db"), cache_size=2)
    for sender in ("h1", "h2", "h3"):
        run(store.save(greeted(sender)))
    assert len(store._cache) == 2
    h1 = run(store.retrieve("h1"))  # read from the database, and cached again
    assert texts(h1) == ["hello", "hi there"]
    assert run(store.retrieve("h1")) is h1


def test_sqlite_runs_in_wal_mode_with_pooled_connections(tmp_path: Path) -> None:
    store = StrictSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    assert type(store.engine.pool).__name__ == "QueuePool"
