"""Reading the insight rows: Rasa's `events` table and the leads database (SQLAlchemy Core).

The same statements run on SQLite and PostgreSQL. A page view never scans the whole
events table: the period's first and last event ids are found by a binary search on the
primary key (event ids grow with time, so about 30 indexed look-ups find them in a
billion rows), and only that id range is read. Of its rows, only those whose content
counts carry their JSON (`ROWS_WITH_DATA`); visitors' other messages are not read at all.

Engines are made with `hide_parameters=True`: an error never logs a bound value.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.insights.feedback import FEEDBACK_INTENT
from bot.insights.figures import CONSENT_SLOT, PAUSE_EVENT, RECOMMENDATION_SLOT
from bot.insights.model import EventRow, LeadRow, Period
from bot.leads.db import resolve_sqlite_path
from bot.leads.outbox import DELIVERED, LEAD
from bot.leads.store import leads_table, outbox_table

# Rasa's events table (rasa/core/tracker_store.py `SQLEvent`), as far as it is read here.
_metadata = sa.MetaData()
events_table = sa.Table(
    "events", _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

# The kinds of event the figures count.
EVENT_KINDS = ("user", "action", "slot", "active_loop", PAUSE_EVENT)
# Messages whose text or entities count: ratings, and messages the classifier was unsure
# of or found out of scope (the fallback actions answer those).
MESSAGE_INTENTS_WITH_DATA = (FEEDBACK_INTENT, "nlu_fallback", "out_of_scope")
SLOTS_WITH_DATA = (RECOMMENDATION_SLOT, CONSENT_SLOT)


def _rows_with_data() -> sa.sql.ColumnElement[bool]:
    e = events_table.c
    return sa.or_(
        sa.and_(e.type_name == "user", e.intent_name.in_(MESSAGE_INTENTS_WITH_DATA)),
        sa.and_(e.type_name == "slot", e.action_name.in_(SLOTS_WITH_DATA)),
    )


ROWS_WITH_DATA = _rows_with_data()


def first_event_id_at(conn: Connection, moment: float) -> int:
    """The smallest id x such that every event from id x on is stamped `moment` or later.

    Binary search over ids on the primary key index; it relies on ids growing with
    time, which holds within the small clock differences of replicas.
    """
    e = events_table.c
    low, high = conn.execute(sa.select(sa.func.min(e.id), sa.func.max(e.id))).one()
    if low is None:
        return 0
    high += 1  # past the last event: "no event from here on" counts as later
    probe = (sa.select(e.timestamp).where(e.id >= sa.bindparam("from_id"))
             .order_by(e.id).limit(1))
    while low < high:
        middle = (low + high) // 2
        stamp = conn.execute(probe, {"from_id": middle}).scalar()
        if stamp is None or stamp >= moment:
            high = middle
        else:
            low = middle + 1
    return int(low)


def read_events(engine: Engine, period: Period) -> list[EventRow]:
    """The period's events that the figures count, oldest first."""
    e = events_table.c
    start, end = period.start.timestamp(), period.end.timestamp()
    with engine.connect() as conn:
        first, after = first_event_id_at(conn, start), first_event_id_at(conn, end)
        statement = (
            sa.select(e.id, e.sender_id, e.type_name, e.timestamp,
                      sa.case((e.type_name == "user", e.intent_name),
                              else_=e.action_name).label("name"),
                      sa.case((ROWS_WITH_DATA, e.data), else_=sa.null()).label("data"))
            .where(e.id >= first, e.id < after, e.timestamp >= start, e.timestamp < end,
                   e.type_name.in_(EVENT_KINDS))
            .order_by(e.id))
        rows = conn.execute(statement).all()
    return [EventRow(event_id=row.id, conversation_id=row.sender_id, kind=row.type_name,
                     timestamp=float(row.timestamp), name=row.name,
                     data=_json(row.data)) for row in rows]


def read_leads(engine: Engine, period: Period) -> list[LeadRow]:
    """The leads created in the period, without their contact details."""
    lead, outbox = leads_table.c, outbox_table.c
    delivered = (sa.select(outbox.lead_id)
                 .where(outbox.kind == LEAD, outbox.status == DELIVERED)
                 .scalar_subquery())
    statement = (sa.select(lead.conversation_id, lead.tier, lead.created_at, lead.taken_at,
                           lead.id.in_(delivered).label("delivered"))
                 .where(lead.created_at >= period.start, lead.created_at < period.end)
                 .order_by(lead.created_at))
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    return [LeadRow(conversation_id=row.conversation_id, tier=row.tier,
                    created_at=row.created_at, taken_at=row.taken_at,
                    delivered=bool(row.delivered)) for row in rows]


def read_engine(url: str, variable: str) -> Engine:
    """An engine that only reads, for a database URL of the settings.

    Not the leads store's engine: on SQLite that one takes the write lock at the start
    of every transaction, which would hold up the conversations while a page is read.

    Raises:
        DatabaseConfigError: the URL is malformed (the message names `variable`).
    """
    return sa.create_engine(resolve_sqlite_path(url, variable), hide_parameters=True,
                            pool_pre_ping=True, future=True)


def _json(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        loaded = json.loads(raw)
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None
