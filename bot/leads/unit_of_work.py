"""A unit of work: one transaction that commits explicitly or rolls back.

    with SqlUnitOfWork(engine) as uow:
        uow.leads.add(lead)
        uow.outbox.add(...)
        uow.commit()

Leaving the block without `commit()` (or with an exception) rolls everything back, so a
lead never exists without its outbox row, nor an outbox row without its lead.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Connection, Engine, RootTransaction

from bot.leads.store import ErasureRepository, LeadRepository, OutboxRepository


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
        self._conn = self._engine.connect()
        self._transaction = self._conn.begin()
        self.leads = LeadRepository(self._conn)
        self.outbox = OutboxRepository(self._conn)
        self.erasures = ErasureRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
