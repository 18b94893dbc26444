"""The insight figures from a real tracker store and a real leads database.

Conversations are saved by our tracker store (`StrictSQLTrackerStore`) as Rasa events,
leads by the leads services; the same tests run on SQLite and on PostgreSQL (the
`leads_db_url` fixture's two backends; on PostgreSQL the events table shares the
database with the leads tables, as it may in production).
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.cli import main as bot_main
from bot.insights.model import Period
from bot.insights.queries import events_table, first_event_id_at, read_engine
from bot.insights.service import build_insights
from bot.leads.db import create_db_engine
from bot.leads.migrate import upgrade_database
from bot.leads.scoring import load_scoring_rules
from bot.leads.services import submit_lead, take_lead
from bot.leads.unit_of_work import SqlUnitOfWork
from bot.rasa.tracker_store import StrictSQLTrackerStore
from tests.support.leads_factory import make_draft

DAY = datetime(2026, 11, 28, tzinfo=timezone.utc)
PERIOD = Period(DAY, DAY + timedelta(days=3))
WIDGET = "0123456789abcdef0123456789abcdef"
SLACK = "U0ABCDEF1_C0GHIJKL2"
DOMAIN = Domain.from_dict({"slots": {
    "recommendation": {"type": "any", "mappings": [{"type": "custom"}]},
    "lead_consent": {"type": "bool", "mappings": [{"type": "custom"}]}}})


def _store(url: str, tmp_path: Path) -> StrictSQLTrackerStore:
    parts = make_url(url)
    if parts.get_backend_name() == "sqlite":
        return StrictSQLTrackerStore(domain=DOMAIN, dialect="sqlite",
                                     db=str(tmp_path / "tracker.db"))
    return StrictSQLTrackerStore(domain=DOMAIN, dialect="postgresql", host=parts.host,
                                 port=parts.port, db=parts.database, username=parts.username,
                                 password=parts.password)


@pytest.fixture
def tracker_store(leads_db_url: str, tmp_path: Path) -> Iterator[StrictSQLTrackerStore]:
    store = _store(leads_db_url, tmp_path)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(events_table))  # PostgreSQL's database is shared by tests
    yield store
    store.engine.dispose()


class Script:
    """One conversation's events, stamped from `start` a few seconds apart."""

    def __init__(self, sender: str, start: datetime) -> None:
        self.sender, self.at, self.events = sender, start.timestamp(), list[Event]()

    def _stamp(self) -> float:
        self.at += 5
        return self.at

    def starts(self) -> Script:
        self.events += [ActionExecuted("action_session_start", timestamp=self._stamp()),
                        SessionStarted(timestamp=self._stamp()),
                        ActionExecuted("action_listen", timestamp=self._stamp())]
        return self

    def says(self, text: str, intent: str, entities: Sequence[dict[str, Any]] = (),
             ranking: Sequence[str] = ()) -> Script:
        parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.9},
                      "entities": list(entities),
                      "intent_ranking": [{"name": n, "confidence": 0.2}
                                         for n in (ranking or [intent])]}
        self.events.append(UserUttered(text, parse_data["intent"], list(entities),
                                       parse_data, timestamp=self._stamp()))
        return self

    def runs(self, action: str, *after: Event) -> Script:
        self.events.append(ActionExecuted(action, timestamp=self._stamp()))
        for event in after:
            event.timestamp = self._stamp()
            self.events.append(event)
        return self

    def rates(self, helpful: str, about: str) -> Script:
        return self.says(f'/feedback{{"helpful":"{helpful}","about":"{about}"}}', "feedback",
                         [{"entity": "helpful", "value": helpful},
                          {"entity": "about", "value": about}])

    def save(self, store: StrictSQLTrackerStore) -> None:
        tracker = DialogueStateTracker.from_events(self.sender, self.events, DOMAIN.slots)
        asyncio.run(store.save(tracker))


