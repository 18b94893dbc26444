"""What the insight figures are computed from, and what they are.

Plain rows in (as the adapter reads them from the tracker store and the leads database),
figures out. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Period:
    """From `start` (included) to `end` (excluded), timezone-aware UTC."""

    start: datetime
    end: datetime

    def days(self) -> list[date]:
        """Every UTC day the period touches, in order."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class EventRow:
    """One row of Rasa's `events` table, as the figures need it.

    `name` is the table's own column: the intent of a `user` event, the action of an
    `action` event, the slot of a `slot` event, the form of an `active_loop` event.
    `data` is the event's JSON, read only for the few rows whose content counts
    (see `bot.insights.queries.ROWS_WITH_DATA`); None for the others.
    """

    event_id: int
    conversation_id: str
    kind: str
    timestamp: float
    name: str | None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LeadRow:
    """A lead created in the period: no contact details, only what the figures count."""

    conversation_id: str
    tier: str
    created_at: datetime
    taken_at: datetime | None
    delivered: bool


@dataclass(frozen=True)
class FunnelStep:
    """One step of the funnel: how many got this far, and what share of the step before."""

    label: str
    count: int
    rate_from_previous: float | None  # None for the first step, or after a step of 0
    rate_from_start: float | None


@dataclass(frozen=True)
class FallbackMessage:
    """A message the assistant did not understand (a fallback or out-of-scope answer)."""

    event_id: int
    text: str
    # The topic the classifier found nearest (not personal): `ask_cost`, `out_of_scope`.
    nearest: str


@dataclass(frozen=True)
class FallbackGroup:
    """Messages alike in meaning, with how many there were."""

    count: int
    nearest: str  # the commonest nearest topic of its messages
    examples: tuple[str, ...]  # scrubbed texts; empty unless details were asked for


@dataclass(frozen=True)
class FeedbackCount:
    """Thumbs up and down for one subject (an answer key or `recommendation/<verdict>`)."""

    subject: str
    helpful: int
    not_helpful: int


@dataclass(frozen=True)
class DayFigures:
    """The day's figures, for the daily charts."""

    day: date
    conversations: int = 0
    recommendations: int = 0
    expert_requests: int = 0
    leads: int = 0
    fallbacks: int = 0
    helpful: int = 0
    not_helpful: int = 0


# The daily series, in the order the page and the CSV show them.
DAILY_SERIES = ("conversations", "recommendations", "expert_requests", "leads", "fallbacks",
                "helpful", "not_helpful")


@dataclass(frozen=True)
class LeadTiming:
    """How soon leads are taken by a sales engineer ("I'll take it" in the sales channel)."""

    leads: int
    taken: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Insights:
    """Every figure of the insight page for one period."""

    period: Period
    funnel: tuple[FunnelStep, ...]
    verdicts: tuple[tuple[str, int], ...]
    hybrid_kinds: tuple[tuple[str, int], ...]
    tiers: tuple[tuple[str, int], ...]
    lead_timing: LeadTiming
    fallbacks: int
    fallback_groups: tuple[FallbackGroup, ...]
    feedback: tuple[FeedbackCount, ...]
    channels: tuple[tuple[str, int], ...]
    handoffs: int
    person_requests: int
    daily: tuple[DayFigures, ...]
    details: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def helpful(self) -> int:
        return sum(f.helpful for f in self.feedback)

    @property
    def not_helpful(self) -> int:
        return sum(f.not_helpful for f in self.feedback)
