"""The lead domain: what a visitor gives us, what we make of it, and what we send.

Standard library only: these dataclasses are shared by scoring, storage, delivery and the
conversation, and none of those concerns leak in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bot.crm.base import ERASED_EVENT

TIMELINES = ("now", "this_quarter", "this_year", "exploring")
BUDGET_BANDS = ("under_10k", "10k_50k", "50k_250k", "over_250k", "not_given")
TIERS = ("hot", "warm", "cold", "unqualified")

# The consent question shown to the visitor is versioned: a lead records which wording it
# agreed to. When `utter_ask_lead_consent` in domain.yml changes, bump CONSENT_VERSION and
# update CONSENT_TEXT_SHA256 (tests/unit/test_lead_consent.py fails until both are done).
CONSENT_VERSION = "lead-consent-v1"
CONSENT_TEXT_SHA256 = "4d7c931b24f60e2205d6326c21cd4309bb66550d4dbcf253872a0d25095a5f5e"


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (all stored times are UTC)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Consent:
    """The visitor's agreement to have their contact details stored and sent to sales."""

    version: str
    given_at: datetime


@dataclass(frozen=True)
class Contact:
    """Who the visitor is, as they told us (already validated and normalised)."""

    name: str
    email: str
    company: str
    role: str
    email_is_free_mail: bool = False

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0] if self.name else ""

    @property
    def last_name(self) -> str:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True)
class Qualification:
    """The outcome of scoring: 0-100, a tier and the reasons behind it."""

    score: int
    tier: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LeadDraft:
    """Everything the conversation collected, before scoring and storage."""

    contact: Contact
    consent: Consent
    timeline: str
    size: int
    budget: str = "not_given"
    conversation_id: str = ""
    # The advisor's workload profile and recommendation, when the visitor asked for one.
    profile: Mapping[str, Any] = field(default_factory=dict)
    recommendation: Mapping[str, Any] = field(default_factory=dict)
    transcript_summary: str = ""


@dataclass(frozen=True)
class LeadTaker:
    """The sales engineer who took a lead from the sales channel ("I'll take it")."""

    user_id: str  # their Slack user id
    name: str
    taken_at: datetime


@dataclass(frozen=True)
class Lead:
    """A qualified lead as stored: the draft plus its identity and qualification."""

    lead_id: str
    draft: LeadDraft
    qualification: Qualification
    created_at: datetime
    taken_by: LeadTaker | None = None

    @property
    def idempotency_key(self) -> str:
        """One key per lead: the CRM (or our stand-in) drops a second copy carrying it."""
        return f"lead-{self.lead_id}"


def build_crm_payload(lead: Lead) -> dict[str, Any]:
    """The JSON document sent to the CRM for `lead` (the same for every adapter).

    It is built once, when the lead is stored, so a retry sends exactly what was agreed.
    """
    draft = lead.draft
    contact = draft.contact
    return {
        "lead_id": lead.lead_id,
        "idempotency_key": lead.idempotency_key,
        "source": "cloud-advisor",
        "created_at": lead.created_at.isoformat(),
        "contact": {
            "name": contact.name,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "email_is_free_mail": contact.email_is_free_mail,
            "company": contact.company,
            "role": contact.role,
        },
        "consent": {
            "version": draft.consent.version,
            "given_at": draft.consent.given_at.isoformat(),
        },
        "qualification": {
            "score": lead.qualification.score,
            "tier": lead.qualification.tier,
            "reasons": list(lead.qualification.reasons),
        },
        "timeline": draft.timeline,
        "size": draft.size,
        "budget": draft.budget,
        "profile": dict(draft.profile),
        "recommendation": dict(draft.recommendation),
        "transcript_summary": draft.transcript_summary,
    }




def build_erasure_payload(
    lead_payload: Mapping[str, Any], reference: str | None, erased_at: datetime
) -> dict[str, Any]:
    """The outbox document asking the CRM to delete what it holds of an erased lead.

    Args:
        lead_payload: The lead's own CRM payload (`build_crm_payload`).
        reference: The CRM's record for the lead, when a delivery reported one.
        erased_at: When the visitor (or the operator) asked.

    The email stays only until the erasure is delivered (HubSpot finds a contact by it
    when no reference is known); the delivered row keeps `erasure_receipt()` instead.
    """
    lead_id = str(lead_payload.get("lead_id", ""))
    contact = lead_payload.get("contact") or {}
    return {
        "event": ERASED_EVENT,
        "lead_id": lead_id,
        "idempotency_key": f"erase-{lead_id}",
        "email": str(contact.get("email", "")) if isinstance(contact, Mapping) else "",
        "crm_reference": reference,
        "erased_at": erased_at.isoformat(),
    }


def erasure_receipt(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a delivered erasure keeps: the event without any personal data."""
    return {k: v for k, v in payload.items() if k != "email"}
