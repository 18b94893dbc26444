"""The leads store on real SQLite and PostgreSQL: migrations, the unit of work, the
outbox's claims and leases, forgetting a person, erasing tracker events."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.leads.db import DatabaseConfigError, check_connection, create_db_engine
from bot.leads.erasure import process_erasures
from bot.leads.migrate import alembic_config, current_revision, head_revision, upgrade_database
from bot.leads.model import Lead, Qualification, build_crm_payload, utc_now
from bot.leads.scoring import load_scoring_rules
from bot.leads.services import forget_conversation, forget_email, submit_lead
from bot.leads.store import table_names
from bot.leads.unit_of_work import SqlUnitOfWork
from tests.support.databases import fresh_postgres_database
from tests.support.leads_factory import make_draft

RULES = load_scoring_rules()


def test_migrations_create_every_table_and_are_idempotent(leads_engine: Engine) -> None:
    assert current_revision(leads_engine) == head_revision()
    assert set(table_names()) <= set(inspect(leads_engine).get_table_names())
    upgrade_database(leads_engine)  # a second start-up changes nothing
    assert current_revision(leads_engine) == head_revision()


@pytest.mark.postgres
def test_migrations_run_up_and_down_on_a_new_postgres_database() -> None:
    with fresh_postgres_database("h3_leads_migrate") as database:
        engine = create_db_engine(database.url)
        assert current_revision(engine) is None
        upgrade_database(engine)
        assert "lead_outbox" in inspect(engine).get_table_names()
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert "leads" not in inspect(engine).get_table_names()
        engine.dispose()


def test_concurrent_start_ups_migrate_once(leads_db_url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        engine = create_db_engine(leads_db_url)
        try:
            upgrade_database(engine)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_lead_and_its_outbox_row_are_stored_together(leads_engine: Engine) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    with SqlUnitOfWork(leads_engine) as uow:
        stored = uow.leads.get(lead.lead_id)
        entries = uow.outbox.for_lead(lead.lead_id)
    assert stored == lead
    assert len(entries) == 1
    assert entries[0].status == "pending"
    assert entries[0].idempotency_key == lead.idempotency_key
    assert json.loads(entries[0].payload) == build_crm_payload(lead)


def test_times_come_back_as_utc_aware_datetimes(leads_engine: Engine) -> None:
    lead = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    with SqlUnitOfWork(leads_engine) as uow:
        stored = uow.leads.get(lead.lead_id)
    assert stored is not None
    assert stored.created_at == lead.created_at
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.draft.consent.given_at == lead.draft.consent.given_at


def test_the_unit_of_work_rolls_back_unless_committed(leads_engine: Engine) -> None:
    lead = Lead("11111111-1111-1111-1111-111111111111", make_draft(),
                Qualification(50, "warm", ("r",)), utc_now())
    with SqlUnitOfWork(leads_engine) as uow:
        uow.leads.add(lead)
    with pytest.raises(RuntimeError), SqlUnitOfWork(leads_engine) as uow:
        uow.leads.add(lead)
        raise RuntimeError("boom")
    with SqlUnitOfWork(leads_engine) as uow:
        assert uow.leads.get(lead.lead_id) is None


def test_a_failing_outbox_insert_takes_the_lead_back_with_it(leads_engine: Engine) -> None:
    first = submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    second = Lead("22222222-2222-2222-2222-222222222222", make_draft(email="x@y.io"),
                  Qualification(10, "cold", ()), utc_now())
    with pytest.raises(IntegrityError), SqlUnitOfWork(leads_engine) as uow:
        uow.leads.add(second)
        # the same idempotency key as the first lead: the unique constraint refuses it
        uow.outbox.add(second.lead_id, first.idempotency_key, "{}", utc_now())
        uow.commit()
    with SqlUnitOfWork(leads_engine) as uow:
        assert uow.leads.get(second.lead_id) is None
        assert uow.leads.count() == 1


def test_listing_is_newest_first_and_filters_by_tier(leads_engine: Engine) -> None:
    hot = submit_lead(SqlUnitOfWork(leads_engine), make_draft(timeline="now", size=500), RULES)
    time.sleep(0.01)
    cold = submit_lead(SqlUnitOfWork(leads_engine),
                       make_draft(timeline="exploring", size=2, role="student",
                                  budget="not_given"), RULES)
    with SqlUnitOfWork(leads_engine) as uow:
        assert [lead.lead_id for lead in uow.leads.latest()] == [cold.lead_id, hot.lead_id]
        assert [lead.lead_id for lead in uow.leads.latest(tier="hot")] == [hot.lead_id]
        assert uow.leads.find_by_email("ADA@analytical.example.io")[0].lead_id == hot.lead_id


def test_only_one_worker_wins_a_claim(leads_engine: Engine) -> None:
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(), RULES)
    now = utc_now()
    with SqlUnitOfWork(leads_engine) as uow:
        (outbox_id,) = uow.outbox.due_ids(now, 10)
    results = []
    for worker in ("worker-a", "worker-b"):
        with SqlUnitOfWork(leads_engine) as uow:
            results.append(uow.outbox.try_claim(outbox_id, worker, now, timedelta(seconds=30)))
            uow.commit()
    assert results == [True, False]
    with SqlUnitOfWork(leads_engine) as uow:
        entry = uow.outbox.get(outbox_id)
        assert entry is not None and entry.lease_owner == "worker-a"
        assert entry.attempts == 1
        assert uow.outbox.due_ids(now, 10) == []
        # once the lease runs out (the worker died), the row is due again
        later = now + timedelta(seconds=31)
        assert uow.outbox.due_ids(later, 10) == [outbox_id]
        assert uow.outbox.try_claim(outbox_id, "worker-b", later, timedelta(seconds=30))


def test_racing_claims_from_threads_never_share_a_row(leads_engine: Engine) -> None:
    for i in range(30):
        submit_lead(SqlUnitOfWork(leads_engine), make_draft(email=f"p{i}@corp.io"), RULES)
    won: dict[str, list[int]] = {}

    def claim_all(worker: str) -> None:
        mine: list[int] = []
        with SqlUnitOfWork(leads_engine) as uow:
            ids = uow.outbox.due_ids(utc_now(), 100)
        for outbox_id in ids:
            with SqlUnitOfWork(leads_engine) as uow:
                if uow.outbox.try_claim(outbox_id, worker, utc_now(), timedelta(minutes=5)):
                    mine.append(outbox_id)
                uow.commit()
        won[worker] = mine

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for ids in won.values() for i in ids]
    assert len(claimed) == 30
    assert len(set(claimed)) == 30


def test_forget_removes_leads_outbox_rows_and_attempts(leads_engine: Engine) -> None:
    mine = submit_lead(SqlUnitOfWork(leads_engine), make_draft(email="Grace@Navy.example.io",
                                                conversation_id="conv-grace"), RULES)
    again = submit_lead(SqlUnitOfWork(leads_engine), make_draft(email="grace@navy.example.io",
                                                 conversation_id="conv-grace-2"), RULES)
    other = submit_lead(SqlUnitOfWork(leads_engine), make_draft(email="alan@bletchley.io"), RULES)
    with SqlUnitOfWork(leads_engine) as uow:
        entry = uow.outbox.for_lead(mine.lead_id)[0]
        uow.outbox.try_claim(entry.id, "w", utc_now(), timedelta(seconds=5))
        uow.outbox.start_attempt(entry, "w", utc_now())
        uow.commit()

    report = forget_email(SqlUnitOfWork(leads_engine), "GRACE@navy.example.io")

    assert (report.leads, report.outbox_rows, report.attempts) == (2, 2, 1)
    assert report.crm_erasures == 1  # the claimed one may have reached the CRM
    assert set(report.conversations) == {"conv-grace", "conv-grace-2"}
    with SqlUnitOfWork(leads_engine) as uow:
        assert uow.leads.get(mine.lead_id) is None
        assert uow.leads.get(again.lead_id) is None
        assert uow.outbox.for_lead(mine.lead_id) == []
        (erasure,) = uow.outbox.for_lead(mine.lead_id, kind="erasure")
        assert erasure.idempotency_key == f"erase-{mine.lead_id}"
        assert uow.outbox.for_lead(again.lead_id, kind=None) == []  # never sent
        assert uow.outbox.count_attempts() == 0
        assert uow.leads.get(other.lead_id) is not None
        assert len(uow.outbox.for_lead(other.lead_id)) == 1
        assert [e.conversation_id for e in uow.erasures.open()] == ["conv-grace", "conv-grace-2"]


def test_forget_by_conversation_only_touches_that_conversation(leads_engine: Engine) -> None:
    """Item 1: the same email typed in another conversation does not widen the erasure."""
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-a"), RULES)
    kept = submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="conv-b"), RULES)
    report = forget_conversation(SqlUnitOfWork(leads_engine), "conv-a")
    assert report.leads == 1
    assert report.conversations == ("conv-a",)
    with SqlUnitOfWork(leads_engine) as uow:
        assert [lead.lead_id for lead in uow.leads.latest()] == [kept.lead_id]
        assert [e.conversation_id for e in uow.erasures.open()] == ["conv-a"]


def test_forget_erases_the_conversation_from_rasas_tracker_store(
    leads_engine: Engine, leads_db_url: str
) -> None:
    """Uses Rasa's own SQLTrackerStore (same database, `events` table) as the tracker."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.engine import make_url

    url = make_url(leads_db_url)
    if url.get_backend_name() == "sqlite":
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=url.database)
    else:
        store = SQLTrackerStore(
            Domain.empty(), dialect="postgresql", host=url.host, port=url.port,
            db=url.database, username=url.username, password=url.password,
        )
    t0 = time.time() - 10
    tracker = DialogueStateTracker.from_events("visitor-7", [
        ActionExecuted("action_session_start", timestamp=t0),
        SessionStarted(timestamp=t0),
        UserUttered("my email is grace@navy.example.io", timestamp=t0 + 1),
        UserUttered("forget me", timestamp=t0 + 2),
    ])
    other = DialogueStateTracker.from_events("visitor-8", [UserUttered("hi", timestamp=t0)])
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(other))
    submit_lead(SqlUnitOfWork(leads_engine), make_draft(conversation_id="visitor-7"), RULES)

    forget_conversation(SqlUnitOfWork(leads_engine), "visitor-7", before_timestamp=t0 + 2)
    tracker_engine = create_db_engine(leads_db_url)
    deleted = process_erasures(SqlUnitOfWork(leads_engine), tracker_engine)

    assert deleted == 4
    assert asyncio.run(store.retrieve("visitor-7")) is None
    assert asyncio.run(store.retrieve("visitor-8")) is not None
    with tracker_engine.begin() as conn:
        # (clean up the shared test database for the next test)
        conn.execute(text("DELETE FROM events"))
    tracker_engine.dispose()
    store.engine.dispose()


def test_a_wrong_password_is_reported_without_showing_it() -> None:
    from sqlalchemy.engine import make_url

    from tests.support.databases import postgres_admin_url

    url = make_url(postgres_admin_url()).set(password="not-the-password")
    engine = create_db_engine(url.render_as_string(hide_password=False))
    with pytest.raises(DatabaseConfigError) as info:
        check_connection(engine)
    assert "DATABASE_URL" in str(info.value)
    assert "not-the-password" not in str(info.value)


def test_the_migrations_match_the_table_definitions(leads_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bot.leads.store import metadata

    with leads_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            # other tables (the version table, a tracker store sharing the database)
            "include_name": lambda name, kind, _parent: kind != "table"
            or name in metadata.tables,
        })
        assert compare_metadata(context, metadata) == []
