"""Conversation stores that fail loudly instead of losing turns.

`StrictSQLTrackerStore` never lets a conversation quietly continue without its database
(its cache of trackers is in tracker_cache.py; the lock store that keeps one
conversation's turns in order across replicas is in lock_store.py).

Rasa 3.6's own `SQLTrackerStore` has three failure modes this module closes:

- At start it retries an unreachable database forever (every 5 s), so a wrong host looks
  like a slow start. Here the start fails after `connect_timeout_s` with a message that
  names the host and database.
- Pooled connections broken by a database restart fail on first use, and Rasa's
  `FailSafeTrackerStore` wrapper turns that failure into "no tracker": the visitor's next
  message starts a brand-new conversation (context lost) and the events are written to
  an `InMemoryTrackerStore` instead. Here connections are checked before use
  (`pool_pre_ping`) and a failed query is retried briefly, so a restart goes unnoticed.
- When the database stays down, the wrapper still substitutes a fresh in-memory tracker.
  Here the wrapper is told to re-raise instead, so the turn fails loudly (logged, and the
  channel answers with an error) and nothing is written anywhere else.

It is also faster. Rasa reads every event of the session and replays it into a new
tracker on each turn, then counts the stored events again before writing. Here each
replica keeps the trackers it saved last (`cache_size` of them) and checks them against
the database with one indexed query (the newest event id of the conversation), so a turn
usually costs that query plus the insert of its new events. Any other writer (another
replica, an erasure) changes the newest id, and the tracker is read again as before.
On SQLite the connections are pooled and the database runs in WAL mode.

Use it from an endpoints file with `tracker_store: {type:
bot.rasa.tracker_store.StrictSQLTrackerStore, dialect: postgresql, url: ..., db: ...}`
(see deploy/endpoints.production.yml).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event as sa_event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.rasa.action_calls import install as install_action_call_checks
from bot.rasa.action_session import install as install_action_session
from bot.rasa.form_mappings import install as install_unique_mapping_cache
from bot.rasa.tracker_cache import Fingerprint, TrackerCache

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Errors that mean "the database did not answer", as opposed to a bug in a query.
_CONNECTION_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError,
                      sa_exc.DisconnectionError, sa_exc.TimeoutError)


class TrackerStoreUnavailableError(ConnectionError):
    """The conversation database cannot be reached; the turn must not go on without it."""


class StrictSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]
    """Rasa's SQL tracker store with a bounded start, reconnects and no silent fallback."""

    def __init__(
        self,
        domain: Domain | None = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        login_db: str | None = None,
        query: dict[str, Any] | None = None,
        connect_timeout_s: float | str = 30.0,
        retries: int | str = 3,
        retry_wait_s: float | str = 0.5,
        cache_size: int | str = 64,
        **kwargs: Any,
    ) -> None:
        """Connect, or fail within `connect_timeout_s` with a message naming the database.

        Args:
            domain: The assistant's domain.
            dialect: SQLAlchemy dialect (`postgresql` in production, `sqlite` embedded).
            host: Database host (or a full URL).
            port: Database port.
            db: Database name (file for SQLite).
            username: Database user.
            password: Database password.
            event_broker: Optional event broker, as for Rasa's store.
            login_db: Database to log in to when `db` must first be created (PostgreSQL).
            query: Extra URL query options for the driver.
            connect_timeout_s: How long to wait for the database at start.
            retries: Attempts per read or write before the turn fails.
            retry_wait_s: Pause between attempts (doubled each time).
            cache_size: Trackers this replica keeps between turns; 0 reads every turn's
                tracker from the database, as Rasa does. A 16-turn visit holds about
                290 KB in memory (the soak: 42 MiB for 150 visits), so the default costs
                at most about 20 MB and is reached within minutes (the soak's memory
                stays flat); it is more conversations than a replica has turns in
                flight. One that dropped out is simply read from the database again.
            kwargs: Passed on to Rasa's `TrackerStore`.
        """
        # The server that runs our store also checks action responses without
        # re-checking Rasa's constant schema each time (bot/rasa/action_calls.py, issue 14).
        install_action_call_checks()
        # ... and calls the action server through one reused HTTP session instead of a
        # new connection per call (bot/rasa/action_session.py, issue 14).
        install_action_session()
        # ... and works out a form's unique entity mappings once, not for every mapping
        # of every form turn (bot/rasa/form_mappings.py, issue 14).
        install_unique_mapping_cache()
        # Endpoint files deliver numbers as strings when they come from ${VARIABLES}.
        self.retries = max(1, int(retries))
        self.retry_wait_s = float(retry_wait_s)
        url = self.get_db_url(dialect, host, port, db, username, password, login_db, query)
        where = f"{dialect} database '{db}' on {host or 'localhost'}:{port or 'default port'}"
        _wait_for_database(url, float(connect_timeout_s), where)
        super().__init__(domain=domain, dialect=dialect, host=host, port=port, db=db,
                         username=username, password=password, event_broker=event_broker,
                         login_db=login_db, query=query, **kwargs)
        # Same URL and options as Rasa's engine, plus a liveness check on checkout so
        # that connections broken by a database restart are replaced, not used.
        rasa_engine: sa.engine.Engine = self.engine  # type: ignore[has-type]
        final_url = rasa_engine.url
        rasa_engine.dispose()
        # hide_parameters: an error must not log the message text a visitor typed.
        self.engine = sa.create_engine(final_url, pool_pre_ping=True, hide_parameters=True,
                                       **_engine_kwargs(final_url))
        if _is_sqlite_file(final_url):
            _use_wal(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self._cache = TrackerCache(int(cache_size))
        # A Core statement built once: SQLAlchemy reuses its compiled form, where an ORM
        # query is rebuilt on every call (which took half of this query's time).
        # Newest id and row count: an erasure deletes old events and keeps the newest
        # one, so only the count shows it. Both come from one scan of the conversation's
        # rows, and every replica reads the same database: no cache survives an erasure.
        self._newest_id_statement = (sa.select(sa.func.max(self.SQLEvent.id),
                                               sa.func.count(self.SQLEvent.id))
                                     .where(self.SQLEvent.sender_id == sa.bindparam("sender_id")))
        self._wrapper_made_strict = False
        self._where = where
        logger.info("Tracker store ready: %s (strict, no in-memory fallback).", where)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Read the latest session of a conversation, retrying a dropped connection."""
        return await self._strictly("read", lambda: self._retrieve_latest(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Read every session of a conversation, retrying a dropped connection."""
        return await self._strictly("read", lambda: super(StrictSQLTrackerStore, self)
                                    .retrieve_full_tracker(conversation_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write new events; a failed transaction is rolled back, so a retry is safe."""
        await self.stream_events(tracker)
        await self._strictly("write", lambda: self._save_new_events(tracker))

    async def keys(self) -> Iterable[str]:
        """List conversation ids, retrying a dropped connection."""
        return await self._strictly("list", lambda: super(StrictSQLTrackerStore, self).keys())

    async def _retrieve_latest(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            newest_id = self._newest_event_id(session, sender_id)
            cached = self._cache.get(sender_id, newest_id)
            if cached is not None:
                return cached
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=False).all()
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        self._cache.put(tracker, newest_id)
        return tracker

    async def _save_new_events(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            newest_id = self._newest_event_id(session, tracker.sender_id)
            stored = self._cache.stored_events(tracker, newest_id)
            if stored is None:  # not our latest copy: count what the database has, as Rasa does
                stored = self._event_query(session, tracker.sender_id,
                                           fetch_events_from_all_sessions=False).count()
            rows = [self._row(tracker.sender_id, event)
                    for event in list(tracker.events)[stored:]]
            if rows:
                # One Core insert of all rows: the ORM's unit of work cost more than the
                # database did. Turns of a conversation run one at a time (lock store),
                # so its newest id, read back in this transaction, is our last row's.
                session.execute(self.SQLEvent.__table__.insert(), rows)
                newest_id = self._newest_event_id(session, tracker.sender_id)
            session.commit()
        self._cache.put(tracker, newest_id)

    def _newest_event_id(self, session: Session, sender_id: str) -> Fingerprint:
        newest, count = session.execute(self._newest_id_statement,
                                        {"sender_id": sender_id}).one()
        return (None if newest is None else int(newest), int(count or 0))

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """One `events` row, with the columns Rasa's own store fills."""
        data = event.as_dict()
        return {"sender_id": sender_id, "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}

    async def _strictly(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        self._make_wrapper_strict()
        wait = self.retry_wait_s
        for attempt in range(1, self.retries + 1):
            try:
                return await operation()
            except _CONNECTION_ERRORS as error:
                if attempt == self.retries:
                    logger.error("Conversation database unavailable (%s failed %d times): %s",
                                 what, attempt, self._where)
                    raise TrackerStoreUnavailableError(
                        f"conversation database unavailable: {self._where}") from error
                logger.warning("Conversation database %s failed (attempt %d of %d), retrying: "
                               "%s", what, attempt, self.retries, type(error).__name__)
                await asyncio.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")  # the loop returns or raises

    def _make_wrapper_strict(self) -> None:
        """Tell Rasa's `FailSafeTrackerStore` around us to re-raise instead of falling back.

        Rasa 3.6 wraps every tracker store in that class and offers no setting to switch
        its fallback off; the wrapper does call `_on_tracker_store_error` first when one is
        set, so a callback that re-raises makes the failure reach the channel. The wrapper
        is found through the running server's agent; `tests/integration/test_stores.py`
        catches a Rasa upgrade that changes these internals.
        """
        if self._wrapper_made_strict:
            return
        wrapper = _find_wrapper_of(self)
        if wrapper is not None:
            make_failsafe_wrapper_strict(wrapper)
            self._wrapper_made_strict = True
            logger.info("Rasa's in-memory fallback is off for the tracker store.")


def make_failsafe_wrapper_strict(wrapper: FailSafeTrackerStore) -> None:
    """Make a `FailSafeTrackerStore` re-raise errors of the store it wraps (no fallback)."""
    wrapper._on_tracker_store_error = _reraise


def _reraise(error: Exception) -> None:
    raise error


def _find_wrapper_of(store: SQLTrackerStore) -> FailSafeTrackerStore | None:
    """The `FailSafeTrackerStore` of the running server's agent that wraps `store`, if any."""
    from sanic import Sanic

    # `rasa run` registers exactly one Sanic app; none outside a server (scripts, tests).
    apps = list(getattr(Sanic, "_app_registry", {}).values())
    for app in apps:
        agent = getattr(app.ctx, "agent", None)
        wrapper = getattr(agent, "tracker_store", None)
        if isinstance(wrapper, FailSafeTrackerStore) and wrapper._tracker_store is store:
            return wrapper
    return None



def _use_wal(engine: sa.engine.Engine) -> None:
    """Write SQLite through a write-ahead log.

    The default rollback journal syncs twice per commit. With WAL a commit appends to the
    log and readers are not blocked by the writer (e.g. the action server's erasure);
    `synchronous=NORMAL` is SQLite's recommended setting for it: a crash of the process
    loses nothing, a power cut can lose the last turns but never corrupts the file.
    """

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sa_event.listen(engine, "connect", on_connect)


def _is_sqlite_file(url: Any) -> bool:
    parsed = sa.engine.make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def _engine_kwargs(url: Any) -> dict[str, Any]:
    """Rasa's engine options, plus a connect timeout so a dead host cannot hang a turn.

    SQLite files get a connection pool: SQLAlchemy 1.4 would open a new connection for
    every session (2.0 pools them the same way). The event loop's thread is not always the
    one that opened a pooled connection, hence `check_same_thread`.
    """
    kwargs: dict[str, Any] = create_engine_kwargs(url)
    if kwargs:  # PostgreSQL (Rasa returns options for it only)
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "connect_timeout": 5}
    elif _is_sqlite_file(url):
        kwargs = {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
    return kwargs


def _wait_for_database(url: Any, timeout_s: float, where: str) -> None:
    """Return once `SELECT 1` succeeds; raise `TrackerStoreUnavailableError` at the deadline."""
    engine = sa.create_engine(url, hide_parameters=True, **_engine_kwargs(url))
    deadline = time.monotonic() + timeout_s
    wait = 0.5
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
                return
            except _CONNECTION_ERRORS as error:
                if time.monotonic() + wait > deadline:
                    raise TrackerStoreUnavailableError(
                        f"cannot reach the conversation database ({where}) after "
                        f"{timeout_s:.0f} s: {type(error).__name__}. Refusing to start "
                        f"without it; check DB_HOST, DB_PORT, DB_NAME, DB_USER and "
                        f"DB_PASSWORD.") from error
                logger.warning("Waiting for the conversation database (%s)...", where)
                time.sleep(wait)
                wait = min(wait * 2, 5.0)
    finally:
        engine.dispose()
