"""The lead use cases against a hand-written fake unit of work (no database).

The fake keeps what was committed apart from the work in progress, as a real transaction
does, so these tests see whether a use case commits, and what it commits together.
The same use cases run against SQLite and PostgreSQL in tests/integration.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from bot.leads.model import Lead, LeadTaker
from bot.leads.outbox import ERASURE, LEAD, LEAD_OWNED_KINDS, PENDING, OutboxEntry
from bot.leads.scoring import load_scoring_rules
from bot.leads.services import forget_conversation, submit_lead
from bot.leads.store import Erasure, ForgetResult
from tests.support.leads_factory import Clock, make_draft

ALERTING = load_scoring_rules(sales_alerts=True)
QUIET = load_scoring_rules(sales_alerts=False)


@dataclass
class State:
    leads: dict[str, Lead] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    erasures: list[tuple[str, float]] = field(default_factory=list)


class FakeLeads:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def add(self, lead: Lead) -> None:
        self._uow.work.leads[lead.lead_id] = lead

    # Not called by the use cases tested here: a call would fail the test.
    def get(self, lead_id: str) -> Lead | None:
        raise NotImplementedError

    def find_by_email(self, email: str) -> list[Lead]:
        raise NotImplementedError

    def take(self, lead_id: str, taker: LeadTaker) -> bool:
        raise NotImplementedError

    def for_conversation(self, conversation_id: str) -> list[Lead]:
        return [lead for lead in self._uow.work.leads.values()
                if lead.draft.conversation_id == conversation_id]

    def delete(self, lead_ids: Sequence[str]) -> ForgetResult:
        work = self._uow.work
        # As the real one: the erasure rows outlive the lead.
        rows = [row for row in work.outbox
                if row.lead_id in lead_ids and row.kind in LEAD_OWNED_KINDS]
        work.outbox = [row for row in work.outbox if row not in rows]
        for lead_id in lead_ids:
            del work.leads[lead_id]
        return ForgetResult(tuple(lead_ids), len(rows), 0)


class FakeOutbox:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow
        self.broken = False

    def add(self, lead_id: str, idempotency_key: str, payload: str, now: datetime,
            kind: str = LEAD, not_before: datetime | None = None) -> int:
        if self.broken:
            raise RuntimeError("the outbox table is gone")
        work = self._uow.work
        entry = OutboxEntry(len(work.outbox) + 1, lead_id, idempotency_key, payload, PENDING,
                            0, not_before or now, None, None, now, now, None, kind=kind)
        work.outbox.append(entry)
        return entry.id

    def for_lead(self, lead_id: str, kind: str | None = LEAD) -> list[OutboxEntry]:
        return [row for row in self._uow.work.outbox
                if row.lead_id == lead_id and kind in (None, row.kind)]

    def queue_erasure(self, lead_id: str, payload: str, now: datetime,
                      not_before: datetime | None = None, kind: str = ERASURE) -> int:
        return self.add(lead_id, f"{kind}-{lead_id}", payload, now, kind, not_before)

    # The delivery worker's part of the outbox, not called by these use cases.
    def revise_sales_alert(
        self, lead_id: str, revise: Callable[[str], str], now: datetime
    ) -> bool:
        raise NotImplementedError

    def keep_for_another_send(
        self, outbox_id: int, worker: str, reference: str | None, now: datetime
    ) -> None:
        raise NotImplementedError

    def get(self, outbox_id: int) -> OutboxEntry | None:
        raise NotImplementedError

    def due_ids(
        self, now: datetime, limit: int, kinds: Sequence[str] | None = None
    ) -> list[int]:
        raise NotImplementedError

    def try_claim(self, outbox_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        raise NotImplementedError

    def start_attempt(self, entry: OutboxEntry, worker: str, now: datetime) -> int:
        raise NotImplementedError

    def finish_attempt(
        self, attempt_id: int, outcome: str, http_status: int | None, detail: str,
        now: datetime,
    ) -> None:
        raise NotImplementedError

    def mark_delivered(
        self, outbox_id: int, reference: str | None, now: datetime,
        payload: str | None = None, sent_payload: str | None = None,
    ) -> bool:
        raise NotImplementedError

    def schedule_retry(
        self, outbox_id: int, worker: str, next_attempt_at: datetime, error: str,
        now: datetime,
    ) -> bool:
        raise NotImplementedError

    def mark_dead(
        self, outbox_id: int, worker: str | None, reason: str, now: datetime
    ) -> bool:
        raise NotImplementedError

    def pending_count(self, kinds: Sequence[str]) -> int:
        raise NotImplementedError


class FakeErasures:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def add(self, conversation_id: str, before_timestamp: float, now: datetime) -> None:
        self._uow.work.erasures.append((conversation_id, before_timestamp))

    # The delivery worker's part, not called by these use cases.
    def open(self) -> list[Erasure]:
        raise NotImplementedError

    def record_pass(self, erasure_id: int, deleted: int, now: datetime, done: bool) -> None:
        raise NotImplementedError


class FakeUnitOfWork:
    """Work happens on a copy of the committed state; `commit()` keeps it."""

    def __init__(self) -> None:
        self.committed = State()
        self.work = State()
        self.commits = 0
        self.open = False
        self.leads = FakeLeads(self)
        self.outbox = FakeOutbox(self)
        self.erasures = FakeErasures(self)

    def __enter__(self) -> FakeUnitOfWork:
        assert not self.open, "a use case nested two transactions"
        self.open = True
        self.work = copy.deepcopy(self.committed)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.open = False
        self.rollback()

    def commit(self) -> None:
        assert self.open, "commit() outside the `with` block"
        self.committed = copy.deepcopy(self.work)
        self.commits += 1

    def rollback(self) -> None:
        self.work = copy.deepcopy(self.committed)


def test_a_lead_is_committed_with_its_outbox_row() -> None:
    uow = FakeUnitOfWork()
    lead = submit_lead(uow, make_draft(), QUIET, clock=Clock())
    assert uow.commits == 1 and not uow.open
    assert list(uow.committed.leads) == [lead.lead_id]
    assert [(row.kind, row.idempotency_key) for row in uow.committed.outbox] == [
        (LEAD, lead.idempotency_key)]


def test_a_lead_sales_hear_about_gets_its_alert_in_the_same_commit() -> None:
    uow = FakeUnitOfWork()
    lead = submit_lead(uow, make_draft(timeline="now", size=500), ALERTING, clock=Clock())
    assert uow.commits == 1
    assert [row.kind for row in uow.committed.outbox] == [LEAD, "sales_alert"]
    assert {row.lead_id for row in uow.committed.outbox} == {lead.lead_id}


def test_no_lead_is_kept_when_its_outbox_row_cannot_be_written() -> None:
    uow = FakeUnitOfWork()
    uow.outbox.broken = True
    with pytest.raises(RuntimeError):
        submit_lead(uow, make_draft(), QUIET, clock=Clock())
    assert uow.commits == 0 and not uow.open
    assert uow.committed == State()


def test_forget_me_removes_the_conversations_leads_and_queues_its_events() -> None:
    uow = FakeUnitOfWork()
    mine = submit_lead(uow, make_draft(conversation_id="conv-a"), QUIET, clock=Clock())
    other = submit_lead(uow, make_draft(conversation_id="conv-b"), QUIET, clock=Clock())
    report = forget_conversation(uow, "conv-a", before_timestamp=1234.5, clock=Clock())
    assert (report.leads, report.crm_erasures, report.conversations) == (1, 0, ("conv-a",))
    assert list(uow.committed.leads) == [other.lead_id]
    assert mine.lead_id not in {row.lead_id for row in uow.committed.outbox}
    assert uow.committed.erasures == [("conv-a", 1234.5)]


def test_forget_me_queues_a_crm_erasure_for_a_lead_that_was_sent() -> None:
    uow = FakeUnitOfWork()
    lead = submit_lead(uow, make_draft(conversation_id="conv-a"), QUIET, clock=Clock())
    (row,) = uow.committed.outbox
    uow.committed.outbox = [replace(row, attempts=1, crm_reference="crm-7")]
    report = forget_conversation(uow, "conv-a", clock=Clock())
    assert report.crm_erasures == 1
    (erasure,) = uow.committed.outbox
    assert (erasure.kind, erasure.lead_id) == (ERASURE, lead.lead_id)
    assert "crm-7" in erasure.payload
