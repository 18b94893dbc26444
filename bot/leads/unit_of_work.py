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
at once.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine, RootTransaction

from bot.leads.store import ErasureRepository, LeadRepository, OutboxRepository

_Self = TypeVar("_Self", bound="UnitOfWork")


class UnitOfWork(Protocol):
    """The transaction boundary the use cases depend on, and its repositories."""

    leads: LeadRepository
    outbox: OutboxRepository
    erasures: ErasureRepository

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
