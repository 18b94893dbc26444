"""Tables and repositories for leads, their outbox rows and delivery attempts.

SQLAlchemy 1.4 Core with the 2.0-style API (`select()`, `Connection.execute`, future
engines). The schema itself is created by the Alembic migrations in `migrations/`; these
table objects describe it for queries. Every value goes through bound parameters, so
hostile text (quotes, `; DROP TABLE`, `<script>`) is stored as the data it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect, Row
from sqlalchemy.types import TypeDecorator

from bot.leads.model import (
    Consent,
    Contact,
    Lead,
    LeadDraft,
    LeadTaker,
    Qualification,
)
from bot.leads.outbox import (
    ALERT_DELETION,
    ATTEMPT_IN_PROGRESS,
    DEAD,
    DELIVERED,
    ERASURE,
    LEAD,
    LEAD_OWNED_KINDS,
    PENDING,
    SALES_ALERT,
    DeliveryAttempt,
    OutboxEntry,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the leads store; use UTC-aware times")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


metadata = MetaData()

leads_table = Table(
    "leads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False, index=True),
    Column("email_is_free_mail", Boolean, nullable=False),
    Column("company", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("timeline", String(20), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("budget", String(20), nullable=False),
    Column("consent_version", String(64), nullable=False),
    Column("consent_given_at", UtcDateTime, nullable=False),
    Column("score", Integer, nullable=False),
    Column("tier", String(20), nullable=False, index=True),
    Column("reasons", Text, nullable=False),  # JSON list
    Column("profile", Text, nullable=False),  # JSON object
    Column("recommendation", Text, nullable=False),  # JSON object
    Column("transcript_summary", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Who took the lead from the sales channel ("I'll take it"), and when (migration 0003).
    Column("taken_by_user_id", String(64), nullable=True),
    Column("taken_by_name", Text, nullable=True),
    Column("taken_at", UtcDateTime, nullable=True),
)

outbox_table = Table(
    "lead_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # No foreign key: an erasure row outlives the lead it erases (migration 0002).
    Column("lead_id", String(36), nullable=False, index=True),
    Column("idempotency_key", String(80), nullable=False, unique=True),
    # `lead` / `erasure` for the CRM, `sales_alert` / `alert_deletion` for the sales
    # channel (see bot/leads/outbox.py).
    Column("kind", String(16), nullable=False, server_default=LEAD),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("crm_reference", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Index("ix_lead_outbox_status_due", "status", "next_attempt_at"),
)

attempts_table = Table(
    "lead_delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "outbox_id", Integer, ForeignKey("lead_outbox.id", ondelete="CASCADE"),
        nullable=False, index=True,
    ),
    Column("attempt_no", Integer, nullable=False),
    Column("worker", String(100), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("detail", Text, nullable=False, default=""),
)

erasures_table = Table(
    "conversation_erasures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    # Tracker events stamped up to this time (Rasa's float timestamps) are deleted.
    Column("before_timestamp", Float, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("passes", Integer, nullable=False, default=0),
    Column("events_deleted", Integer, nullable=False, default=0),
    Column("done_at", UtcDateTime, nullable=True),
)


@dataclass(frozen=True)
class ForgetResult:
    """What a "forget me" removed from the leads store."""

    lead_ids: tuple[str, ...]
    outbox_rows: int
    attempts: int


@dataclass(frozen=True)
class Erasure:
    id: int
    conversation_id: str
    before_timestamp: float
    requested_at: datetime
    passes: int


class LeadRepository:
    """Leads, read and written on one connection (the unit of work's transaction)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, lead: Lead) -> None:
        """Insert `lead` (its outbox row is added separately, in the same transaction)."""
        draft, contact = lead.draft, lead.draft.contact
        self._conn.execute(
            insert(leads_table).values(
                id=lead.lead_id,
                conversation_id=draft.conversation_id,
                name=contact.name,
                email=contact.email,
                email_is_free_mail=contact.email_is_free_mail,
                company=contact.company,
                role=contact.role,
                timeline=draft.timeline,
                size=draft.size,
                budget=draft.budget,
                consent_version=draft.consent.version,
                consent_given_at=draft.consent.given_at,
                score=lead.qualification.score,
                tier=lead.qualification.tier,
                reasons=json.dumps(list(lead.qualification.reasons), ensure_ascii=False),
                profile=json.dumps(dict(draft.profile), ensure_ascii=False, sort_keys=True),
                recommendation=json.dumps(
                    dict(draft.recommendation), ensure_ascii=False, sort_keys=True
                ),
                transcript_summary=draft.transcript_summary,
                created_at=lead.created_at,
            )
        )

    def get(self, lead_id: str) -> Lead | None:
        row = self._conn.execute(select(leads_table).where(leads_table.c.id == lead_id)).first()
        return _lead_from_row(row) if row is not None else None

    def find_by_email(self, email: str) -> list[Lead]:
        """Leads whose email matches `email`, ignoring case."""
        rows = self._conn.execute(
            select(leads_table)
            .where(func.lower(leads_table.c.email) == email.strip().lower())
            .order_by(leads_table.c.created_at)
        )
        return [_lead_from_row(row) for row in rows]

    def latest(self, limit: int | None = None, tier: str | None = None) -> list[Lead]:
        """Leads, newest first, optionally of one tier."""
        query = select(leads_table).order_by(
            leads_table.c.created_at.desc(), leads_table.c.id
        )
        if tier:
            query = query.where(leads_table.c.tier == tier)
        if limit:
            query = query.limit(limit)
        return [_lead_from_row(row) for row in self._conn.execute(query)]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(leads_table)).scalar_one())

    def conversation_ids_for_email(self, email: str) -> list[str]:
        rows = self._conn.execute(
            select(leads_table.c.conversation_id)
            .where(func.lower(leads_table.c.email) == email.strip().lower())
            .distinct()
        )
        return [r[0] for r in rows if r[0]]

    def for_conversation(self, conversation_id: str) -> list[Lead]:
        """The leads given in one conversation, oldest first."""
        rows = self._conn.execute(
            select(leads_table)
            .where(leads_table.c.conversation_id == conversation_id)
            .order_by(leads_table.c.created_at)
        )
        return [_lead_from_row(row) for row in rows]

    def take(self, lead_id: str, taker: LeadTaker) -> bool:
        """Record `taker` on the lead unless someone has taken it already.

        The conditional UPDATE decides between two sales engineers clicking at once: only
        one UPDATE finds the lead untaken, on SQLite and PostgreSQL alike.
        """
        result = self._conn.execute(
            update(leads_table)
            .where(leads_table.c.id == lead_id, leads_table.c.taken_by_user_id.is_(None))
            .values(taken_by_user_id=taker.user_id, taken_by_name=taker.name,
                    taken_at=taker.taken_at)
        )
        return bool(result.rowcount == 1)

    def delete(self, lead_ids: Sequence[str]) -> ForgetResult:
        """Delete these leads with their CRM and alert outbox rows and attempts
        (explicitly, not trusting every backend to cascade). Erasure rows stay."""
        lead_ids = tuple(lead_ids)
        if not lead_ids:
            return ForgetResult((), 0, 0)
        lead_rows = and_(outbox_table.c.lead_id.in_(lead_ids),
                         outbox_table.c.kind.in_(LEAD_OWNED_KINDS))
        outbox_ids = select(outbox_table.c.id).where(lead_rows)
        attempts = self._conn.execute(
            delete(attempts_table).where(attempts_table.c.outbox_id.in_(outbox_ids))
        ).rowcount
        outbox_rows = self._conn.execute(delete(outbox_table).where(lead_rows)).rowcount
        self._conn.execute(delete(leads_table).where(leads_table.c.id.in_(lead_ids)))
        return ForgetResult(lead_ids, int(outbox_rows), int(attempts))


