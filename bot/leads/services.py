"""Use cases of the leads package: submit a lead, forget a conversation or a person.

Each takes the engine (and pure inputs), does its writes in one unit of work, and returns
plain data. The conversation, the CLI and the tests call these, never the tables.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.leads.model import (
    Lead,
    LeadDraft,
    build_crm_payload,
    build_erasure_payload,
    payload_to_json,
    utc_now,
)
from bot.leads.outbox import PENDING
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
    """What a "forget me" removed, and what is queued to be erased later.

    Attributes:
        leads: Leads deleted from our database.
        outbox_rows: Their delivery rows deleted.
        attempts: Their delivery attempts deleted.
        crm_erasures: Leads that may have reached the CRM, queued to be erased there.
        conversations: Conversations whose tracker events are queued for erasure.
    """

    leads: int
    outbox_rows: int
    attempts: int
    crm_erasures: int
    conversations: tuple[str, ...]


def forget_conversation(
    engine: Engine,
    conversation_id: str,
    before_timestamp: float | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ForgetReport:
    """"Forget me" said in a conversation: erase what that conversation gave, no more.

    Its leads, their outbox rows and attempts go now; the CRM copy of each lead that may
    have been delivered is queued for erasure in the outbox; the conversation's tracker
    events up to `before_timestamp` (now by default) are queued for the delivery worker
    (see `bot.leads.erasure`). Leads given in other conversations are never touched,
    whatever email this one typed: an email typed in a chat proves nothing.
    """
    cutoff = time.time() if before_timestamp is None else before_timestamp
    with SqlUnitOfWork(engine) as uow:
        report = _forget_leads(uow, uow.leads.for_conversation(conversation_id),
                               (conversation_id,), cutoff, clock)
        uow.commit()
    return report


def forget_email(
    engine: Engine, email: str, clock: Callable[[], datetime] = utc_now
) -> ForgetReport:
    """Erase a person by email everywhere: for the operator's CLI only.

    The caller must have proof that the request comes from the owner of the address
    (`python -m bot leads forget EMAIL` logs each use for audit). Every lead with that
    address (any case) goes, with the conversations they came from.
    """
    with SqlUnitOfWork(engine) as uow:
        leads = uow.leads.find_by_email(email)
        conversations = tuple(dict.fromkeys(
            lead.draft.conversation_id for lead in leads if lead.draft.conversation_id))
        report = _forget_leads(uow, leads, conversations, time.time(), clock)
        uow.commit()
    return report


def _forget_leads(
    uow: SqlUnitOfWork,
    leads: Sequence[Lead],
    conversations: Sequence[str],
    cutoff: float,
    clock: Callable[[], datetime],
) -> ForgetReport:
    now = clock()
    crm_erasures = 0
    for lead in leads:
        for entry in uow.outbox.for_lead(lead.lead_id):
            if entry.attempts == 0 and entry.status == PENDING:
                continue  # never sent: the CRM cannot hold it
            # A delivery in flight ends before its lease runs out; the erasure waits for
            # it (and the worker adds the CRM's reference when it records the delivery).
            lease_end = entry.lease_expires_at
            not_before = lease_end if lease_end is not None and lease_end > now else now
            payload = build_erasure_payload(json.loads(entry.payload), entry.crm_reference, now)
            uow.outbox.queue_erasure(lead.lead_id, payload_to_json(payload), now, not_before)
            crm_erasures += 1
    result = uow.leads.delete([lead.lead_id for lead in leads])
    for conversation in conversations:
        uow.erasures.add(conversation, cutoff, now)
    return ForgetReport(len(result.lead_ids), result.outbox_rows, result.attempts,
                        crm_erasures, tuple(conversations))
