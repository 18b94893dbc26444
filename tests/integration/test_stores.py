"""`bot.rasa.tracker_store.StrictSQLTrackerStore` on a real PostgreSQL database.

Also pins the Rasa 3.6 behaviour it works around, so that an upgrade which changes it
shows up here rather than in production.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.rasa.tracker_store import (
    StrictSQLTrackerStore,
    TrackerStoreUnavailableError,
    make_failsafe_wrapper_strict,
)
from tests.support.databases import fresh_postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_postgres_database("test_stores") as database:
        yield database.url


def _store_kwargs(url: str, **overrides: Any) -> dict[str, Any]:
    parts = make_url(url)
    return {"domain": Domain.empty(), "dialect": "postgresql", "host": parts.host,
            "port": parts.port, "db": parts.database, "username": parts.username,
            "password": parts.password, **overrides}


def _tracker(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_listen"), UserUttered("hello"), BotUttered("hi there"),
        ActionExecuted("action_listen")])


def _cut_connections(url: str) -> None:
    """What a PostgreSQL restart does to the clients: every connection is closed."""
    parts = make_url(url)
    admin = sa.create_engine(parts.set(database="postgres"), future=True,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :db AND pid <> pg_backend_pid()"),
                     {"db": parts.database})
    admin.dispose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def _point_at_nothing(store: SQLTrackerStore) -> None:
    dead = store.engine.url.set(port=_closed_port())
    store.engine = sa.create_engine(dead, connect_args={"connect_timeout": 2})
    store.sessionmaker = sessionmaker(bind=store.engine)


def test_start_fails_fast_and_names_the_database(database_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(TrackerStoreUnavailableError, match="Refusing to start") as error:
        StrictSQLTrackerStore(**_store_kwargs(database_url, port=_closed_port(),
                                              connect_timeout_s=1))
    assert time.monotonic() - started < 15
    assert make_url(database_url).database in str(error.value)
    assert f":{make_url(database_url).password}@" not in str(error.value)  # no URL with it


def test_conversations_round_trip(database_url: str) -> None:
    store = StrictSQLTrackerStore(**_store_kwargs(database_url))
    asyncio.run(store.save(_tracker("alice")))
    restored = asyncio.run(store.retrieve("alice"))
    assert restored is not None
    assert [e.as_dict()["event"] for e in restored.events] == ["action", "user", "bot",
                                                               "action"]
    assert restored.latest_message.text == "hello"


def test_a_database_restart_goes_unnoticed(database_url: str) -> None:
    store = StrictSQLTrackerStore(**_store_kwargs(database_url, retries="1"))
    asyncio.run(store.save(_tracker("bob")))
    _cut_connections(database_url)
    # One attempt only: it is the connection check, not a retry, that saves the day.
    restored = asyncio.run(store.retrieve("bob"))
    assert restored is not None and restored.latest_message.text == "hello"


def test_rasa_own_store_breaks_on_the_first_query_after_a_restart(database_url: str) -> None:
    """Why the strict store checks connections: Rasa's store hands out dead ones."""
    store = SQLTrackerStore(**_store_kwargs(database_url))
    asyncio.run(store.save(_tracker("carol")))
    _cut_connections(database_url)
    with pytest.raises(sa.exc.OperationalError):
        asyncio.run(store.retrieve("carol"))


def test_rasa_failsafe_wrapper_hides_an_outage_unless_made_strict(database_url: str) -> None:
    store = StrictSQLTrackerStore(**_store_kwargs(database_url, retries=2,
                                                  retry_wait_s=0.05))
    asyncio.run(store.save(_tracker("dave")))
    _point_at_nothing(store)
    lenient = FailSafeTrackerStore(store)
    # Rasa's default: "no tracker", so the next message would start a new conversation.
    assert asyncio.run(lenient.retrieve("dave")) is None

    strict = FailSafeTrackerStore(store)
    make_failsafe_wrapper_strict(strict)
    with pytest.raises(TrackerStoreUnavailableError):
        asyncio.run(strict.retrieve("dave"))
    with pytest.raises(TrackerStoreUnavailableError):
        asyncio.run(strict.save(_tracker("dave")))
