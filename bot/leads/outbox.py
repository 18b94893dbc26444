"""The transactional outbox: rows waiting to reach the CRM or Slack, and when to try again.

Pure: the records the store hands out and the retry policy (capped exponential backoff
with jitter, `Retry-After` honoured). The store and the worker use these; nothing here
touches a database or the network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
STATUSES = (PENDING, DELIVERED, DEAD)

# What a row asks of the CRM: hold the lead, or delete what it holds of an erased lead.
LEAD = "lead"
ERASURE = "erasure"
# What a row asks of the sales channel: show the hot-lead alert as it now stands (post it,
# or update the posted message), or delete the alert of an erased lead.
SALES_ALERT = "sales_alert"
ALERT_DELETION = "alert_deletion"
CRM_KINDS = (LEAD, ERASURE)
SALES_CHANNEL_KINDS = (SALES_ALERT, ALERT_DELETION)
# The rows a lead's "forget me" deletes with it; the deletion rows outlive the lead.
LEAD_OWNED_KINDS = (LEAD, SALES_ALERT)

# Outcomes recorded for each attempt.
ATTEMPT_IN_PROGRESS = "in_progress"  # stays so if the worker died mid-attempt
ATTEMPT_DELIVERED = "delivered"
ATTEMPT_RETRY = "retry"
ATTEMPT_DEAD = "dead"
# The row was deleted ("forget me") while its delivery was in flight.
ATTEMPT_ERASED = "erased"


@dataclass(frozen=True)
class OutboxEntry:
    """One lead's delivery: its payload and where the delivery stands."""

    id: int
    lead_id: str
    idempotency_key: str
    payload: str  # the JSON document, exactly as signed and sent
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    # The receiver's id for what it holds: the CRM record, or the Slack alert message
    # (`channel:ts`), which later attempts update or delete instead of posting again.
    crm_reference: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    kind: str = LEAD


@dataclass(frozen=True)
class DeliveryAttempt:
    """One recorded try at sending an outbox row."""

    id: int
    outbox_id: int
    attempt_no: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    http_status: int | None
    detail: str


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again, and when to give up.

    Attributes:
        max_attempts: The retry budget; the row goes to the dead letters after it.
        base_seconds: The first delay; each failure doubles it ...
        cap_seconds: ... up to this cap.
        retry_after_cap_seconds: A server's `Retry-After` is honoured up to this long.
    """

    max_attempts: int = 10
    base_seconds: float = 2.0
    cap_seconds: float = 600.0
    retry_after_cap_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_seconds < 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need 0 <= base_seconds <= cap_seconds")

    def delay_after(
        self,
        attempt_no: int,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Seconds to wait after failed attempt number `attempt_no` (1 for the first).

        "Equal jitter": half the capped exponential delay is fixed, the other half random,
        so retries spread out (no thundering herd when the CRM comes back) yet still grow.
        A `Retry-After` from the server is a floor: we never come back sooner than asked.
        """
        rng = rng or random.Random()
        exponential = min(
            self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt_no - 1)
        )
        delay = exponential / 2 + rng.uniform(0, exponential / 2)
        if retry_after is not None and retry_after > 0:
            delay = max(delay, min(retry_after, self.retry_after_cap_seconds))
        return float(delay)

    def budget_spent(self, attempts: int) -> bool:
        """True when `attempts` tries have used up the retry budget."""
        return attempts >= self.max_attempts