def seed_conversations(store: StrictSQLTrackerStore) -> None:
    # Before the period: not counted.
    Script("rest:last-week", DAY - timedelta(days=2)).starts().says("hi", "greet").save(store)
    (Script(WIDGET, DAY + timedelta(hours=9)).starts()
     .says("recommend something for my web shop", "ask_use_case_recommendation")
     .runs("action_recommend", BotUttered("My recommendation: Containers"),
           SlotSet("recommendation", {"verdict": "container", "hybrid_kind": None}))
     .rates("yes", "recommendation/container").runs("utter_feedback_thanks")
     .says("/contact_sales", "contact_sales")
     .runs("lead_form", ActiveLoop("lead_form"), SlotSet("lead_consent", True))
     .save(store))
    (Script("rest:fallbacks", DAY + timedelta(days=2, hours=8)).starts()
     .says("how much does a vmware licence cost me?", "nlu_fallback",
           ranking=["nlu_fallback", "ask_cost"])
     .runs("action_default_fallback_with_topics", UserUtteranceReverted())
     .says("what's the price of a vmware license", "nlu_fallback",
           ranking=["nlu_fallback", "ask_cost"])
     .runs("action_default_fallback_with_topics", UserUtteranceReverted())
     .says("mail me at jane@acme.example, best pizza in town?", "out_of_scope")
     .runs("action_out_of_scope")
     .says("vm or containers for my shop", "ask_use_case_recommendation")
     .runs("action_recommend", SlotSet("recommendation", {
         "verdict": "hybrid", "hybrid_kind": "vms_for_legacy"}))
     .rates("no", "recommendation/hybrid")
     .rates("no", "ask_cost/general")
     .save(store))
    (Script(SLACK, DAY + timedelta(days=2, hours=9)).starts()
     .says("can I talk to a human?", "contact_sales").runs("action_listen")
     .runs("action_listen", ConversationPaused()).save(store))


def seed_leads(url: str) -> None:
    engine = read_engine(url, "DATABASE_URL")
    rules = load_scoring_rules()
    created = DAY + timedelta(hours=9, minutes=10)
    work = SqlUnitOfWork(engine)
    hot = submit_lead(work, make_draft(conversation_id=WIDGET, timeline="now", size=500,
                                       budget="over_250k", role="CTO"),
                      rules, clock=lambda: created)
    take_lead(work, hot.lead_id, "U0SALES", "Sam", clock=lambda: created + timedelta(
        minutes=20))
    with SqlUnitOfWork(engine) as uow:
        crm_row = uow.outbox.for_lead(hot.lead_id)[0]
        uow.outbox.mark_delivered(crm_row.id, "crm-1", created + timedelta(minutes=1))
        uow.commit()
    submit_lead(work, make_draft(conversation_id="rest:other", timeline="exploring", size=2,
                                 budget="not_given", email="x@gmail.com",
                                 email_is_free_mail=True),
                rules, clock=lambda: created + timedelta(days=1))
    # After the period: not counted.
    submit_lead(work, make_draft(conversation_id="rest:later"), rules,
                clock=lambda: PERIOD.end + timedelta(hours=1))
    engine.dispose()


