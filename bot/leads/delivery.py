"""The delivery worker's one pass: send what is due in the outbox to the CRM and to the
sales channel.

Each row goes through claim -> send -> record, each step its own short transaction:

- claim: a conditional UPDATE takes a lease on the row (and counts the attempt); a
  worker killed after this point leaves the lease to run out, and the row is retried.
- send: the CRM client is called with the lead's idempotency key, which is the same on
  every attempt; the CRM (or receiver) keeps one record per key or per email, so a
  worker killed between the send and the record cannot leave a second copy there.
- record: delivered; or back to pending after a capped, jittered exponential backoff
  (at least `Retry-After` when the CRM said so); or dead with the reason once the retry
  budget is spent or the CRM refused the lead for good. The attempt row says which.
  A failure that is the operator's to fix (credentials refused, a redirect) is logged
  at error level and keeps retrying at the capped backoff instead of spending the budget.

Rows of kind `erasure` go through the same steps, calling the CRM's `erase`. When the
record step finds its row gone, the lead was erased ("forget me") while the send was in
flight: if the CRM may now hold it, its erasure is queued (with the CRM's reference).

Rows of kind `sales_alert` and `alert_deletion` go through the same steps to the sales
channel (when there is one; the CRM rows wait for the CRM, and neither waits for the
other). A hot lead's alert is posted at once, not after the CRM: when the CRM reports
the contact later, recording that delivery revises the alert (`revise_sales_alert`),
and the worker updates the posted message with the link. An alert revised while its
send was in flight is not marked delivered but sent again (an update), so the message
always ends up showing the last revision.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.crm.base import (
    DELIVERED,
    REJECTED,
    RETRY,
    CrmClient,
    DeliveryResult,
    SalesChannel,
    payload_to_json,
)
from bot.leads.model import (
    build_erasure_payload,
    erasure_receipt,
    utc_now,
)
from bot.leads.outbox import (
    ALERT_DELETION,
    ATTEMPT_DEAD,
    ATTEMPT_DELIVERED,
    ATTEMPT_ERASED,
    ATTEMPT_RETRY,
    CRM_KINDS,
    ERASURE,
    LEAD,
    SALES_ALERT,
    SALES_CHANNEL_KINDS,
    OutboxEntry,
    RetryPolicy,
)
from bot.leads.sales_alert import build_alert_deletion, with_crm_reference
from bot.leads.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

# Called at "after_claim" (committed, not yet sent) and "after_send" (sent, not yet
# recorded): the SIGKILL tests pause the worker there.
Checkpoint = Callable[[str, OutboxEntry], None]


@dataclass
class DeliveryReport:
    """What one pass did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    erased: int = 0  # rows deleted by "forget me" while their send was in flight
    lost_claims: int = 0  # rows another worker claimed first
    outcomes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retried + self.dead + self.erased

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.erased += other.erased
        self.lost_claims += other.lost_claims
        self.outcomes.extend(other.outcomes)


def new_worker_id() -> str:
    """A name for this worker, unique across hosts and restarts (kept on the lease)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs.

    Attributes:
        worker_id: This worker's name on the leases (unique per process by default).
        lease_seconds: How long a claim lasts; must outlast one send with its timeouts.
        batch_size: How many due rows one pass looks at.
        clock: The current UTC time (a controllable clock in tests).
        checkpoint: Test hook called after the claim and after the send.
    """

    worker_id: str = field(default_factory=lambda: new_worker_id())
    lease_seconds: float = 120.0
    batch_size: int = 20
    clock: Callable[[], datetime] = utc_now
    checkpoint: Checkpoint | None = None


