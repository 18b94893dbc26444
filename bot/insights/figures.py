"""The insight figures, computed from plain rows: pure functions, standard library only.

Definitions (each counts conversations, i.e. distinct conversation ids, unless it says
otherwise):
- conversations: those with at least one visitor message in the period;
- recommendations: those given a recommendation (`action_recommend` set the
  `recommendation` slot);
- "talk to an expert": those where the lead form started (the "Talk to an expert"
  button, "talk to sales", or yes to the expert after a recommendation);
- consent: those where the visitor agreed to be contacted (`lead_consent` set true);
- leads and delivered: leads created in the period, and those of them the CRM has.
Slots carried over into a new session (`action_session_start` sets them again) are not
counted a second time. The verdict mix counts recommendations given, not conversations.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any

from bot.insights.feedback import FEEDBACK_INTENT, read_feedback
from bot.insights.model import (
    DayFigures,
    EventRow,
    FallbackGroup,
    FallbackMessage,
    FeedbackCount,
    FunnelStep,
    Insights,
    LeadRow,
    LeadTiming,
    Period,
)

# The actions that answer a message the assistant did not understand.
FALLBACK_ACTIONS = frozenset({"action_default_fallback_with_topics", "action_out_of_scope"})
RECOMMEND_ACTION = "action_recommend"
SESSION_START_ACTION = "action_session_start"
LEAD_FORM = "lead_form"
RECOMMENDATION_SLOT = "recommendation"
CONSENT_SLOT = "lead_consent"
# A request for a person ("can I talk to a human?", "Talk to our solutions team").
PERSON_REQUEST_INTENT = "contact_sales"
# Rasa's ConversationPaused: a person took the conversation over (live handoff).
PAUSE_EVENT = "pause"
LEAD_TIERS = ("hot", "warm", "cold", "unqualified")

# Which channel a conversation came through, from its id (bot/channels/): the first
# pattern that matches wins; ids no channel makes (tests, `rasa shell`) are "other".
CHANNEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("rest", re.compile(r"^rest:")),
    ("widget", re.compile(r"^[0-9a-f]{32}$")),
    # Slack: `<user>`, `<user>_<channel>` or `<user>_<channel>_<thread ts>`.
    ("slack", re.compile(r"^[UW][A-Z0-9]{2,}(_[A-Z0-9]{2,}(_\d+\.\d+)?)?$")),
)
CHANNELS = ("widget", "slack", "rest", "other")


def channel_of(conversation_id: str) -> str:
    """`widget`, `slack`, `rest` or `other`, from the conversation id's shape."""
    for name, pattern in CHANNEL_PATTERNS:
        if pattern.match(conversation_id):
            return name
    return "other"


def rate(count: int, of: int) -> float | None:
    """count / of, or None when there is nothing to divide by."""
    return count / of if of else None