def hashed_words(texts: Sequence[str]) -> Any:
    """A stand-in encoder: bag of words, so texts sharing most words are near."""
    rows = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().replace("?", "").split():
            rows[row, sum(map(ord, word.rstrip("s"))) % 64] += 1
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_figures_from_real_events_and_leads(tracker_store: StrictSQLTrackerStore,
                                            leads_db_url: str) -> None:
    seed_conversations(tracker_store)
    seed_leads(leads_db_url)
    insights = build_insights(tracker_store.engine, read_engine(leads_db_url, "DATABASE_URL"),
                              PERIOD, details=True, encode=hashed_words)
    assert [step.count for step in insights.funnel] == [3, 2, 1, 1, 2, 1]
    assert insights.verdicts == (("container", 1), ("hybrid", 1))
    assert insights.hybrid_kinds == (("vms_for_legacy", 1),)
    tiers = dict(insights.tiers)
    assert sum(tiers.values()) == 2 and tiers["hot"] == 1
    assert (insights.lead_timing.taken, insights.lead_timing.median_seconds) == (1, 20 * 60)
    assert insights.fallbacks == 3
    assert sum(g.count for g in insights.fallback_groups) == 3
    assert any("[email]" in text for g in insights.fallback_groups for text in g.examples)
    assert not any("jane@" in text for g in insights.fallback_groups for text in g.examples)
    assert (insights.helpful, insights.not_helpful) == (1, 2)
    assert dict(insights.channels) == {"widget": 1, "slack": 1, "rest": 1, "other": 0}
    assert (insights.handoffs, insights.person_requests) == (1, 2)
    assert [d.conversations for d in insights.daily] == [1, 0, 2]
    assert [d.leads for d in insights.daily] == [1, 1, 0]


def test_the_period_is_found_on_the_primary_key_even_with_gaps(
        tracker_store: StrictSQLTrackerStore) -> None:
    seed_conversations(tracker_store)
    with tracker_store.engine.begin() as conn:
        ids = [row.id for row in conn.execute(
            sa.select(events_table.c.id, events_table.c.timestamp).order_by(events_table.c.id))]
        # An erasure leaves holes in the ids.
        conn.execute(sa.delete(events_table).where(events_table.c.id.in_(ids[3:9])))
        rows = conn.execute(sa.select(events_table.c.id, events_table.c.timestamp)
                            .order_by(events_table.c.id)).all()
    with tracker_store.engine.connect() as conn:
        for probe in (rows[0].timestamp - 1, rows[2].timestamp + 0.5, rows[5].timestamp,
                      rows[-1].timestamp + 1):
            expected = next((r.id for r in rows if r.timestamp >= probe), rows[-1].id + 1)
            found = first_event_id_at(conn, probe)
            # The first id from which every event is at `probe` or later; holes before
            # the first such event may be skipped.
            assert found <= expected
            assert not [r for r in rows if found <= r.id < expected]


def test_an_empty_store_gives_zeros(tracker_store: StrictSQLTrackerStore) -> None:
    insights = build_insights(tracker_store.engine, None, PERIOD, encode=hashed_words)
    assert [step.count for step in insights.funnel] == [0, 0, 0, 0, 0, 0]
    assert insights.notes == ("No leads database is configured: lead figures are 0.",)


def test_cli_prints_and_exports_the_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # The command runs the queries tested above on both backends; here, once, on SQLite.
    leads_db_url = f"sqlite:///{tmp_path / 'leads.db'}"
    upgrade_database(create_db_engine(leads_db_url))
    tracker_store = _store(leads_db_url, tmp_path)
    seed_conversations(tracker_store)
    seed_leads(leads_db_url)
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("DATABASE_URL", leads_db_url)
    monkeypatch.setattr("bot.insights.service.shared_encode", hashed_words)
    out = tmp_path / "figures.csv"
    assert bot_main(["insights", "--from", "2026-11-28", "--to", "2026-11-30",
                     "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Conversations" in printed and "Delivered to the CRM" in printed
    with out.open(encoding="utf-8") as handle:
        rows = {(r["section"], r["name"]): r for r in csv.DictReader(handle)}
    assert rows[("funnel", "Conversations")]["value"] == "3"
    assert rows[("funnel", "Leads")]["value"] == "2"
    assert rows[("funnel", "Leads")]["detail"] == "200.0%"
    assert rows[("fallback", "total")]["value"] == "3"
    assert rows[("daily:2026-11-30", "conversations")]["value"] == "2"
    assert "pizza" not in out.read_text(encoding="utf-8")  # no texts without --details
    assert bot_main(["insights", "--since", "nonsense"]) == 2
