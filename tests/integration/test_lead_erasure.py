"""Erasure reaching the CRM (issue 13, item 3): "forget me" goes through the outbox to
HubSpot (GDPR delete, or the lead's note on a contact that existed before) and to the
webhook (a signed `lead.erased` event), also when the delivery was in flight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.crm.base import CrmClient
from bot.crm.hubspot import HubSpotClient
from bot.crm.webhook import WebhookClient
from bot.leads.delivery import DeliveryReport, WorkerOptions, deliver_pending
from bot.leads.outbox import OutboxEntry, RetryPolicy
from bot.leads.scoring import load_scoring_rules
from bot.leads.services import forget_conversation, submit_lead
from bot.leads.unit_of_work import SqlUnitOfWork
from tests.support.crm_standin import CrmStandIn
from tests.support.leads_factory import Clock, make_draft

RULES = load_scoring_rules()
POLICY = RetryPolicy(max_attempts=5, base_seconds=1.0, cap_seconds=8.0)
LEASE = 30.0


def client_for(adapter: str, crm: CrmStandIn) -> CrmClient:
    if adapter == "hubspot":
        return HubSpotClient(token="test-token", base_url=crm.url, timeout_seconds=2)
    return WebhookClient(url=crm.webhook_url, secret="test-secret", timeout_seconds=2)


def run(engine: Engine, client: CrmClient, clock: Clock,
        checkpoint: Callable[[str, OutboxEntry], None] | None = None) -> DeliveryReport:
    options = WorkerOptions(worker_id="w", lease_seconds=LEASE, clock=clock,
                            checkpoint=checkpoint)
    return deliver_pending(SqlUnitOfWork(engine), client, POLICY, options)


@pytest.mark.parametrize("adapter", ["hubspot", "webhook"])
@pytest.mark.parametrize("point", ["after_claim", "after_send"])
def test_forget_me_during_an_in_flight_delivery_ends_with_the_lead_not_in_the_crm(
    leads_engine: Engine, crm: CrmStandIn, adapter: str, point: str
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    clock = Clock()

    def forget_now(name: str, _entry: OutboxEntry) -> None:
        if name == point:
            forget_conversation(SqlUnitOfWork(leads_engine), "conv-x", clock=clock)

    first = run(leads_engine, client_for(adapter, crm), clock, forget_now)
    assert first.erased == 1  # the record step noticed its row had gone
    with SqlUnitOfWork(leads_engine) as uow:
        assert uow.leads.get(lead.lead_id) is None
        (erasure,) = uow.outbox.for_lead(lead.lead_id, kind="erasure")
    assert erasure.status == "pending"
    clock.advance(LEASE + 1)  # the erasure waits for the in-flight lease
    assert run(leads_engine, client_for(adapter, crm), clock).delivered == 1
    assert crm.lead_copies() == {}
    assert crm.state.contacts == {}
    with SqlUnitOfWork(leads_engine) as uow:
        (erasure,) = uow.outbox.for_lead(lead.lead_id, kind="erasure")
    assert erasure.status == "delivered"
    assert "@" not in erasure.payload  # the delivered erasure keeps no email


def test_hubspot_erasure_deletes_the_contact_the_lead_created(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    clock = Clock()
    client = client_for("hubspot", crm)
    run(leads_engine, client, clock)
    assert forget_conversation(SqlUnitOfWork(leads_engine), "conv-x", clock=clock).crm_erasures == 1
    assert run(leads_engine, client, clock).delivered == 1
    (gdpr,) = [r for r in crm.received("POST") if r.path.endswith("/gdpr-delete")]
    assert gdpr.json() == {"objectId": "1001"}
    assert crm.state.contacts == {} and crm.state.gdpr_deleted == ["1001"]


def test_hubspot_erasure_of_a_lead_on_an_existing_contact_deletes_only_its_note(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    crm.state.contacts["42"] = {"email": "ada@analytical.example.io", "firstname": "Ada"}
    crm.state.contact_writes["42"] = 1
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    clock = Clock()
    client = client_for("hubspot", crm)
    run(leads_engine, client, clock)
    assert len(crm.state.notes) == 1
    forget_conversation(SqlUnitOfWork(leads_engine), "conv-x", clock=clock)
    assert run(leads_engine, client, clock).delivered == 1
    assert crm.state.notes == {}
    assert "42" in crm.state.contacts  # the customer's contact stays
    assert crm.state.gdpr_deleted == []


def test_hubspot_erasure_without_a_reference_leaves_a_contact_it_did_not_create(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    """A worker that died mid-send left no reference: the contact is looked up, and
    deleted only when this lead created it."""
    crm.state.contacts["42"] = {"email": "ada@analytical.example.io",
                                "cloud_advisor_lead_id": "someone-else"}
    crm.state.contact_writes["42"] = 1
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    clock = Clock()
    with SqlUnitOfWork(leads_engine) as uow:  # claimed, then the worker died
        (entry,) = uow.outbox.for_lead(lead.lead_id)
        uow.outbox.try_claim(entry.id, "dead-worker", clock(), timedelta(seconds=5))
        uow.commit()
    forget_conversation(SqlUnitOfWork(leads_engine), "conv-x", clock=clock)
    clock.advance(10)
    assert run(leads_engine, client_for("hubspot", crm), clock).delivered == 1
    assert "42" in crm.state.contacts and crm.state.gdpr_deleted == []
