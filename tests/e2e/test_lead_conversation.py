"""Lead capture end to end: the real Rasa server, our action server (with its delivery
worker) and the CRM stand-in, all on 127.0.0.1.

Needs a trained model: TEST_MODEL, or the newest models/*.tar.gz
(see tests/support/servers.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.launcher import Stack
from tests.support.crm_standin import CrmStandIn
from tests.support.servers import (
    REST_AUTH,
    rest_conversation,
    running_servers,
)

pytestmark = pytest.mark.server

ADVISOR_FIELDS = ("isolation", "os_mix", "density", "startup", "stateful", "legacy",
                  "team_containers")


class Servers:
    def __init__(self, crm: CrmStandIn, running: Stack) -> None:
        self.crm = crm
        self.url = running.url
        workdir = running.workdir
        self.app_engine: Engine = create_engine(f"sqlite:///{workdir / 'app.db'}", future=True)
        self.tracker_engine: Engine = create_engine(f"sqlite:///{workdir / 'tracker.db'}",
                                                    future=True)

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message}, headers=REST_AUTH, timeout=60,
        )
        response.raise_for_status()
        answer: list[dict[str, Any]] = response.json()
        return answer

    def rows(self, engine: Engine, query: str, **params: Any) -> list[Any]:
        with engine.connect() as conn:
            return list(conn.execute(text(query), params))


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("lead-e2e")
    with CrmStandIn() as crm:
        # The action server's delivery worker sends to the stand-in, with short retries.
        action_env = {
            "APP_DATA_DIR": str(workdir),
            "DATABASE_URL": f"sqlite:///{workdir / 'app.db'}",
            "TRACKER_DATABASE_URL": f"sqlite:///{workdir / 'tracker.db'}",
            "CRM_ADAPTER": "hubspot", "HUBSPOT_TOKEN": "test-token", "HUBSPOT_BASE_URL": crm.url,
            "CRM_TIMEOUT_SECONDS": "2", "LEADS_LEASE_SECONDS": "10",
            "CRM_BACKOFF_BASE_SECONDS": "0.2", "CRM_BACKOFF_CAP_SECONDS": "1",
            "CRM_RETRY_AFTER_CAP_SECONDS": "1", "LEADS_WORKER_INTERVAL_SECONDS": "0.5",
            "MEETING_LINK": "https://meet.example.com/sales-team",
        }
        with running_servers(workdir, action_env=action_env) as running:
            yield Servers(crm, running)


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(str(m.get("text", "")) for m in messages)


def eventually(check: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return check()


def fill_lead_form(servers: Servers, sender: str, email: str) -> list[dict[str, Any]]:
    """Consent, then every answer; returns the bot's answer to the final confirmation."""
    assert "What's your name?" in texts(servers.say(sender, "/affirm"))
    steps = [
        ("Maria Rossi", "email"),
        (email, "company"),
        ("Acme Logistics", "role"),
        ("Head of IT", "When are you planning"),
        ('/inform{"lead_timeline":"now"}', "how many workloads"),
        ("about 120 servers", "budget"),
        ('/inform{"lead_budget":"50k_250k"}', "Shall I send it?"),
    ]
    for message, expected in steps:
        answer = texts(servers.say(sender, message))
        assert expected in answer, (message, answer)
    return servers.say(sender, "/affirm")


def run_advisor(servers: Servers, sender: str) -> None:
    """Ask for a recommendation and click the first button of each advisor question."""
    answer = servers.say(sender, "I'd like a recommendation for my workload")
    for _ in range(len(ADVISOR_FIELDS) + 2):
        buttons = [b for m in answer for b in m.get("buttons", [])]
        advisor_buttons = [b for b in buttons if any(
            f'"{name}"' in b["payload"] for name in ADVISOR_FIELDS)]
        if not advisor_buttons:
            return
        answer = servers.say(sender, advisor_buttons[0]["payload"])
    pytest.fail("the advisor never gave its recommendation")