def deliver_pending(
    uow: UnitOfWork,
    client: CrmClient | None,
    policy: RetryPolicy,
    options: WorkerOptions | None = None,
    rng: random.Random | None = None,
    sales_channel: SalesChannel | None = None,
) -> DeliveryReport:
    """Send up to `options.batch_size` due outbox rows, one at a time.

    Args:
        uow: The leads database's unit of work (one transaction per step).
        client: The CRM adapter; None leaves the CRM rows alone (CRM_ADAPTER=none).
        policy: Retry budget and backoff.
        options: Worker name, lease, batch size, clock and test hook.
        rng: Source of jitter.
        sales_channel: Where hot-lead alerts go; None leaves the alert rows alone.

    Returns:
        Counts of what happened to the rows this pass touched.
    """
    options = options or WorkerOptions()
    worker, clock, checkpoint = options.worker_id, options.clock, options.checkpoint
    lease = timedelta(seconds=options.lease_seconds)
    rng = rng or random.Random()
    report = DeliveryReport()
    with uow:
        due = uow.outbox.due_ids(clock(), options.batch_size,
                                 handled_kinds(client, sales_channel))
    for outbox_id in due:
        claimed = _claim(uow, outbox_id, worker, lease, clock)
        if claimed is None:
            report.lost_claims += 1
            continue
        entry, attempt_id = claimed
        if checkpoint:
            checkpoint("after_claim", entry)
        try:
            result = _send(entry, client, sales_channel)
        except Exception as exc:  # a bug in an adapter must not stop the other leads
            logger.exception("%s sender raised on outbox row %s", entry.kind, entry.id)
            result = DeliveryResult(RETRY, None, f"client error: {exc!r}")
        if checkpoint:
            checkpoint("after_send", entry)
        outcome = _record(uow, entry, attempt_id, result, worker, policy, clock, rng)
        report.outcomes.append((entry.id, outcome))
        if outcome == ATTEMPT_DELIVERED:
            report.delivered += 1
        elif outcome == ATTEMPT_DEAD:
            report.dead += 1
        elif outcome == ATTEMPT_ERASED:
            report.erased += 1
        else:
            report.retried += 1
    return report


def handled_kinds(
    client: CrmClient | None, sales_channel: SalesChannel | None
) -> tuple[str, ...]:
    """The outbox kinds a worker with these adapters sends."""
    return (CRM_KINDS if client is not None else ()) + (
        SALES_CHANNEL_KINDS if sales_channel is not None else ())


def _send(
    entry: OutboxEntry, client: CrmClient | None, sales_channel: SalesChannel | None
) -> DeliveryResult:
    document = json.loads(entry.payload)
    if entry.kind in SALES_CHANNEL_KINDS:
        assert sales_channel is not None  # handled_kinds() chose the row
        if entry.kind == ALERT_DELETION:
            return sales_channel.delete_alert(document)
        # The claim counted this attempt: more than one means an earlier one may have
        # posted the alert without recording it (see bot/crm/slack_sales.py).
        return sales_channel.show_alert(document, entry.idempotency_key, entry.crm_reference,
                                        may_be_posted=entry.attempts > 1)
    assert client is not None
    if entry.kind == ERASURE:
        return client.erase(document, entry.idempotency_key)
    return client.send(document, entry.idempotency_key)


def _claim(
    uow: UnitOfWork,
    outbox_id: int,
    worker: str,
    lease: timedelta,
    clock: Callable[[], datetime],
) -> tuple[OutboxEntry, int] | None:
    with uow:
        now = clock()
        if not uow.outbox.try_claim(outbox_id, worker, now, lease):
            return None
        entry = uow.outbox.get(outbox_id)
        assert entry is not None
        attempt_id = uow.outbox.start_attempt(entry, worker, now)
        uow.commit()
    return entry, attempt_id


