"""A unit of work: one transaction that commits explicitly or rolls back.

    with uow:
        uow.leads.add(lead)
        uow.outbox.add(...)
        uow.commit()

Leaving the block without `commit()` (or with an exception) rolls everything back, so a
lead never exists without its outbox row, nor an outbox row without its lead.

The use cases (`bot.leads.services`, `delivery`, `erasure`) take any `UnitOfWork`: the
server, the worker and the CLI pass `SqlUnitOfWork(engine)`, a unit test a fake. One
object serves several transactions one after the other (a `with` block each), never two
at once. The repositories are typed by what the use cases call (`LeadStore`,
`OutboxStore`, `ErasureStore`), so that a fake needs no SQL class; the CLI, which takes
`SqlUnitOfWork` itself, may use the rest of `bot.leads.store`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine, RootTransaction

from bot.leads.model import Lead, LeadTaker
from bot.leads.outbox import ERASURE, LEAD, OutboxEntry
from bot.leads.store import (
    Erasure,
    ErasureRepository,
    ForgetResult,
    LeadRepository,
    OutboxRepository,
)

_Self = TypeVar("_Self", bound="UnitOfWork")


class LeadStore(Protocol):
    """The leads as the use cases see them (`LeadRepository` has the documentation)."""

    def add(self, lead: Lead) -> None: ...

    def get(self, lead_id: str) -> Lead | None: ...

    def find_by_email(self, email: str) -> list[Lead]: ...

    def for_conversation(self, conversation_id: str) -> list[Lead]: ...

    def take(self, lead_id: str, taker: LeadTaker) -> bool: ...

    def delete(self, lead_ids: Sequence[str]) -> ForgetResult: ...


class OutboxStore(Protocol):
    """The outbox as the use cases and the delivery worker see it (`OutboxRepository`)."""

    def add(
        self, lead_id: str, idempotency_key: str, payload: str, now: datetime,
        kind: str = LEAD, not_before: datetime | None = None,
    ) -> int: ...

    def queue_erasure(
        self, lead_id: str, payload: str, now: datetime, not_before: datetime | None = None,
        kind: str = ERASURE,
    ) -> int: ...

    def revise_sales_alert(
        self, lead_id: str, revise: Callable[[str], str], now: datetime
    ) -> bool: ...

    def keep_for_another_send(
        self, outbox_id: int, worker: str, reference: str | None, now: datetime
    ) -> None: ...

    def get(self, outbox_id: int) -> OutboxEntry | None: ...

    def for_lead(self, lead_id: str, kind: str | None = LEAD) -> list[OutboxEntry]: ...

    def due_ids(
        self, now: datetime, limit: int, kinds: Sequence[str] | None = None
    ) -> list[int]: ...

    def try_claim(self, outbox_id: int, worker: str, now: datetime, lease: timedelta) -> bool: ...

    def start_attempt(self, entry: OutboxEntry, worker: str, now: datetime) -> int: ...

    def finish_attempt(
        self, attempt_id: int, outcome: str, http_status: int | None, detail: str,
        now: datetime,
    ) -> None: ...

    def mark_delivered(
        self, outbox_id: int, reference: str | None, now: datetime,
        payload: str | None = None, sent_payload: str | None = None,
    ) -> bool: ...

    def schedule_retry(
        self, outbox_id: int, worker: str, next_attempt_at: datetime, error: str,
        now: datetime,
    ) -> bool: ...

    def mark_dead(
        self, outbox_id: int, worker: str | None, reason: str, now: datetime
    ) -> bool: ...

    def pending_count(self, kinds: Sequence[str]) -> int: ...


class ErasureStore(Protocol):
    """Pending tracker erasures as the use cases see them (`ErasureRepository`)."""

    def add(self, conversation_id: str, before_timestamp: float, now: datetime) -> None: ...

    def open(self) -> list[Erasure]: ...

    def record_pass(self, erasure_id: int, deleted: int, now: datetime, done: bool) -> None: ...


class UnitOfWork(Protocol):
    """The transaction boundary the use cases depend on, and its repositories."""

    # Read-only, so that an implementation may hold narrower types (the SQL repositories,
    # a test's fakes).
    @property
    def leads(self) -> LeadStore: ...

    @property
    def outbox(self) -> OutboxStore: ...

    @property
    def erasures(self) -> ErasureStore: ...

    def __enter__(self: _Self) -> _Self:
        """Begin a transaction; the repositories work inside it."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End it: whatever was not committed is rolled back."""

    def commit(self) -> None:
        """Make the work so far permanent."""

    def rollback(self) -> None:
        """Discard the work so far."""


class SqlUnitOfWork:
    """The leads store's transaction boundary (after Cosmic Python's unit of work)."""

    leads: LeadRepository
    outbox: OutboxRepository
    erasures: ErasureRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._transaction: RootTransaction | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._conn is not None:
            raise RuntimeError("this unit of work is already in a `with` block")
        self._conn = self._engine.connect()
        self._transaction = self._conn.begin()
        self.leads = LeadRepository(self._conn)
        self.outbox = OutboxRepository(self._conn)
        self.erasures = ErasureRepository(self._conn)
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Whether or not an exception ends the block, what was not committed goes.
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            self._transaction = None

    def commit(self) -> None:
        """Make the work so far permanent."""
        if self._transaction is None:
            raise RuntimeError("commit() outside a `with` block")
        self._transaction.commit()
        # Later work in the same block goes into a new transaction.
        assert self._conn is not None
        self._transaction = self._conn.begin()

    def rollback(self) -> None:
        """Discard the work so far."""
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        if self._conn is not None:
            self._transaction = self._conn.begin()