def test_a_lead_typed_into_the_chat_arrives_at_the_crm_with_score_and_recommendation(
    servers: Servers,
) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    run_advisor(servers, sender)
    consent = texts(servers.say(sender, "yes please"))
    assert "Do you agree?" in consent
    answer = texts(fill_lead_form(servers, sender, "maria.rossi@acme-logistics.com"))
    assert "Thank you, Maria!" in answer
    assert "https://meet.example.com/sales-team" in answer  # hot: the meeting link

    assert eventually(lambda: bool(servers.crm.contacts_with(
        "email", "maria.rossi@acme-logistics.com")))
    (contact,) = servers.crm.contacts_with("email", "maria.rossi@acme-logistics.com")
    assert contact["cloud_advisor_tier"] == "hot"
    assert int(contact["cloud_advisor_score"]) >= 70
    recommendation = json.loads(contact["cloud_advisor_recommendation"])
    assert recommendation.get("verdict") in ("vm", "container", "hybrid")
    assert contact["cloud_advisor_consent_version"] == "lead-consent-v1"

    def delivery_status() -> str:
        (row,) = servers.rows(servers.app_engine,
                              "SELECT status FROM lead_outbox JOIN leads ON leads.id = lead_id "
                              "WHERE conversation_id = :c", c=rest_conversation(sender))
        return str(row.status)

    # The CRM has the contact a moment before the worker records the delivery.
    assert eventually(lambda: delivery_status() == "delivered"), delivery_status()


def test_the_visitor_is_answered_while_the_crm_is_down_and_the_lead_arrives_later(
    servers: Servers,
) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    servers.crm.state.down = True
    try:
        assert "Do you agree?" in texts(servers.say(sender, "talk to sales"))
        answer = texts(fill_lead_form(servers, sender, "jonas@stahlwerk.de"))
        assert "Thank you, Maria!" in answer
        time.sleep(2)
        assert servers.crm.contacts_with("email", "jonas@stahlwerk.de") == []
        assert any(r.answer == "503" or r.answer == "fault:503"
                   for r in servers.crm.received())
    finally:
        servers.crm.state.down = False
    assert eventually(lambda: len(servers.crm.contacts_with("email", "jonas@stahlwerk.de")) == 1)


def test_consent_refused_keeps_nothing(servers: Servers) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "talk to sales")
    answer = texts(servers.say(sender, "/deny"))
    assert "haven't kept any contact details" in answer
    assert servers.rows(servers.app_engine, "SELECT id FROM leads WHERE conversation_id = :c",
                        c=rest_conversation(sender)) == []


def test_two_bad_emails_bring_an_explanation(servers: Servers) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "talk to sales")
    servers.say(sender, "/affirm")
    servers.say(sender, "Jonas Becker")
    first = texts(servers.say(sender, "jonas@"))
    second = texts(servers.say(sender, "jonas at stahlwerk"))
    assert "doesn't look complete" in first
    assert "Our solutions engineer will reply by email" in second
    third = texts(servers.say(sender, "tmp@mailinator.com"))
    assert "temporary inbox" in third


def test_forget_me_deletes_the_lead_its_outbox_and_the_conversation(servers: Servers) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "talk to sales")
    fill_lead_form(servers, sender, "priya@fintrack.io")
    assert len(servers.rows(servers.app_engine,
                            "SELECT id FROM leads WHERE conversation_id = :c",
                            c=rest_conversation(sender))) == 1
    answer = texts(servers.say(sender, "please delete my data"))
    assert "I've deleted the details you gave me (1 stored lead(s)" in answer
    assert servers.rows(servers.app_engine,
                        "SELECT id FROM leads WHERE conversation_id = :c",
                        c=rest_conversation(sender)) == []
    assert servers.rows(servers.app_engine,
                        "SELECT lead_outbox.id FROM lead_outbox WHERE kind = 'lead' "
                        "AND lead_id NOT IN (SELECT id FROM leads)") == []

    def no_personal_events_left() -> bool:
        rows = servers.rows(servers.tracker_engine,
                            "SELECT data FROM events WHERE sender_id = :s",
                            s=rest_conversation(sender))
        return bool(rows) and not any("priya" in r.data.lower() or "Maria" in r.data
                                      for r in rows)

    assert eventually(no_personal_events_left, seconds=30)
    # the conversation goes on normally afterwards
    assert texts(servers.say(sender, "hello"))