class OutboxRepository:
    """Outbox rows and their attempts, on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(
        self, lead_id: str, idempotency_key: str, payload: str, now: datetime,
        kind: str = LEAD, not_before: datetime | None = None,
    ) -> int:
        result = self._conn.execute(
            insert(outbox_table).values(
                lead_id=lead_id,
                idempotency_key=idempotency_key,
                kind=kind,
                payload=payload,
                status=PENDING,
                attempts=0,
                next_attempt_at=not_before or now,
                created_at=now,
                updated_at=now,
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key else 0

    def queue_erasure(
        self, lead_id: str, payload: str, now: datetime, not_before: datetime | None = None,
        kind: str = ERASURE,
    ) -> int:
        """Queue the CRM erasure of `lead_id` (or, with `kind=alert_deletion`, the
        deletion of its sales alert), or refresh the one still pending.

        A pending erasure gets the newer payload (which may now name the CRM record);
        after one that already ran, a new row with its own key is added, because the
        lead may have reached the CRM after it (a delivery that was in flight).
        """
        rows = self._conn.execute(
            select(outbox_table.c.id, outbox_table.c.status, outbox_table.c.lease_owner)
            .where(outbox_table.c.lead_id == lead_id, outbox_table.c.kind == kind)
            .order_by(outbox_table.c.id)
        ).all()
        for row in rows:
            if row.status == PENDING and row.lease_owner is None:
                self._conn.execute(
                    update(outbox_table).where(outbox_table.c.id == row.id)
                    .values(payload=payload, updated_at=now, next_attempt_at=not_before or now)
                )
                return int(row.id)
        prefix = {ERASURE: "erase", ALERT_DELETION: "unpost"}[kind]
        key = f"{prefix}-{lead_id}" + (f"-{len(rows) + 1}" if rows else "")
        return self.add(lead_id, key, payload, now, kind=kind, not_before=not_before)

    def revise_sales_alert(
        self, lead_id: str, revise: Callable[[str], str], now: datetime
    ) -> bool:
        """Rewrite the lead's alert payload with `revise` and send the alert again.

        A posted alert (delivered) goes back to pending with a fresh retry budget, and
        since it keeps its message reference the worker updates that message rather
        than posting a new one. The row is locked first, so two revisions (the CRM
        contact, a taker) never overwrite each other, nor race the record of a post
        (see `mark_delivered(..., sent_payload=...)`).

        Returns:
            False when the lead has no alert (not hot, no sales channel, or erased).
        """
        row = self._conn.execute(
            select(outbox_table.c.id, outbox_table.c.payload, outbox_table.c.status)
            .where(outbox_table.c.lead_id == lead_id, outbox_table.c.kind == SALES_ALERT)
            .with_for_update()
        ).first()
        if row is None:
            return False
        values: dict[str, Any] = {"payload": revise(row.payload), "updated_at": now}
        if row.status == DELIVERED:
            values.update(status=PENDING, attempts=0, next_attempt_at=now, delivered_at=None)
        self._conn.execute(update(outbox_table).where(outbox_table.c.id == row.id)
                           .values(**values))
        return True

    def keep_for_another_send(
        self, outbox_id: int, worker: str, reference: str | None, now: datetime
    ) -> None:
        """The send reached the receiver but the payload changed meanwhile: keep the
        receiver's reference and send again now (an update, not a second post)."""
        self._conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id == outbox_id, outbox_table.c.lease_owner == worker)
            .values(crm_reference=reference, next_attempt_at=now, updated_at=now,
                    lease_owner=None, lease_expires_at=None, last_error=None)
        )

    def get(self, outbox_id: int) -> OutboxEntry | None:
        row = self._conn.execute(
            select(outbox_table).where(outbox_table.c.id == outbox_id)
        ).first()
        return _entry_from_row(row) if row is not None else None

    def for_lead(self, lead_id: str, kind: str | None = LEAD) -> list[OutboxEntry]:
        query = select(outbox_table).where(outbox_table.c.lead_id == lead_id)
        if kind is not None:
            query = query.where(outbox_table.c.kind == kind)
        rows = self._conn.execute(query.order_by(outbox_table.c.id))
        return [_entry_from_row(row) for row in rows]

    def due_ids(
        self, now: datetime, limit: int, kinds: Sequence[str] | None = None
    ) -> list[int]:
        """Pending rows (of `kinds`, every kind by default) whose time has come and whose
        lease (if any) has run out."""
        conditions = [
            outbox_table.c.status == PENDING,
            outbox_table.c.next_attempt_at <= now,
            or_(
                outbox_table.c.lease_expires_at.is_(None),
                outbox_table.c.lease_expires_at <= now,
            ),
        ]
        if kinds is not None:
            conditions.append(outbox_table.c.kind.in_(kinds))
        rows = self._conn.execute(
            select(outbox_table.c.id)
            .where(*conditions)
            .order_by(outbox_table.c.next_attempt_at, outbox_table.c.id)
            .limit(limit)
        )
        return [int(r[0]) for r in rows]

    def try_claim(self, outbox_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        """Take the lease on a due row; False when another worker got there first.

        The conditional UPDATE is the lock: only one worker's UPDATE matches the row,
        on SQLite and PostgreSQL alike. The attempt counter goes up here, before the
        send, so that a worker that crashes on a row every time still spends its budget.
        """
        result = self._conn.execute(
            update(outbox_table)
            .where(
                outbox_table.c.id == outbox_id,
                outbox_table.c.status == PENDING,
                outbox_table.c.next_attempt_at <= now,
                or_(
                    outbox_table.c.lease_expires_at.is_(None),
                    outbox_table.c.lease_expires_at <= now,
                ),
            )
            .values(
                lease_owner=worker,
                lease_expires_at=now + lease,
                attempts=outbox_table.c.attempts + 1,
                updated_at=now,
            )
        )
        return bool(result.rowcount == 1)

    def start_attempt(self, entry: OutboxEntry, worker: str, now: datetime) -> int:
        """Record an attempt as in progress (it stays so if the worker dies)."""
        result = self._conn.execute(
            insert(attempts_table).values(
                outbox_id=entry.id,
                attempt_no=entry.attempts,
                worker=worker,
                started_at=now,
                outcome=ATTEMPT_IN_PROGRESS,
                detail="",
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key else 0

    def finish_attempt(
        self, attempt_id: int, outcome: str, http_status: int | None, detail: str,
        now: datetime,
    ) -> None:
        self._conn.execute(
            update(attempts_table)
            .where(attempts_table.c.id == attempt_id)
            .values(outcome=outcome, http_status=http_status, detail=detail, finished_at=now)
        )

    def mark_delivered(
        self, outbox_id: int, reference: str | None, now: datetime,
        payload: str | None = None, sent_payload: str | None = None,
    ) -> bool:
        """Delivered is final whoever holds the lease: the CRM has the lead.

        Args:
            payload: Replaces the stored payload (an erasure keeps no email once done).
            sent_payload: Only if the stored payload is still this one: an alert revised
                while it was being sent is not up to date in Slack yet.

        Returns:
            False when the row is gone (the lead was erased while its delivery was in
            flight, and the caller must queue its erasure from the CRM), or when its
            payload is no longer `sent_payload`.
        """
        values: dict[str, Any] = {
            "status": DELIVERED, "delivered_at": now, "updated_at": now,
            "crm_reference": reference, "lease_owner": None, "lease_expires_at": None,
            "last_error": None,
        }
        if payload is not None:
            values["payload"] = payload
        query = update(outbox_table).where(outbox_table.c.id == outbox_id)
        if sent_payload is not None:
            query = query.where(outbox_table.c.payload == sent_payload)
        result = self._conn.execute(query.values(**values))
        return bool(result.rowcount == 1)

    def schedule_retry(
        self, outbox_id: int, worker: str, next_attempt_at: datetime, error: str,
        now: datetime,
    ) -> bool:
        """Put the row back for later, if this worker still holds it."""
        result = self._conn.execute(
            update(outbox_table)
            .where(
                outbox_table.c.id == outbox_id,
                outbox_table.c.status == PENDING,
                outbox_table.c.lease_owner == worker,
            )
            .values(
                next_attempt_at=next_attempt_at, last_error=error, updated_at=now,
                lease_owner=None, lease_expires_at=None,
            )
        )
        return bool(result.rowcount == 1)

    def mark_dead(self, outbox_id: int, worker: str | None, reason: str, now: datetime) -> bool:
        """Move the row to the dead letters with `reason` (if `worker` still holds it)."""
        conditions = [outbox_table.c.id == outbox_id, outbox_table.c.status == PENDING]
        if worker is not None:
            conditions.append(outbox_table.c.lease_owner == worker)
        result = self._conn.execute(
            update(outbox_table)
            .where(and_(*conditions))
            .values(
                status=DEAD, last_error=reason, updated_at=now,
                lease_owner=None, lease_expires_at=None,
            )
        )
        return bool(result.rowcount == 1)

    def retry_dead(self, now: datetime, ids: Iterable[int] | None = None) -> int:
        """Give dead letters a fresh retry budget; returns how many were revived."""
        query = update(outbox_table).where(outbox_table.c.status == DEAD)
        if ids is not None:
            query = query.where(outbox_table.c.id.in_(list(ids)))
        result = self._conn.execute(
            query.values(status=PENDING, attempts=0, next_attempt_at=now, updated_at=now)
        )
        return int(result.rowcount)

    def pending_count(self, kinds: Sequence[str]) -> int:
        """How many rows of `kinds` are still to be sent."""
        return int(self._conn.execute(
            select(func.count()).select_from(outbox_table)
            .where(outbox_table.c.status == PENDING, outbox_table.c.kind.in_(kinds))
        ).scalar_one())

    def status_counts(self) -> dict[str, int]:
        rows = self._conn.execute(
            select(outbox_table.c.status, func.count()).group_by(outbox_table.c.status)
        )
        counts = {status: 0 for status in (PENDING, DELIVERED, DEAD)}
        counts.update({str(status): int(n) for status, n in rows})
        return counts

    def entries(
        self, status: str | None = None, limit: int | None = None
    ) -> list[OutboxEntry]:
        query = select(outbox_table).order_by(outbox_table.c.id)
        if status:
            query = query.where(outbox_table.c.status == status)
        if limit:
            query = query.limit(limit)
        return [_entry_from_row(row) for row in self._conn.execute(query)]

    def attempts(self, outbox_id: int) -> list[DeliveryAttempt]:
        rows = self._conn.execute(
            select(attempts_table)
            .where(attempts_table.c.outbox_id == outbox_id)
            .order_by(attempts_table.c.id)
        )
        return [
            DeliveryAttempt(
                id=r.id, outbox_id=r.outbox_id, attempt_no=r.attempt_no, worker=r.worker,
                started_at=r.started_at, finished_at=r.finished_at, outcome=r.outcome,
                http_status=r.http_status, detail=r.detail,
            )
            for r in rows
        ]

    def count_attempts(self) -> int:
        return int(
            self._conn.execute(select(func.count()).select_from(attempts_table)).scalar_one()
        )


class ErasureRepository:
    """Pending deletions of conversation events from Rasa's tracker store."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, conversation_id: str, before_timestamp: float, now: datetime) -> None:
        self._conn.execute(
            insert(erasures_table).values(
                conversation_id=conversation_id, before_timestamp=before_timestamp,
                requested_at=now, passes=0, events_deleted=0,
            )
        )

    def open(self) -> list[Erasure]:
        rows = self._conn.execute(
            select(erasures_table)
            .where(erasures_table.c.done_at.is_(None))
            .order_by(erasures_table.c.id)
        )
        return [
            Erasure(r.id, r.conversation_id, r.before_timestamp, r.requested_at, r.passes)
            for r in rows
        ]

    def record_pass(self, erasure_id: int, deleted: int, now: datetime, done: bool) -> None:
        self._conn.execute(
            update(erasures_table)
            .where(erasures_table.c.id == erasure_id)
            .values(
                passes=erasures_table.c.passes + 1,
                events_deleted=erasures_table.c.events_deleted + deleted,
                done_at=now if done else None,
            )
        )


def _lead_from_row(row: Row[Any]) -> Lead:
    contact = Contact(
        name=row.name, email=row.email, company=row.company, role=row.role,
        email_is_free_mail=bool(row.email_is_free_mail),
    )
    draft = LeadDraft(
        contact=contact,
        consent=Consent(version=row.consent_version, given_at=row.consent_given_at),
        timeline=row.timeline,
        size=int(row.size),
        budget=row.budget,
        conversation_id=row.conversation_id,
        profile=json.loads(row.profile),
        recommendation=json.loads(row.recommendation),
        transcript_summary=row.transcript_summary,
    )
    qualification = Qualification(
        score=int(row.score), tier=row.tier, reasons=tuple(json.loads(row.reasons))
    )
    taken_by = (LeadTaker(row.taken_by_user_id, row.taken_by_name or "", row.taken_at)
                if row.taken_by_user_id else None)
    return Lead(lead_id=row.id, draft=draft, qualification=qualification,
                created_at=row.created_at, taken_by=taken_by)


def _entry_from_row(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=int(row.id), lead_id=row.lead_id, idempotency_key=row.idempotency_key,
        payload=row.payload, kind=row.kind, status=row.status, attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at, last_error=row.last_error,
        crm_reference=row.crm_reference, created_at=row.created_at,
        updated_at=row.updated_at, delivered_at=row.delivered_at,
        lease_owner=row.lease_owner, lease_expires_at=row.lease_expires_at,
    )


def table_names() -> Sequence[str]:
    """The tables this package owns (for tests and the migration check)."""
    return tuple(metadata.tables)


__all__ = [
    "DEAD",
    "DELIVERED",
    "PENDING",
    "ErasureRepository",
    "ForgetResult",
    "LeadRepository",
    "OutboxRepository",
    "metadata",
]