def funnel(counts: Sequence[tuple[str, int]]) -> tuple[FunnelStep, ...]:
    """The funnel steps, each with its rate from the step before and from the first."""
    steps: list[FunnelStep] = []
    for index, (label, count) in enumerate(counts):
        previous = counts[index - 1][1] if index else None
        steps.append(FunnelStep(
            label=label, count=count,
            rate_from_previous=None if previous is None else rate(count, previous),
            rate_from_start=rate(count, counts[0][1]) if counts else None))
    return tuple(steps)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile: a value that was observed, never an average of two."""
    if not values:
        return None
    ordered = sorted(values)
    # The small tolerance keeps 0.9 * 10 at rank 9 despite floating point.
    rank = max(1, math.ceil(fraction * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def lead_timing(leads: Sequence[LeadRow]) -> LeadTiming:
    """How long leads waited until a sales engineer took them (taken ones only)."""
    waits = [(lead.taken_at - lead.created_at).total_seconds()
             for lead in leads if lead.taken_at is not None]
    return LeadTiming(leads=len(leads), taken=len(waits),
                      median_seconds=percentile(waits, 0.5),
                      p90_seconds=percentile(waits, 0.9))


def _day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).date()


def _carried_over(last_action: Mapping[str, str], row: EventRow) -> bool:
    return last_action.get(row.conversation_id) == SESSION_START_ACTION


def _slot_value(row: EventRow) -> Any:
    return (row.data or {}).get("value")


def _nearest_topic(row: EventRow) -> str:
    """The likeliest real intent of a message the classifier was unsure of."""
    parse_data = (row.data or {}).get("parse_data") or {}
    for candidate in parse_data.get("intent_ranking") or []:
        name = candidate.get("name") if isinstance(candidate, Mapping) else None
        if isinstance(name, str) and name != "nlu_fallback":
            return name
    return row.name or "unknown"


def fallback_messages(events: Iterable[EventRow]) -> list[FallbackMessage]:
    """The visitor messages that a fallback action answered, oldest first.

    The fallback reverts the message (a `rewind` event), but the message stays in the
    store: it is the visitor message just before the fallback action.
    """
    latest_message: dict[str, EventRow] = {}
    found: list[FallbackMessage] = []
    for row in sorted(events, key=lambda r: r.event_id):
        if row.kind == "user":
            latest_message[row.conversation_id] = row
        elif row.kind == "action" and row.name in FALLBACK_ACTIONS:
            message = latest_message.pop(row.conversation_id, None)
            if message is not None:
                text = str((message.data or {}).get("text") or "")
                found.append(FallbackMessage(message.event_id, text, _nearest_topic(message)))
    return found


def compute_insights(
    period: Period,
    events: Iterable[EventRow],
    leads: Sequence[LeadRow],
    fallback_groups: Sequence[FallbackGroup] = (),
    details: bool = False,
    notes: Sequence[str] = (),
) -> Insights:
    """Every figure of the page from the period's events and leads.

    Args:
        period: the period the rows were read for.
        events: the period's rows of the tracker store, in any order.
        leads: the leads created in the period.
        fallback_groups: the period's fallback messages, grouped (`group_by_similarity`).
        details: whether the groups carry example texts (shown only when asked for).
        notes: remarks for the reader (e.g. a database that could not be read).
    """
    conversations: dict[str, set[str]] = defaultdict(set)  # step -> conversation ids
    last_action: dict[str, str] = {}
    verdicts: Counter[str] = Counter()
    hybrid_kinds: Counter[str] = Counter()
    latest_rating: dict[tuple[str, str], tuple[float, str]] = {}
    channels: dict[str, str] = {}
    per_day: dict[date, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    day_conversations: dict[date, set[str]] = defaultdict(set)
    day_experts: dict[date, set[str]] = defaultdict(set)
    fallbacks = 0

    for row in sorted(events, key=lambda r: r.event_id):
        conversation, day = row.conversation_id, _day(row.timestamp)
        if row.kind == "action":
            last_action[conversation] = row.name or ""
            if row.name in FALLBACK_ACTIONS:
                fallbacks += 1
                per_day[day]["fallbacks"] += 1
        elif row.kind == "user":
            conversations["conversations"].add(conversation)
            channels[conversation] = channel_of(conversation)
            day_conversations[day].add(conversation)
            if row.name == PERSON_REQUEST_INTENT:
                conversations["person"].add(conversation)
            if row.name == FEEDBACK_INTENT:
                rating = read_feedback(
                    ((row.data or {}).get("parse_data") or {}).get("entities") or [])
                if rating is not None:
                    # One rating per answer and conversation: the latest counts.
                    latest_rating[(conversation, rating[1])] = (row.timestamp, rating[0])
        elif row.kind == "slot" and not _carried_over(last_action, row):
            value = _slot_value(row)
            if row.name == RECOMMENDATION_SLOT and isinstance(value, Mapping):
                conversations["recommendations"].add(conversation)
                verdict = str(value.get("verdict") or "none")
                verdicts[verdict] += 1
                if verdict == "hybrid":
                    hybrid_kinds[str(value.get("hybrid_kind") or "unspecified")] += 1
                per_day[day]["recommendations"] += 1
            elif row.name == CONSENT_SLOT and value is True:
                conversations["consent"].add(conversation)
        elif row.kind == "active_loop" and row.name == LEAD_FORM:
            conversations["expert"].add(conversation)
            day_experts[day].add(conversation)
        elif row.kind == PAUSE_EVENT:
            conversations["handoffs"].add(conversation)

    feedback: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (_, subject), (timestamp, helpful) in latest_rating.items():
        feedback[subject][0 if helpful == "yes" else 1] += 1
        per_day[_day(timestamp)]["helpful" if helpful == "yes" else "not_helpful"] += 1
    for day, ids in day_conversations.items():
        per_day[day]["conversations"] = len(ids)
    for day, ids in day_experts.items():
        per_day[day]["expert_requests"] = len(ids)
    for lead in leads:
        per_day[lead.created_at.astimezone(timezone.utc).date()]["leads"] += 1

    tiers = Counter(lead.tier for lead in leads)
    tier_names = [*LEAD_TIERS, *sorted(set(tiers) - set(LEAD_TIERS))]
    channel_counts = Counter(channels.values())
    return Insights(
        period=period,
        funnel=funnel([
            ("Conversations", len(conversations["conversations"])),
            ("Recommendations", len(conversations["recommendations"])),
            ('"Talk to an expert"', len(conversations["expert"])),
            ("Consent", len(conversations["consent"])),
            ("Leads", len(leads)),
            ("Delivered to the CRM", sum(1 for lead in leads if lead.delivered)),
        ]),
        verdicts=tuple(verdicts.most_common()),
        hybrid_kinds=tuple(hybrid_kinds.most_common()),
        tiers=tuple((tier, tiers.get(tier, 0)) for tier in tier_names),
        lead_timing=lead_timing(leads),
        fallbacks=fallbacks,
        fallback_groups=tuple(fallback_groups),
        feedback=tuple(sorted((FeedbackCount(subject, up, down)
                               for subject, (up, down) in feedback.items()),
                              key=lambda f: (-(f.helpful + f.not_helpful), f.subject))),
        channels=tuple((name, channel_counts.get(name, 0)) for name in CHANNELS),
        handoffs=len(conversations["handoffs"]),
        person_requests=len(conversations["person"]),
        daily=tuple(DayFigures(day=day, **{k: int(v) for k, v in per_day[day].items()})
                    for day in period.days()),
        details=details,
        notes=tuple(notes),
    )
