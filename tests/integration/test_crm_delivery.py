"""Delivery from the outbox to a real HTTP CRM stand-in, on SQLite and PostgreSQL.

Covers both real adapters (HubSpot v3 contacts, signed webhook), each HTTP failure the
worker must survive, the retry budget, dead letters and the CLI.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.crm.base import CrmClient
from bot.crm.factory import build_crm_client
from bot.crm.hubspot import HubSpotClient
from bot.crm.webhook import WebhookClient
from bot.leads.delivery import DeliveryReport, WorkerOptions, deliver_pending
from bot.leads.model import Lead, build_crm_payload, utc_now
from bot.leads.outbox import OutboxEntry, RetryPolicy
from bot.leads.scoring import load_scoring_rules
from bot.leads.services import submit_lead
from bot.leads.unit_of_work import SqlUnitOfWork
from bot.settings import SettingsError, load_settings
from tests.support.crm_standin import CrmStandIn
from tests.support.leads_factory import Clock, make_draft

RULES = load_scoring_rules()
ROOT = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(max_attempts=5, base_seconds=1.0, cap_seconds=8.0)


def hubspot(crm: CrmStandIn, timeout: float = 2.0) -> HubSpotClient:
    return HubSpotClient(token="test-token", base_url=crm.url, timeout_seconds=timeout)


def webhook(crm: CrmStandIn, secret: str = "test-secret", timeout: float = 2.0) -> WebhookClient:
    return WebhookClient(url=crm.webhook_url, secret=secret, timeout_seconds=timeout)


def run(engine: Engine, client: CrmClient, clock: Clock | None = None,
        policy: RetryPolicy = FAST) -> DeliveryReport:
    options = WorkerOptions(worker_id="test-worker", lease_seconds=30,
                            clock=clock or utc_now)
    return deliver_pending(SqlUnitOfWork(engine), client, policy, options)


def outbox_of(engine: Engine, lead: Lead) -> OutboxEntry:
    with SqlUnitOfWork(engine) as uow:
        (entry,) = uow.outbox.for_lead(lead.lead_id)
    return entry


def attempts_of(engine: Engine, lead: Lead) -> list[tuple[str, int | None]]:
    with SqlUnitOfWork(engine) as uow:
        entry = uow.outbox.for_lead(lead.lead_id)[0]
        return [(a.outcome, a.http_status) for a in uow.outbox.attempts(entry.id)]


# --- webhook ------------------------------------------------------------------------


def test_webhook_delivers_a_signed_payload_with_its_idempotency_key(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    report = run(leads_engine, webhook(crm))
    assert report.delivered == 1
    (request,) = crm.received("POST")
    expected = hmac.new(b"test-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Signature"] == f"sha256={expected}"
    assert request.headers["Idempotency-Key"] == lead.idempotency_key
    assert request.json() == build_crm_payload(lead)
    payload = request.json()
    assert payload["qualification"]["tier"] == lead.qualification.tier
    assert payload["recommendation"]["verdict"] == "container"
    assert payload["recommendation"]["reasons"] == ["stateless web tier"]
    assert payload["consent"]["version"] == lead.draft.consent.version
    entry = outbox_of(leads_engine, lead)
    assert (entry.status, entry.attempts) == ("delivered", 1)
    assert attempts_of(leads_engine, lead) == [("delivered", 201)]


def test_a_wrong_webhook_secret_keeps_retrying_with_an_operator_alert(
    leads_engine: Engine, crm: CrmStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 10: a refused secret is not the lead's fault; no dead letter, an alert."""
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    clock = Clock()
    for _ in range(FAST.max_attempts + 2):  # past the retry budget
        assert run(leads_engine, webhook(crm, secret="wrong"), clock).retried == 1
        clock.advance(3600)
    entry = outbox_of(leads_engine, lead)
    assert entry.status == "pending"
    assert entry.last_error is not None and "operator: credentials refused" in entry.last_error
    assert any(r.levelname == "ERROR" and "CRM needs the operator" in r.getMessage()
               for r in caplog.records)
    assert crm.state.webhook_records == {}


