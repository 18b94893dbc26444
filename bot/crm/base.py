"""The outbound boundaries: the CRM (`send` a lead, `erase` one), the sales channel (show
a hot-lead alert, delete it), and the result every adapter reports.

The delivery worker depends on these interfaces only. Adapters classify what happened
into three outcomes, so the retry logic lives in one place (the worker), not in each
adapter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

DELIVERED = "delivered"  # the CRM holds the lead (new, or an existing record updated)
RETRY = "retry"  # a temporary failure: timeouts, dropped connections, 5xx, 429
REJECTED = "rejected"  # the CRM refused it for good (4xx): retrying cannot help

# 4xx statuses that are worth another try: timeouts, "too early", rate limiting.
RETRYABLE_4XX = frozenset({408, 425, 429})
# Not the lead's fault but ours (an expired token, a revoked scope, a moved endpoint):
# every lead would fail alike, so they keep retrying and the operator is alerted.
OPERATOR_STATUSES = frozenset({401, 403})


# The webhook event that asks the receiver to delete what it holds of a lead.
ERASED_EVENT = "lead.erased"


def payload_to_json(payload: Mapping[str, Any]) -> str:
    """Serialise a payload the one way we sign and store it (stable, UTF-8 kept).

    Here, with the adapters that sign and send it, so that no adapter needs the leads
    package (which imports this one).
    """
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class DeliveryResult:
    """What one send achieved.

    Attributes:
        outcome: `delivered`, `retry` or `rejected`.
        status_code: The last HTTP status, None when no answer came.
        detail: A short human-readable account (stored with the attempt).
        retry_after: Seconds the server asked us to wait (`Retry-After`), if any.
        reference: The CRM's id for the record, when it told us.
        alert: The operator must act (credentials, a redirect); the row keeps retrying
            instead of spending its budget.
    """

    outcome: str
    status_code: int | None = None
    detail: str = ""
    retry_after: float | None = None
    reference: str | None = None
    alert: bool = False


class CrmClient(Protocol):
    """Anything that can hand a lead payload to a CRM, and take it back."""

    name: str

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """Send one lead. Must not raise for network or HTTP errors: report them.

        Args:
            payload: The lead document (see `bot.leads.model.build_crm_payload`).
            idempotency_key: The same for every attempt at the same lead.
        """
        ...

    def erase(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """Delete what the CRM holds of an erased lead; `delivered` once it is gone
        (also when it was never there). Must not raise for network or HTTP errors.

        Args:
            payload: The erasure document (see `bot.leads.model.build_erasure_payload`).
            idempotency_key: The same for every attempt at the same erasure.
        """
        ...


class SalesChannel(Protocol):
    """Where hot leads are announced to the sales team (Slack's sales channel)."""

    name: str

    def show_alert(
        self, document: Mapping[str, Any], alert_key: str, message: str | None,
        may_be_posted: bool,
    ) -> DeliveryResult:
        """Make the channel show the alert as `document` now stands. Must not raise for
        network or HTTP errors: report them.

        Args:
            document: `{"lead", "crm_reference", "taken_by"}` (bot/leads/sales_alert.py).
            alert_key: The same for every attempt at the same alert.
            message: The posted message (the `reference` of an earlier result): update it.
            may_be_posted: An earlier attempt may have posted without our knowing (a
                timeout, a lost answer): look for its message before posting again.

        Returns:
            `delivered` with the message as `reference`.
        """
        ...

    def delete_alert(self, document: Mapping[str, Any]) -> DeliveryResult:
        """Delete an erased lead's alert; `delivered` once it is gone (or never was).

        Args:
            document: `{"lead_id", "alert_key", "message_reference"}`.
        """
        ...

    def tell(self, user_id: str, text: str) -> bool:
        """Show `text` to one member of the channel only; False when it did not work."""
        ...


def crm_contact_url(template: str, reference: str | None) -> str | None:
    """The link to the CRM record, from `CRM_CONTACT_URL_TEMPLATE` (`{id}` is replaced).

    A reference that is not a contact (`note:…`: the lead added to a contact that existed
    before) gives no link: we do not know that contact's id.
    """
    if not template or not reference or ":" in reference:
        return None
    return template.replace("{id}", reference)


def classify_status(
    status: int, retry_after_header: str | None = None, detail: str = ""
) -> DeliveryResult:
    """Map an HTTP status to an outcome.

    2xx delivered; 408/425/429/5xx retry; 3xx (redirects are never followed), 401 and
    403 retry with an operator alert; other 4xx rejected.
    """
    if 200 <= status < 300:
        return DeliveryResult(DELIVERED, status, detail or f"HTTP {status}")
    retry_after = parse_retry_after(retry_after_header)
    if 300 <= status < 400 or status in OPERATOR_STATUSES:
        why = "a redirect" if status < 400 else "credentials refused"
        return DeliveryResult(RETRY, status, f"operator: {why}: {detail or f'HTTP {status}'}",
                              retry_after, alert=True)
    if status in RETRYABLE_4XX or status >= 500:
        return DeliveryResult(RETRY, status, detail or f"HTTP {status}", retry_after)
    return DeliveryResult(REJECTED, status, detail or f"HTTP {status}")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def short(text: str, limit: int = 300) -> str:
    """Trim a response body for the attempt log."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
