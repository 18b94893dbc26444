"""Use cases of the leads package: submit a lead, forget a conversation or a person, take
a lead from the sales channel's alert.

Each takes a unit of work (`SqlUnitOfWork(engine)`, or a fake in unit tests) and pure
inputs, does its writes in one transaction of it, and returns plain data. The
conversation, the CLI and the tests call these, never the tables.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.crm.base import SalesChannel, payload_to_json
from bot.crm.slack_sales import SalesClick
from bot.leads.model import (
    Lead,
    LeadDraft,
    LeadTaker,
    build_crm_payload,
    build_erasure_payload,
    utc_now,
)
from bot.leads.outbox import ALERT_DELETION, PENDING, SALES_ALERT, OutboxEntry
from bot.leads.sales_alert import (
    TakeOutcome,
    TakeResult,
    alert_key,
    build_alert_deletion,
    build_alert_document,
    take_reply,
    with_taker,
)
from bot.leads.scoring import ScoringRules, alerts_sales, score_lead
from bot.leads.unit_of_work import UnitOfWork
from bot.slack.blocks import SALES_TAKE_ACTION, escape


def submit_lead(
    uow: UnitOfWork,
    draft: LeadDraft,
    rules: ScoringRules,
    clock: Callable[[], datetime] = utc_now,
) -> Lead:
    """Score the lead and store it with its outbox rows, in one transaction.

    The CRM is not contacted here: the delivery worker sends the outbox row, so the
    visitor's confirmation never waits on (or fails with) the CRM. A lead of a tier the
    rules alert sales about gets a second row, its alert, so that it is posted exactly
    when the lead exists: never lost, never for a lead that was not stored.

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
    document = build_crm_payload(lead)
    with uow:
        uow.leads.add(lead)
        uow.outbox.add(lead.lead_id, lead.idempotency_key, payload_to_json(document), now)
        if alerts_sales(lead.qualification, rules):
            uow.outbox.add(lead.lead_id, alert_key(lead.lead_id),
                           payload_to_json(build_alert_document(document)), now,
                           kind=SALES_ALERT)
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
        alert_deletions: Alerts that may be in the sales channel, queued to be deleted.
    """

    leads: int
    outbox_rows: int
    attempts: int
    crm_erasures: int
    conversations: tuple[str, ...]
    alert_deletions: int = 0


def forget_conversation(
    uow: UnitOfWork,
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
    with uow:
        report = _forget_leads(uow, uow.leads.for_conversation(conversation_id),
                               (conversation_id,), cutoff, clock)
        uow.commit()
    return report


def forget_email(
    uow: UnitOfWork, email: str, clock: Callable[[], datetime] = utc_now
) -> ForgetReport:
    """Erase a person by email everywhere: for the operator's CLI only.

    The caller must have proof that the request comes from the owner of the address
    (`python -m bot leads forget EMAIL` logs each use for audit). Every lead with that
    address (any case) goes, with the conversations they came from.
    """
    with uow:
        leads = uow.leads.find_by_email(email)
        conversations = tuple(dict.fromkeys(
            lead.draft.conversation_id for lead in leads if lead.draft.conversation_id))
        report = _forget_leads(uow, leads, conversations, time.time(), clock)
        uow.commit()
    return report


def _forget_leads(
    uow: UnitOfWork,
    leads: Sequence[Lead],
    conversations: Sequence[str],
    cutoff: float,
    clock: Callable[[], datetime],
) -> ForgetReport:
    now = clock()
    crm_erasures = alert_deletions = 0
    for lead in leads:
        for entry in uow.outbox.for_lead(lead.lead_id):
            if entry.attempts == 0 and entry.status == PENDING:
                continue  # never sent: the CRM cannot hold it
            payload = build_erasure_payload(json.loads(entry.payload), entry.crm_reference, now)
            uow.outbox.queue_erasure(lead.lead_id, payload_to_json(payload), now,
                                     _after_its_lease(entry, now))
            crm_erasures += 1
        for entry in uow.outbox.for_lead(lead.lead_id, kind=SALES_ALERT):
            if entry.attempts == 0 and entry.status == PENDING and not entry.crm_reference:
                continue  # never sent: no message to delete
            deletion = build_alert_deletion(lead.lead_id, entry.crm_reference)
            uow.outbox.queue_erasure(lead.lead_id, payload_to_json(deletion), now,
                                     _after_its_lease(entry, now), kind=ALERT_DELETION)
            alert_deletions += 1
    result = uow.leads.delete([lead.lead_id for lead in leads])
    for conversation in conversations:
        uow.erasures.add(conversation, cutoff, now)
    return ForgetReport(len(result.lead_ids), result.outbox_rows, result.attempts,
                        crm_erasures, tuple(conversations), alert_deletions)


def _after_its_lease(entry: OutboxEntry, now: datetime) -> datetime:
    # A delivery in flight ends before its lease runs out; the erasure waits for it (and
    # the worker adds the receiver's reference when it records the delivery).
    lease_end = entry.lease_expires_at
    return lease_end if lease_end is not None and lease_end > now else now


def take_lead(
    uow: UnitOfWork, lead_id: str, user_id: str, user_name: str,
    clock: Callable[[], datetime] = utc_now,
) -> TakeResult:
    """"I'll take it": record the sales engineer on the lead, unless someone was first.

    In the same transaction the alert is revised to say who took it, so the worker
    updates the message in the channel (and a second click finds the lead taken).
    """
    taker = LeadTaker(user_id, user_name, clock())
    with uow:
        if uow.leads.take(lead_id, taker):
            uow.outbox.revise_sales_alert(
                lead_id, lambda alert: payload_to_json(with_taker(json.loads(alert), taker)),
                taker.taken_at)
            uow.commit()
            return TakeResult(TakeOutcome.TAKEN, taker)
        lead = uow.leads.get(lead_id)
    if lead is None or lead.taken_by is None:
        return TakeResult(TakeOutcome.LEAD_GONE, None)
    mine = lead.taken_by.user_id == user_id
    return TakeResult(TakeOutcome.ALREADY_YOURS if mine else TakeOutcome.TAKEN_BY_SOMEONE_ELSE,
                      lead.taken_by)


def answer_sales_click(
    uow: UnitOfWork, sales_channel: SalesChannel, click: SalesClick,
    clock: Callable[[], datetime] = utc_now,
) -> str:
    """Answer a click on an alert's button, telling the clicker alone what happened.

    "Open transcript" shows the conversation's summary (`bot.leads.transcript`) to the
    clicker only: an ephemeral message is not kept by Slack, so there is no copy of the
    visitor's words to erase later.

    Returns:
        What the clicker was told.
    """
    if click.action == SALES_TAKE_ACTION:
        text = take_reply(take_lead(uow, click.lead_id, click.user_id, click.user_name,
                                    clock))
    else:
        with uow:
            lead = uow.leads.get(click.lead_id)
        text = ("This lead was erased at the visitor's request." if lead is None else
                f"*Conversation with {escape(lead.draft.contact.company) or 'the visitor'}*\n"
                f"{escape(lead.draft.transcript_summary) or 'No summary was kept.'}")
    sales_channel.tell(click.user_id, text)
    return text
