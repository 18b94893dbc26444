"""Building leads for tests, with sensible defaults to override, and a clock to move."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from bot.advisor.summary import RecommendationSummary
from bot.leads.model import CONSENT_VERSION, Consent, Contact, LeadDraft, utc_now

GIVEN_AT = datetime(2024, 6, 1, 9, 30, tzinfo=timezone.utc)


def make_draft(**overrides: Any) -> LeadDraft:
    """A complete, plausible lead; any field (or contact field) can be overridden."""
    contact_fields: dict[str, Any] = {
        "name": "Ada Lovelace", "email": "ada@analytical.example.io", "company": "Analytical",
        "role": "CTO", "email_is_free_mail": False,
    }
    for key in list(overrides):
        if key in contact_fields:
            contact_fields[key] = overrides.pop(key)
    values: dict[str, Any] = {
        "contact": Contact(**contact_fields),
        "consent": Consent(CONSENT_VERSION, GIVEN_AT),
        "timeline": "this_quarter",
        "size": 40,
        "budget": "50k_250k",
        "conversation_id": "conv-1",
        "profile": {"workload": "web shop", "untrusted_code": False},
        "recommendation": RecommendationSummary(
            "container", title="Containers", confidence=0.8,
            reasons=("stateless web tier",)).to_dict(),
        "transcript_summary": "Asked about: cost.",
    }
    values.update(overrides)
    return LeadDraft(**values)


class Clock:
    """A clock the test moves forward, so backoff and leases are checked without waiting."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
