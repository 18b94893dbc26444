"""The hot-lead alert as data: what the sales channel shows, and who took the lead.

Pure (standard library only). An alert is one outbox row of kind `sales_alert` whose
payload is the document below; each change to what the message must show (the CRM
contact once it exists, the sales engineer who took the lead) rewrites that payload and
puts the row back in the outbox, so the worker brings the posted message up to date with
the same retries as the first post (see `bot.leads.delivery`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.leads.model import LeadTaker


def alert_key(lead_id: str) -> str:
    """The alert's idempotency key, also carried in the Slack message's metadata so that
    a retry can find a message whose post was never confirmed."""
    return f"alert-{lead_id}"


def build_alert_document(lead_payload: Mapping[str, Any]) -> dict[str, Any]:
    """The alert of a newly stored lead: the lead (`build_crm_payload`), no CRM contact
    yet, not taken."""
    return {"lead": dict(lead_payload), "crm_reference": None, "taken_by": None}


def with_crm_reference(document: Mapping[str, Any], reference: str | None) -> dict[str, Any]:
    """The alert once the CRM holds the lead under `reference`."""
    return {**document, "crm_reference": reference}


def with_taker(document: Mapping[str, Any], taker: LeadTaker) -> dict[str, Any]:
    """The alert once `taker` has taken the lead."""
    return {**document, "taken_by": {"user_id": taker.user_id, "name": taker.name,
                                     "taken_at": taker.taken_at.isoformat()}}


def build_alert_deletion(lead_id: str, message_reference: str | None) -> dict[str, Any]:
    """The outbox document asking the sales channel to delete an erased lead's alert.

    Without a message reference (the post was never confirmed) the channel looks the
    message up by the alert's key. No personal data: it outlives the lead.
    """
    return {"lead_id": lead_id, "alert_key": alert_key(lead_id),
            "message_reference": message_reference}


class TakeOutcome(str, Enum):
    """What an "I'll take it" click achieved."""

    TAKEN = "taken"
    ALREADY_YOURS = "already_yours"
    TAKEN_BY_SOMEONE_ELSE = "taken_by_someone_else"
    LEAD_GONE = "lead_gone"  # erased ("forget me") since the alert was posted


@dataclass(frozen=True)
class TakeResult:
    """The outcome, and who holds the lead now (None when it is gone)."""

    outcome: TakeOutcome
    taker: LeadTaker | None


def take_reply(result: TakeResult) -> str:
    """What the clicking sales engineer is told (only they see it)."""
    taker = result.taker
    if result.outcome is TakeOutcome.TAKEN:
        return "The lead is yours: the alert now says so."
    if result.outcome is TakeOutcome.ALREADY_YOURS:
        return "You have already taken this lead."
    if result.outcome is TakeOutcome.TAKEN_BY_SOMEONE_ELSE and taker is not None:
        return (f"Already taken by <@{taker.user_id}> at "
                f"{taker.taken_at.strftime('%Y-%m-%d %H:%M')} UTC.")
    return "This lead was erased at the visitor's request."
