"""Use cases of the leads package: submit a lead, forget a person.

Each takes the engine (and pure inputs), does its writes in one unit of work, and returns
plain data. The conversation, the CLI and the tests call these, never the tables.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.leads.model import Lead, LeadDraft, build_crm_payload, payload_to_json, utc_now
from bot.leads.scoring import ScoringRules, score_lead
from bot.leads.unit_of_work import SqlUnitOfWork


def submit_lead(
    engine: Engine,
    draft: LeadDraft,
    rules: ScoringRules,
    clock: Callable[[], datetime] = utc_now,
) -> Lead:
    """Score the lead and store it with its outbox row, in one transaction.

    The CRM is not contacted here: the delivery worker sends the outbox row, so the
    visitor's confirmation never waits on (or fails with) the CRM.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: when the database cannot take the lead; nothing
            is stored then, and the caller must tell the visitor so.
    """
    now = clock()
    lead = Lead(
        lead_id=str(uuid.uuid4()),
        draft=draft,
        qualification=score_lead(draft, draft.recommendation, rules),
        created_at=now,
    )
    payload = payload_to_json(build_crm_payload(lead))
    with SqlUnitOfWork(engine) as uow:
        uow.leads.add(lead)
        uow.outbox.add(lead.lead_id, lead.idempotency_key, payload, now)
        uow.commit()
    return lead


@dataclass(frozen=True)
class ForgetReport:
    """What a "forget me" removed, and which conversations' events are queued for erasure."""

    leads: int
    outbox_rows: int
    attempts: int
    conversations: tuple[str, ...]


def forget(
    engine: Engine,
    email: str | None = None,
    conversation_id: str | None = None,
    before_timestamp: float | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ForgetReport:
    """Delete a person's leads (by email and/or conversation) with their outbox rows and
    delivery attempts, and queue the erasure of their conversations' tracker events.

    Args:
        engine: The leads database.
        email: Forget every lead with this address (any case).
        conversation_id: Forget the leads from this conversation, and its events.
        before_timestamp: Tracker events up to this Rasa timestamp are erased (now by
            default). The erasure itself runs in the delivery worker, after Rasa has
            saved the current turn; see `bot.leads.erasure`.
    """
    cutoff = time.time() if before_timestamp is None else before_timestamp
    with SqlUnitOfWork(engine) as uow:
        conversations: list[str] = []
        if email:
            conversations.extend(uow.leads.conversation_ids_for_email(email))
        if conversation_id:
            conversations.append(conversation_id)
        result = uow.leads.forget(email=email, conversation_id=conversation_id)
        unique = tuple(dict.fromkeys(conversations))
        for conversation in unique:
            uow.erasures.add(conversation, cutoff, clock())
        uow.commit()
    return ForgetReport(len(result.lead_ids), result.outbox_rows, result.attempts, unique)