def _record(
    uow: UnitOfWork,
    entry: OutboxEntry,
    attempt_id: int,
    result: DeliveryResult,
    worker: str,
    policy: RetryPolicy,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> str:
    with uow:
        now = clock()
        if uow.outbox.get(entry.id) is None:
            outcome, detail = _row_vanished(uow, entry, result, now)
        elif result.outcome == DELIVERED and entry.kind == SALES_ALERT:
            if uow.outbox.mark_delivered(entry.id, result.reference, now,
                                         sent_payload=entry.payload):
                outcome, detail = ATTEMPT_DELIVERED, result.detail
            else:  # revised meanwhile: the message must show the newer alert
                uow.outbox.keep_for_another_send(entry.id, worker, result.reference, now)
                outcome, detail = ATTEMPT_RETRY, f"{result.detail}; revised meanwhile"
        elif result.outcome == DELIVERED:
            receipt = (payload_to_json(erasure_receipt(json.loads(entry.payload)))
                       if entry.kind == ERASURE else None)
            uow.outbox.mark_delivered(entry.id, result.reference, now, receipt)
            if entry.kind == LEAD:
                uow.outbox.revise_sales_alert(
                    entry.lead_id,
                    lambda alert: payload_to_json(
                        with_crm_reference(json.loads(alert), result.reference)),
                    now,
                )
            outcome, detail = ATTEMPT_DELIVERED, result.detail
        elif result.outcome == REJECTED:
            receiver = "the sales channel" if entry.kind in SALES_CHANNEL_KINDS else "the CRM"
            reason = f"rejected by {receiver}: {result.detail}"
            uow.outbox.mark_dead(entry.id, worker, reason, now)
            outcome, detail = ATTEMPT_DEAD, reason
        elif policy.budget_spent(entry.attempts) and not result.alert:
            reason = f"retry budget spent after {entry.attempts} attempts: {result.detail}"
            uow.outbox.mark_dead(entry.id, worker, reason, now)
            outcome, detail = ATTEMPT_DEAD, reason
        else:
            # An operator alert keeps the row at the capped backoff: the next try comes
            # once someone has renewed the token, without a dead letter per lead.
            attempt_no = entry.attempts if not result.alert else max(entry.attempts, 64)
            delay = policy.delay_after(attempt_no, result.retry_after, rng)
            uow.outbox.schedule_retry(
                entry.id, worker, now + timedelta(seconds=delay), result.detail, now
            )
            outcome = ATTEMPT_RETRY
            detail = f"{result.detail}; next try in {delay:.1f}s"
        uow.outbox.finish_attempt(attempt_id, outcome, result.status_code, detail, now)
        uow.commit()
    if result.alert:
        receiver = "Slack" if entry.kind in SALES_CHANNEL_KINDS else "CRM"
        logger.error("%s needs the operator (outbox row %s, %s): %s", receiver, entry.id,
                     entry.kind, detail)
    if outcome == ATTEMPT_DEAD:
        logger.warning("lead outbox row %s is a dead letter: %s", entry.id, detail)
    return outcome


def _row_vanished(
    uow: UnitOfWork, entry: OutboxEntry, result: DeliveryResult, now: datetime
) -> tuple[str, str]:
    """The row was deleted while in flight ("forget me"): make sure the CRM forgets too,
    and that the alert leaves the sales channel."""
    if entry.kind == SALES_ALERT and result.outcome != REJECTED:
        # Posted, or maybe posted (a lost answer): the deletion looks it up if need be.
        message = result.reference or entry.crm_reference
        uow.outbox.queue_erasure(entry.lead_id,
                                 payload_to_json(build_alert_deletion(entry.lead_id, message)),
                                 now, kind=ALERT_DELETION)
        logger.warning("outbox row %s was erased during its delivery; alert deletion queued",
                       entry.id)
        return ATTEMPT_ERASED, "erased during delivery; alert deletion queued"
    if entry.kind == LEAD and result.outcome != REJECTED:
        payload = build_erasure_payload(json.loads(entry.payload), result.reference, now)
        uow.outbox.queue_erasure(entry.lead_id, payload_to_json(payload), now)
        logger.warning("outbox row %s was erased during its delivery; CRM erasure queued",
                       entry.id)
        return ATTEMPT_ERASED, "erased during delivery; CRM erasure queued"
    logger.warning("outbox row %s was erased during its delivery", entry.id)
    return ATTEMPT_ERASED, "erased during delivery"


def deliver_until_idle(
    uow: UnitOfWork,
    client: CrmClient | None,
    policy: RetryPolicy,
    options: WorkerOptions | None = None,
    *,
    max_seconds: float,
    sleep: Callable[[float], None],
    rng: random.Random | None = None,
    sales_channel: SalesChannel | None = None,
) -> DeliveryReport:
    """Run passes until nothing is pending (or `max_seconds` pass); for the CLI and tests.

    Between passes it waits briefly while rows are pending but not yet due (in backoff).
    Rows of kinds no adapter here sends do not count as pending.
    """
    options = options or WorkerOptions()
    total = DeliveryReport()
    deadline = options.clock() + timedelta(seconds=max_seconds)
    kinds = handled_kinds(client, sales_channel)
    while options.clock() < deadline:
        report = deliver_pending(uow, client, policy, options, rng, sales_channel)
        total.add(report)
        if report.attempted or report.lost_claims:
            continue
        with uow:
            pending = uow.outbox.pending_count(kinds)
        if not pending:
            break
        sleep(0.05)
    return total
