"""One report: read the period's rows, group the fallbacks, compute the figures.

The page (bot/channels/insights.py) and the command (`python -m bot insights`) both call
`build_insights`; they differ only in where their engines and encoder come from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.insights.fallbacks import MAX_MESSAGES, group_by_similarity
from bot.insights.figures import compute_insights, fallback_messages
from bot.insights.model import Insights, LeadRow, Period
from bot.insights.queries import read_events, read_leads

logger = logging.getLogger(__name__)

# Texts in, one unit-length embedding per text out (bot.encoder.minilm's encoder).
Encode = Callable[[Sequence[str]], Any]


def shared_encode(texts: Sequence[str]) -> Any:
    """The project's sentence encoder, loaded once per process on first use."""
    from bot.encoder.minilm import shared_encoder

    return shared_encoder().encode(list(texts))


def build_insights(tracker_engine: Engine, leads_engine: Engine | None, period: Period,
                   details: bool = False, encode: Encode | None = None) -> Insights:
    """Every figure for `period`.

    Args:
        tracker_engine: Rasa's tracker store database.
        leads_engine: the leads database; None when there is none to read.
        period: the period to cover.
        details: whether fallback groups carry (scrubbed) example texts.
        encode: the sentence encoder that groups the fallbacks (`shared_encode` if None).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the tracker store cannot be read.
    """
    notes: list[str] = []
    events = read_events(tracker_engine, period)
    leads: list[LeadRow] = []
    if leads_engine is None:
        notes.append("No leads database is configured: lead figures are 0.")
    else:
        try:
            leads = read_leads(leads_engine, period)
        except sa.exc.SQLAlchemyError as exc:
            # The type only: the message of a database error can quote the statement.
            logger.warning("insights: cannot read the leads database (%s)", type(exc).__name__)
            notes.append("The leads database could not be read: lead figures are 0.")
    messages = fallback_messages(events)
    if len(messages) > MAX_MESSAGES:
        notes.append(f"Only the latest {MAX_MESSAGES} fallbacks are grouped.")
        messages = messages[-MAX_MESSAGES:]
    encode = encode or shared_encode
    groups = group_by_similarity(messages, encode([m.text for m in messages]),
                                 with_examples=details) if messages else []
    return compute_insights(period, events, leads, groups, details=details, notes=notes)
