"""Hot-lead alerts, exactly once (issue 15, item 2): from `submit_lead` through the outbox
to a real HTTP server standing in for Slack, on SQLite and PostgreSQL.

Covers the post and its retries (a lost answer, a timeout, a worker killed before it
recorded the post), dead letters, the CRM link, "I'll take it", "Open transcript" and
the deletion of the alert when the lead is erased.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.crm.base import CrmClient
from bot.crm.fake import FakeSalesChannel
from bot.crm.hubspot import HubSpotClient
from bot.crm.slack_sales import SalesClick, SlackSalesChannel
from bot.leads.delivery import DeliveryReport, WorkerOptions, deliver_pending
from bot.leads.model import Lead
from bot.leads.outbox import OutboxEntry, RetryPolicy
from bot.leads.runtime import LeadsRuntime
from bot.leads.sales_alert import TakeOutcome
from bot.leads.scoring import load_scoring_rules
from bot.leads.services import answer_sales_click, forget_conversation, submit_lead, take_lead
from bot.leads.unit_of_work import SqlUnitOfWork
from bot.settings import load_settings
from bot.slack.blocks import SALES_TAKE_ACTION, SALES_TRANSCRIPT_ACTION
from tests.support.crm_standin import CrmStandIn
from tests.support.fake_slack import FakeSlack
from tests.support.leads_factory import Clock, make_draft

RULES = load_scoring_rules(sales_alerts=True)
POLICY = RetryPolicy(max_attempts=4, base_seconds=1.0, cap_seconds=8.0)
LEASE = 30.0
CHANNEL = "C0SALES"
CONTACTS = "https://crm.example/contacts/{id}"
COLD = {"timeline": "exploring", "size": 3, "budget": "under_10k", "role": "student"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token="xoxb-sales") as fake:
        yield fake


def sales(slack: FakeSlack, timeout: float = 2.0) -> SlackSalesChannel:
    return SlackSalesChannel("xoxb-sales", CHANNEL, base_url=slack.base_url,
                             timeout_seconds=timeout, contact_url_template=CONTACTS)


def run(engine: Engine, sales_channel: Any, clock: Clock, crm: CrmClient | None = None,
        checkpoint: Callable[[str, OutboxEntry], None] | None = None) -> DeliveryReport:
    options = WorkerOptions(worker_id="w", lease_seconds=LEASE, clock=clock,
                            checkpoint=checkpoint)
    return deliver_pending(SqlUnitOfWork(engine), crm, POLICY, options, sales_channel=sales_channel)


def alert_row(engine: Engine, lead: Lead) -> OutboxEntry:
    with SqlUnitOfWork(engine) as uow:
        (entry,) = uow.outbox.for_lead(lead.lead_id, kind="sales_alert")
    return entry


def the_message(slack: FakeSlack) -> dict[str, Any]:
    (message,) = slack.messages(CHANNEL)
    return message


def buttons(message: dict[str, Any]) -> list[str]:
    return [element["action_id"] for block in message["blocks"] if block["type"] == "actions"
            for element in block["elements"]]


# --- posting, exactly once ----------------------------------------------------------


def test_a_hot_lead_is_posted_once_with_its_score_reasons_and_buttons(
    leads_engine: Engine, slack: FakeSlack
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    clock = Clock()
    assert run(leads_engine, sales(slack), clock).delivered == 1
    assert run(leads_engine, sales(slack), clock).attempted == 0  # nothing left to send
    message = the_message(slack)
    assert message["text"] == f"Hot lead from Analytical (score {lead.qualification.score})"
    blocks = json.dumps(message["blocks"])
    assert all(reason in blocks for reason in lead.qualification.reasons)
    assert "Containers" in blocks  # the recommendation
    assert buttons(message) == [SALES_TAKE_ACTION, SALES_TRANSCRIPT_ACTION]
    entry = alert_row(leads_engine, lead)
    assert (entry.status, entry.crm_reference) == ("delivered", f"{CHANNEL}:{message['ts']}")
    assert len(slack.calls("chat.postMessage")) == 1


def test_a_cold_lead_is_not_posted(leads_engine: Engine, slack: FakeSlack) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(**COLD), RULES)
    assert lead.qualification.tier != "hot"
    assert run(leads_engine, sales(slack), Clock()).attempted == 0
    with SqlUnitOfWork(leads_engine) as uow:
        assert uow.outbox.for_lead(lead.lead_id, kind="sales_alert") == []
    assert slack.calls() == []


def test_without_a_sales_channel_no_alert_is_queued(leads_db_url: str) -> None:
    off = LeadsRuntime.from_settings(load_settings({"DATABASE_URL": leads_db_url}))
    on = LeadsRuntime.from_settings(load_settings({
        "DATABASE_URL": leads_db_url, "SLACK_SALES_CHANNEL": CHANNEL,
        "SLACK_TOKEN": "xoxb", "SLACK_SIGNING_SECRET": "s"}))
    try:
        assert off.sales_channel() is None and on.sales_channel() is not None
        quiet = submit_lead(SqlUnitOfWork(off.engine), make_draft(), off.rules)
        alerted = submit_lead(SqlUnitOfWork(on.engine), make_draft(), on.rules)
        with SqlUnitOfWork(off.engine) as uow:
            assert uow.outbox.for_lead(quiet.lead_id, kind="sales_alert") == []
            assert len(uow.outbox.for_lead(alerted.lead_id, kind="sales_alert")) == 1
    finally:
        off.engine.dispose()
        on.engine.dispose()


@pytest.mark.parametrize("lost", ["timeout", "5xx_after_posting", "5xx_before_posting"])
def test_a_failed_first_post_still_ends_with_one_message(
    leads_engine: Engine, slack: FakeSlack, lost: str
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    clock = Clock()
    if lost == "timeout":
        slack.stall_next(1.0)  # posted; our 0.3 s timeout gives up first
    else:
        slack.fail_next(503, after_handling=lost == "5xx_after_posting")
    assert run(leads_engine, sales(slack, timeout=0.3), clock).retried == 1
    clock.advance(60)
    assert run(leads_engine, sales(slack), clock).delivered == 1
    message = the_message(slack)
    assert alert_row(leads_engine, lead).crm_reference == f"{CHANNEL}:{message['ts']}"


def test_a_worker_killed_after_posting_does_not_post_twice(
    leads_engine: Engine, slack: FakeSlack
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    clock = Clock()

    def die(point: str, _entry: OutboxEntry) -> None:
        if point == "after_send":
            raise SystemExit("killed")  # before the post is recorded

    with pytest.raises(SystemExit):
        run(leads_engine, sales(slack), clock, checkpoint=die)
    assert alert_row(leads_engine, lead).status == "pending"
    clock.advance(LEASE + 1)  # the dead worker's lease runs out
    assert run(leads_engine, sales(slack), clock).delivered == 1
    assert len(slack.messages(CHANNEL)) == 1


def test_an_alert_slack_keeps_failing_becomes_a_dead_letter(
    leads_engine: Engine, slack: FakeSlack
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    clock = Clock()
    for _ in range(POLICY.max_attempts):
        slack.fail_next(503)
        run(leads_engine, sales(slack), clock)
        clock.advance(3600)
    entry = alert_row(leads_engine, lead)
    assert entry.status == "dead" and entry.attempts == POLICY.max_attempts
    assert "retry budget spent" in (entry.last_error or "")
    assert slack.messages(CHANNEL) == []


def test_a_refused_token_keeps_retrying_with_an_operator_alert(
    leads_engine: Engine, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    wrong = SlackSalesChannel("xoxb-wrong", CHANNEL, base_url=slack.base_url,
                              timeout_seconds=2)
    clock = Clock()
    for _ in range(POLICY.max_attempts + 2):
        assert run(leads_engine, wrong, clock).retried == 1
        clock.advance(3600)
    assert alert_row(leads_engine, lead).status == "pending"
    assert any("Slack needs the operator" in r.getMessage() for r in caplog.records)
    assert not any("Analytical" in r.getMessage() or "ada@" in r.getMessage()
                   for r in caplog.records)  # no personal data in the logs


def test_crm_rows_and_alert_rows_wait_for_their_own_adapter(
    leads_engine: Engine, slack: FakeSlack
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    assert run(leads_engine, sales(slack), Clock()).delivered == 1  # the alert only
    with SqlUnitOfWork(leads_engine) as uow:
        (crm_row,) = uow.outbox.for_lead(lead.lead_id)
    assert (crm_row.status, crm_row.attempts) == ("pending", 0)


# --- the CRM link -------------------------------------------------------------------


def test_a_crm_contact_known_before_the_post_is_linked(
    leads_engine: Engine, slack: FakeSlack, crm: CrmStandIn
) -> None:
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    hubspot = HubSpotClient(token="test-token", base_url=crm.url, timeout_seconds=2)
    assert run(leads_engine, sales(slack), Clock(), crm=hubspot).delivered == 2
    assert "<https://crm.example/contacts/1001|" in json.dumps(the_message(slack)["blocks"])
    assert slack.calls("chat.update") == []


def test_a_crm_contact_known_after_the_post_updates_the_message(
    leads_engine: Engine, slack: FakeSlack, crm: CrmStandIn
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    clock = Clock()
    run(leads_engine, sales(slack), clock)
    assert "crm.example" not in json.dumps(the_message(slack)["blocks"])
    hubspot = HubSpotClient(token="test-token", base_url=crm.url, timeout_seconds=2)
    assert run(leads_engine, None, clock, crm=hubspot).delivered == 1
    assert alert_row(leads_engine, lead).status == "pending"  # to be updated
    assert run(leads_engine, sales(slack), clock).delivered == 1
    assert "<https://crm.example/contacts/1001|" in json.dumps(the_message(slack)["blocks"])
    assert len(slack.calls("chat.postMessage")) == 1


def test_an_alert_revised_while_it_is_posted_is_updated_not_left_stale(
    leads_engine: Engine,
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    channel = FakeSalesChannel()
    clock = Clock()

    def take_now(point: str, _entry: OutboxEntry) -> None:
        if point == "after_send":
            take_lead(SqlUnitOfWork(leads_engine), lead.lead_id, "U1", "grace", clock)

    assert run(leads_engine, channel, clock, checkpoint=take_now).retried == 1
    assert run(leads_engine, channel, clock).delivered == 1
    assert channel.posts == 1
    (shown,) = channel.messages.values()
    assert shown["taken_by"]["user_id"] == "U1"


# --- the buttons --------------------------------------------------------------------


def click(action: str, lead: Lead, user: str) -> SalesClick:
    return SalesClick(action, lead.lead_id, user, f"name-of-{user}")


def test_ill_take_it_records_the_taker_and_refuses_a_second_one(
    leads_engine: Engine, slack: FakeSlack
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    clock = Clock()
    run(leads_engine, sales(slack), clock)
    assert "The lead is yours" in answer_sales_click(
        SqlUnitOfWork(leads_engine), sales(slack), click(SALES_TAKE_ACTION, lead, "U1"), clock)
    clock.advance(5)
    refused = answer_sales_click(SqlUnitOfWork(leads_engine), sales(slack),
                                 click(SALES_TAKE_ACTION, lead, "U2"), clock)
    assert refused.startswith("Already taken by <@U1>")
    assert take_lead(SqlUnitOfWork(leads_engine), lead.lead_id, "U1", "x", clock).outcome is (
        TakeOutcome.ALREADY_YOURS)
    with SqlUnitOfWork(leads_engine) as uow:
        stored = uow.leads.get(lead.lead_id)
    assert stored is not None and stored.taken_by is not None
    assert (stored.taken_by.user_id, stored.taken_by.name) == ("U1", "name-of-U1")
    told = [(c.args["user"], c.args["text"]) for c in slack.calls("chat.postEphemeral")]
    assert [user for user, _ in told] == ["U1", "U2"]
    assert run(leads_engine, sales(slack), clock).delivered == 1  # the message says so
    message = the_message(slack)
    assert buttons(message) == [SALES_TRANSCRIPT_ACTION]
    assert "Taken by <@U1>" in json.dumps(message["blocks"])


def test_two_sales_engineers_clicking_at_once_get_one_lead(leads_engine: Engine) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    outcomes: list[TakeOutcome] = []
    start = threading.Barrier(4)

    def take(user: str) -> None:
        start.wait()
        outcomes.append(take_lead(SqlUnitOfWork(leads_engine), lead.lead_id, user, user).outcome)

    threads = [threading.Thread(target=take, args=(f"U{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count(TakeOutcome.TAKEN) == 1
    assert outcomes.count(TakeOutcome.TAKEN_BY_SOMEONE_ELSE) == 3


def test_open_transcript_shows_the_summary_to_the_clicker_only(
    leads_engine: Engine, slack: FakeSlack
) -> None:
    uow = SqlUnitOfWork(leads_engine)
    lead = submit_lead(uow, make_draft(transcript_summary="Asked about: <cost>."), RULES)
    answer_sales_click(uow, sales(slack), click(SALES_TRANSCRIPT_ACTION, lead, "U1"))
    (call,) = slack.calls("chat.postEphemeral")
    assert call.args["user"] == "U1" and "Asked about: &lt;cost&gt;." in call.args["text"]
    assert slack.messages(CHANNEL) == []  # nothing kept in the channel


# --- erasure ------------------------------------------------------------------------


def test_forget_me_deletes_the_alert(leads_engine: Engine, slack: FakeSlack) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    clock = Clock()
    run(leads_engine, sales(slack), clock)
    assert len(slack.messages(CHANNEL)) == 1
    report = forget_conversation(SqlUnitOfWork(leads_engine), "conv-x", clock=clock)
    assert report.alert_deletions == 1
    assert run(leads_engine, sales(slack), clock).delivered == 1
    assert slack.messages(CHANNEL) == []
    with SqlUnitOfWork(leads_engine) as uow:
        (deletion,) = uow.outbox.for_lead(lead.lead_id, kind="alert_deletion")
        assert uow.outbox.for_lead(lead.lead_id, kind="sales_alert") == []
    assert deletion.status == "delivered" and "@" not in deletion.payload
    gone = answer_sales_click(SqlUnitOfWork(leads_engine), sales(slack),
                              click(SALES_TAKE_ACTION, lead, "U1"))
    assert "erased" in gone


def test_forget_me_before_the_post_queues_nothing(leads_engine: Engine, slack: FakeSlack) -> None:
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    assert forget_conversation(SqlUnitOfWork(leads_engine), "conv-x").alert_deletions == 0
    assert run(leads_engine, sales(slack), Clock()).attempted == 0
    assert slack.calls() == []


@pytest.mark.parametrize("point", ["after_claim", "after_send"])
def test_forget_me_during_the_post_still_deletes_the_alert(
    leads_engine: Engine, slack: FakeSlack, point: str
) -> None:
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    clock = Clock()

    def forget_now(name: str, _entry: OutboxEntry) -> None:
        if name == point:
            forget_conversation(SqlUnitOfWork(leads_engine), "conv-x", clock=clock)

    assert run(leads_engine, sales(slack), clock, checkpoint=forget_now).erased == 1
    clock.advance(LEASE + 1)
    assert run(leads_engine, sales(slack), clock).delivered == 1
    assert slack.messages(CHANNEL) == []


def test_forget_me_after_an_unconfirmed_post_finds_and_deletes_it(
    leads_engine: Engine, slack: FakeSlack
) -> None:
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-x"), RULES)
    clock = Clock()
    slack.fail_next(503, after_handling=True)
    assert run(leads_engine, sales(slack), clock).retried == 1
    assert len(slack.messages(CHANNEL)) == 1
    report = forget_conversation(SqlUnitOfWork(leads_engine), "conv-x", clock=clock)
    assert report.alert_deletions == 1
    assert run(leads_engine, sales(slack), clock).delivered == 1
    assert slack.messages(CHANNEL) == []