def test_a_redirect_is_never_followed_nor_counted_as_delivered(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    """Item 10: a 301 that `requests` would follow as a GET (200) is not a delivery."""
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    client = WebhookClient(url=crm.url + "/moved", secret="test-secret", timeout_seconds=2)
    assert run(leads_engine, client).retried == 1
    entry = outbox_of(leads_engine, lead)
    assert entry.status == "pending" and "a redirect" in (entry.last_error or "")
    assert [r.method for r in crm.received()] == ["POST"]


def test_a_resent_webhook_is_stored_once(leads_engine: Engine, crm: CrmStandIn) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    crm.fail_next("500_after")  # the receiver stores it, but the answer is lost
    clock = Clock()
    assert run(leads_engine, webhook(crm), clock).retried == 1
    clock.advance(60)
    assert run(leads_engine, webhook(crm), clock).delivered == 1
    assert len(crm.received("POST")) == 2
    assert crm.lead_copies() == {lead.lead_id: 1}
    assert crm.state.webhook_replays == 1


# --- HubSpot ------------------------------------------------------------------------


def test_hubspot_creates_a_contact_with_the_mapped_properties(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    assert run(leads_engine, hubspot(crm)).delivered == 1
    (request,) = crm.received("POST")
    assert request.headers["Authorization"] == "Bearer test-token"
    assert request.headers["Idempotency-Key"] == lead.idempotency_key
    (contact,) = crm.contacts_with("email", "ada@analytical.example.io")
    assert contact["firstname"] == "Ada"
    assert contact["lastname"] == "Lovelace"
    assert contact["jobtitle"] == "CTO"
    assert contact["cloud_advisor_score"] == str(lead.qualification.score)
    assert contact["cloud_advisor_tier"] == lead.qualification.tier
    assert json.loads(contact["cloud_advisor_recommendation"])["verdict"] == "container"
    assert outbox_of(leads_engine, lead).crm_reference == "1001"


def test_hubspot_409_never_renames_nor_blanks_the_existing_contact(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    """Item 5: someone typing a customer's email cannot rename the contact or blank its
    fields; only the chat's own fields change, and the lead becomes a note on it."""
    first = submit_lead(SqlUnitOfWork(leads_engine), make_draft(timeline="exploring"), RULES)
    run(leads_engine, hubspot(crm))
    second = submit_lead(SqlUnitOfWork(leads_engine), make_draft(
        name="Mallory Impostor", company="Evil Corp", role="", timeline="now"), RULES)
    report = run(leads_engine, hubspot(crm))
    assert report.delivered == 1
    (contact,) = crm.contacts_with("email", "ada@analytical.example.io")
    assert (contact["firstname"], contact["lastname"]) == ("Ada", "Lovelace")
    assert contact["company"] == "Analytical"
    assert contact["jobtitle"] == "CTO"  # an empty value never blanks a field
    assert contact["cloud_advisor_timeline"] == "now"  # the chat's own field
    assert contact["cloud_advisor_lead_id"] == first.lead_id  # who created the contact
    patches = [r.json()["properties"] for r in crm.received("PATCH")]
    assert all("" not in p.values() and "firstname" not in p for p in patches)
    (note,) = crm.state.notes.values()
    assert note["contact_id"] == "1001"
    assert "Mallory Impostor" in note["properties"]["hs_note_body"]
    assert outbox_of(leads_engine, second).crm_reference == f"note:{next(iter(crm.state.notes))}"
    assert outbox_of(leads_engine, first).status == "delivered"
    assert outbox_of(leads_engine, second).status == "delivered"


def test_hubspot_fills_blank_identity_fields_of_an_existing_contact(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    crm.state.contacts["42"] = {"email": "ada@analytical.example.io", "firstname": ""}
    crm.state.contact_writes["42"] = 1
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    assert run(leads_engine, hubspot(crm)).delivered == 1
    contact = crm.state.contacts["42"]
    assert (contact["firstname"], contact["jobtitle"]) == ("Ada", "CTO")
    assert "cloud_advisor_lead_id" not in contact


def test_hubspot_property_map_comes_from_the_settings(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    settings = load_settings({
        "CRM_ADAPTER": "hubspot", "HUBSPOT_TOKEN": "test-token", "HUBSPOT_BASE_URL": crm.url,
        "HUBSPOT_PROPERTY_MAP": "email=contact.email, lead_rating=qualification.score",
    })
    client = build_crm_client(settings)
    assert client is not None
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    run(leads_engine, client)
    (contact,) = crm.contacts_with("email", "ada@analytical.example.io")
    assert set(contact) == {"email", "lead_rating"}


def test_a_wrong_hubspot_token_retries_with_an_alert_in_the_outbox_listing(
    leads_engine: Engine, leads_db_url: str, crm: CrmStandIn
) -> None:
    """Item 10: an expired token must not dead-letter every lead."""
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    client = HubSpotClient(token="nope", base_url=crm.url, timeout_seconds=2)
    assert run(leads_engine, client).retried == 1
    entry = outbox_of(leads_engine, lead)
    assert entry.status == "pending" and "HTTP 401" in (entry.last_error or "")
    listing = _cli(_env(leads_db_url), "outbox").stdout
    assert "operator: credentials refused" in listing


# --- failures and retries -----------------------------------------------------------


@pytest.mark.parametrize("adapter", ["hubspot", "webhook"])
@pytest.mark.parametrize("fault", ["500", "drop", "slow", "500_after", "drop_after"])
def test_a_temporary_failure_is_retried_after_a_backoff(
    leads_engine: Engine, crm: CrmStandIn, adapter: str, fault: str
) -> None:
    crm.state.slow_seconds = 1.5
    client = hubspot(crm, timeout=0.5) if adapter == "hubspot" else webhook(crm, timeout=0.5)
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    crm.fail_next(fault)
    clock = Clock()
    started = time.monotonic()
    assert run(leads_engine, client, clock).retried == 1
    assert time.monotonic() - started < 1.4  # the client's timeout cut the slow answer
    entry = outbox_of(leads_engine, lead)
    assert entry.status == "pending"
    # equal jitter on a 1 s base: between 0.5 and 1 s
    wait = (entry.next_attempt_at - clock.now).total_seconds()
    assert 0.5 <= wait <= 1.0
    assert run(leads_engine, client, clock).attempted == 0  # not due yet
    clock.advance(1.0)
    assert run(leads_engine, client, clock).delivered == 1
    assert crm.lead_copies() == {lead.lead_id: 1}
    assert [outcome for outcome, _ in attempts_of(leads_engine, lead)] == ["retry", "delivered"]


@pytest.mark.parametrize("status", ["429", "503"])
def test_retry_after_is_honoured(leads_engine: Engine, crm: CrmStandIn, status: str) -> None:
    crm.state.retry_after = "120"
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    crm.fail_next(status)
    clock = Clock()
    run(leads_engine, webhook(crm), clock)
    entry = outbox_of(leads_engine, lead)
    assert (entry.next_attempt_at - clock.now).total_seconds() == pytest.approx(120, abs=0.01)
    assert attempts_of(leads_engine, lead) == [("retry", int(status))]
    clock.advance(119)
    assert run(leads_engine, webhook(crm), clock).attempted == 0
    clock.advance(2)
    assert run(leads_engine, webhook(crm), clock).delivered == 1


def test_a_non_retryable_4xx_is_a_dead_letter_at_once(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    crm.fail_next("400")
    assert run(leads_engine, webhook(crm)).dead == 1
    entry = outbox_of(leads_engine, lead)
    assert (entry.status, entry.attempts) == ("dead", 1)
    assert "rejected by the CRM: HTTP 400" in (entry.last_error or "")


def test_the_retry_budget_ends_in_a_dead_letter_and_retry_dead_revives_it(
    leads_engine: Engine, crm: CrmStandIn
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    policy = RetryPolicy(max_attempts=3, base_seconds=1, cap_seconds=2)
    crm.fail_next("500", "503", "500")
    clock = Clock()
    for _ in range(3):
        run(leads_engine, webhook(crm), clock, policy)
        clock.advance(150)
    entry = outbox_of(leads_engine, lead)
    assert entry.status == "dead"
    assert entry.last_error is not None
    assert entry.last_error.startswith("retry budget spent after 3 attempts: HTTP 500")
    assert [o for o, _ in attempts_of(leads_engine, lead)] == ["retry", "retry", "dead"]

    with SqlUnitOfWork(leads_engine) as uow:
        assert uow.outbox.retry_dead(clock.now) == 1
        uow.commit()
    assert run(leads_engine, webhook(crm), clock, policy).delivered == 1
    assert crm.lead_copies() == {lead.lead_id: 1}


def test_backoff_grows_and_is_capped(leads_engine: Engine, crm: CrmStandIn) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    policy = RetryPolicy(max_attempts=10, base_seconds=1, cap_seconds=4)
    crm.fail_next(*["500"] * 6)
    clock = Clock()
    waits = []
    for _ in range(6):
        run(leads_engine, webhook(crm), clock, policy)
        entry = outbox_of(leads_engine, lead)
        waits.append((entry.next_attempt_at - clock.now).total_seconds())
        clock.advance(10)
    # 1, 2, 4, then capped at 4: each wait lies in [delay/2, delay]
    for wait, delay in zip(waits, [1, 2, 4, 4, 4, 4], strict=True):
        assert delay / 2 <= wait <= delay


# --- the CLI ------------------------------------------------------------------------


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "leads", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )


def _env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CRM_", "HUBSPOT_", "LEADS_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": db_url, "TRACKER_DATABASE_URL": "sqlite:////nonexistent/t.db"})
    env.update(extra)
    return env


def test_cli_deliver_list_show_export_and_forget(
    leads_engine: Engine, leads_db_url: str, crm: CrmStandIn, tmp_path: Path
) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(name="Ada <b>Lovelace</b>"), RULES)
    env = _env(leads_db_url, CRM_ADAPTER="webhook", CRM_WEBHOOK_URL=crm.webhook_url,
               CRM_WEBHOOK_SECRET="test-secret")

    delivered = _cli(env, "deliver")
    assert delivered.returncode == 0, delivered.stderr
    assert "1 delivered" in delivered.stdout
    assert crm.lead_copies() == {lead.lead_id: 1}

    listed = _cli(env, "list")
    assert lead.lead_id in listed.stdout and "delivered" in listed.stdout

    shown = _cli(env, "show", "ADA@analytical.example.io")
    assert shown.returncode == 0
    assert '"name": "Ada <b>Lovelace</b>"' in shown.stdout
    assert "delivered" in shown.stdout

    out = tmp_path / "leads.json"
    assert _cli(env, "export", "--format", "json", "--output", str(out)).returncode == 0
    (document,) = json.loads(out.read_text(encoding="utf-8"))
    assert document["contact"]["name"] == "Ada <b>Lovelace</b>"
    assert document["delivery"][0]["status"] == "delivered"
    csv_out = _cli(env, "export", "--format", "csv")
    assert csv_out.stdout.splitlines()[0].startswith("lead_id,created_at,name,email")
    assert lead.lead_id in csv_out.stdout

    outbox = _cli(env, "outbox")
    assert "0 pending, 1 delivered, 0 dead" in outbox.stdout

    assert _cli(env, "forget", "ada@analytical.example.io").returncode != 0  # who asked?
    forgotten = _cli(env, "forget", "ada@analytical.example.io", "--requested-by", "T-42")
    assert "deleted 1 lead(s), 1 outbox row(s), 1 delivery attempt(s)" in forgotten.stdout
    assert "1 CRM erasure(s) queued" in forgotten.stdout
    assert "audit: leads forget by" in forgotten.stderr and "'T-42'" in forgotten.stderr
    assert "ada@" not in forgotten.stderr  # the audit line keeps a fingerprint only
    assert "no leads" in _cli(env, "list").stdout
    assert "1 delivered" in _cli(env, "deliver").stdout  # the signed lead.erased event
    assert crm.lead_copies() == {}


def test_cli_retry_dead(leads_engine: Engine, leads_db_url: str, crm: CrmStandIn) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    crm.fail_next("400")
    env = _env(leads_db_url, CRM_ADAPTER="webhook", CRM_WEBHOOK_URL=crm.webhook_url,
               CRM_WEBHOOK_SECRET="test-secret")
    assert "1 dead letters" in _cli(env, "deliver").stdout
    revived = _cli(env, "retry-dead")
    assert "1 dead letter(s) back in the outbox" in revived.stdout
    assert "1 delivered" in _cli(env, "deliver").stdout
    assert crm.lead_copies() == {lead.lead_id: 1}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL must be a sqlite:// or postgresql://"),
        ({"DATABASE_URL": "postgresql://u:secret@127.0.0.1:1/db"},
         "cannot connect to DATABASE_URL"),
        ({"CRM_ADAPTER": "hubspot"}, "HUBSPOT_TOKEN"),
        ({"CRM_ADAPTER": "webhook", "CRM_WEBHOOK_URL": "http://x"}, "CRM_WEBHOOK_SECRET"),
        ({"CRM_ADAPTER": "salesforce"}, "CRM_ADAPTER must be one of"),
        ({"CRM_TIMEOUT_SECONDS": "soon"}, "CRM_TIMEOUT_SECONDS must be a number"),
        ({"CRM_ADAPTER": "webhook", "CRM_WEBHOOK_URL": "http://x", "CRM_WEBHOOK_SECRET": "s",
          "LEADS_LEASE_SECONDS": "5"}, "LEADS_LEASE_SECONDS must be more than"),
    ],
)
def test_cli_names_the_bad_setting(tmp_path: Path, extra: dict[str, str], message: str) -> None:
    env = _env(f"sqlite:///{tmp_path / 'app.db'}", **extra)
    result = _cli(env, "deliver")
    assert result.returncode == 2
    assert message in result.stderr
    assert "secret" not in result.stderr.replace("CRM_WEBHOOK_SECRET", "")
    assert "Traceback" not in result.stderr


def test_cli_with_no_crm_keeps_leads_local(leads_engine: Engine, leads_db_url: str) -> None:
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    result = _cli(_env(leads_db_url, CRM_ADAPTER="none"), "deliver")
    assert result.returncode == 0
    assert "leads stay in the local database" in result.stdout
    assert "1 pending" in _cli(_env(leads_db_url), "outbox").stdout


def test_factory_refuses_an_incomplete_property_map() -> None:
    with pytest.raises(SettingsError, match="HUBSPOT_PROPERTY_MAP"):
        build_crm_client(load_settings({
            "CRM_ADAPTER": "hubspot", "HUBSPOT_TOKEN": "t", "HUBSPOT_PROPERTY_MAP": "email",
        }))
