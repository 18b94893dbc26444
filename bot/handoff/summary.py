"""The sales channel's first message of a handoff thread, as Block Kit (pure).

It gives the sales engineer what the visitor has told the assistant so far: the
recommendation with the profile behind it, the lead if one was submitted, and the last
turns, with a button that ends the handoff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.advisor.summary import RecommendationShapeError, RecommendationSummary
from bot.slack.blocks import (
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    escape,
    humanise,
    truncate,
    verdict_title,
)

# The thread's button; the Slack channel routes clicks on it to the handoff desk.
HANDOFF_END_ACTION = "handoff_end"
# How many of the latest messages the thread's first message quotes.
RECENT_TURNS = 8
_TURN_CHARS = 300
_LEAD_SLOTS = (("Lead", "lead_id"), ("Tier", "lead_tier"), ("Name", "lead_name"),
               ("Company", "lead_company"), ("Role", "lead_role"))


@dataclass(frozen=True)
class Turn:
    """One visible message: who said it (`visitor`, `assistant`, or a person's name)."""

    speaker: str
    text: str


@dataclass(frozen=True)
class HandoffBrief:
    """What the sales engineer is told when a visitor asks for a person."""

    conversation_id: str
    recommendation: Mapping[str, Any] = field(default_factory=dict)
    lead: Mapping[str, str] = field(default_factory=dict)
    turns: Sequence[Turn] = ()


def brief_from_slots(conversation_id: str, slots: Mapping[str, Any],
                     turns: Sequence[Turn]) -> HandoffBrief:
    """The brief from the tracker's slots and its visible messages (oldest first)."""
    raw = slots.get("recommendation")
    recommendation = dict(raw) if isinstance(raw, Mapping) else {}
    lead = {label: str(slots[name]) for label, name in _LEAD_SLOTS if slots.get(name)}
    return HandoffBrief(conversation_id, recommendation, lead, tuple(turns[-RECENT_TURNS:]))


def _recommendation_text(recommendation: Mapping[str, Any]) -> str:
    try:
        summary = RecommendationSummary.from_dict(recommendation)
    except RecommendationShapeError:
        summary = None
    if summary is None:
        return "No recommendation yet."
    title = verdict_title(summary.to_dict())
    sure = f" ({summary.confidence:.0%} sure)" if summary.confidence is not None else ""
    return f"*Recommendation:* {escape(title)}{sure}"


def _profile_fields(recommendation: Mapping[str, Any]) -> list[dict[str, Any]]:
    profile = recommendation.get("profile")
    if not isinstance(profile, Mapping):
        return []
    return [{"type": "mrkdwn",
             "text": truncate(f"*{escape(humanise(key))}*\n{escape(humanise(value))}",
                              MAX_FIELD_TEXT)}
            for key, value in profile.items() if value not in (None, "", [], {})][:MAX_FIELDS]


def handoff_text(brief: HandoffBrief) -> str:
    """The notification line (no personal data: it shows in previews)."""
    return "A visitor on the website asks to talk to a person"


def handoff_blocks(brief: HandoffBrief) -> list[dict[str, Any]]:
    """The thread's first message: brief, recent turns, how to answer, the end button."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(
            "A visitor asks to talk to a person", MAX_HEADER_TEXT)}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": _recommendation_text(brief.recommendation)}},
    ]
    fields = _profile_fields(brief.recommendation)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if brief.lead:
        lead = " · ".join(f"*{label}:* {escape(value)}" for label, value in brief.lead.items())
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": truncate(lead, MAX_SECTION_TEXT)}})
    if brief.turns:
        lines = "\n".join(f"*{escape(t.speaker)}:* {escape(truncate(t.text, _TURN_CHARS))}"
                          for t in brief.turns)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(
            "*Last messages*\n" + lines, MAX_SECTION_TEXT)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        "Reply in this thread to talk to the visitor; write `/done` or press the button "
        "to hand the conversation back to the assistant.")}]})
    blocks.append({"type": "actions", "elements": [
        {"type": "button", "action_id": HANDOFF_END_ACTION, "style": "danger",
         "text": {"type": "plain_text", "text": "End handoff"},
         "value": brief.conversation_id}]})
    return blocks
