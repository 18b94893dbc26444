"""The insight page in Chromium, with figures made by scripted conversations.

One Rasa server and its action server (ADMIN_TOKEN set, leads in a SQLite file); three
visitors talk over the REST channel: two get a recommendation and rate it (one of them
then leaves a lead), one asks things the assistant does not cover. The page, opened with
the token (HTTP Basic, as a person's browser sends it), must show exactly those figures;
without the token it is refused. The screenshot goes to tests/artifacts/insights.png.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from bot.launcher import Stack
from tests.support.conversation_client import RestVisitor
from tests.support.servers import REST_TOKEN, running_servers

pytestmark = [pytest.mark.browser, pytest.mark.server]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ADMIN_TOKEN = "e2e-admin-token-0123456789"
ADVISOR_FIELDS = ("isolation", "os_mix", "density", "startup", "stateful", "legacy",
                  "team_containers", "traffic", "privileged", "os_patching", "licences",
                  "work_pattern")
# Out-of-scope questions from the training data: answered by action_out_of_scope.
OUT_OF_SCOPE = ("how do I split a string on commas in java",
                "best mechanical keyboard under 100 dollars")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("insights-e2e")
    databases = {"APP_DATA_DIR": str(workdir),
                 "DATABASE_URL": f"sqlite:///{workdir / 'app.db'}"}
    with running_servers(workdir, env={**databases, "ADMIN_TOKEN": ADMIN_TOKEN},
                         action_env=databases) as running:
        yield running


def recommend(visitor: RestVisitor) -> None:
    """Ask for a recommendation and press the first answer of every question."""
    visitor.say("I'd like a recommendation for my workload")
    for _ in range(len(ADVISOR_FIELDS) + 2):
        if visitor.scorecard() is not None:
            return
        answers = [b for b in visitor.buttons()
                   if any(f'"{name}"' in b["payload"] for name in ADVISOR_FIELDS)]
        assert answers, visitor.text()
        visitor.say(answers[0]["payload"])
    pytest.fail("the advisor never gave its recommendation")


def leave_lead(visitor: RestVisitor) -> None:
    visitor.say("/contact_sales")
    for message in ("/affirm", "Maria Rossi", "maria@acme-logistics.example",
                    "Acme Logistics", "Head of IT", '/inform{"lead_timeline":"now"}',
                    "about 120 servers", '/inform{"lead_budget":"50k_250k"}'):
        visitor.say(message)
    assert "Shall I send it?" in visitor.text()
    visitor.say("/affirm")


def figure(page: Page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').first.inner_text().strip()


def test_the_page_shows_what_the_conversations_did(servers: Stack) -> None:
    pleased, doubtful, lost = (RestVisitor(servers.url, REST_TOKEN) for _ in range(3))
    recommend(pleased)
    pleased.press("👍 Helpful")
    assert "Thanks for the feedback" in pleased.text()
    leave_lead(pleased)
    recommend(doubtful)
    doubtful.press("👎 Not helpful")
    for question in OUT_OF_SCOPE:
        lost.say(question)
    with sqlite3.connect(servers.workdir / "app.db") as db:
        leads, delivered = db.execute(
            "SELECT count(*), (SELECT count(*) FROM lead_outbox WHERE kind = 'lead' AND "
            "status = 'delivered') FROM leads").fetchone()
    assert leads == 1

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            # Refused without the token, or with a wrong one (Chromium gives up on a
            # page that asks for a password it does not have: ask as a script would).
            anonymous = browser.new_context().request
            url = servers.url + "/admin/insights"
            assert anonymous.get(url).status == 401
            assert anonymous.get(url, headers={"Authorization": "Bearer not-the-token"}
                                 ).status == 401
            assert anonymous.get(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
                                 ).status == 200
            admin = browser.new_context(viewport={"width": 1280, "height": 900},
                                        http_credentials={"username": "admin",
                                                          "password": ADMIN_TOKEN})
            page = admin.new_page()
            shown = page.goto(servers.url + "/admin/insights?since=1d")
            assert shown is not None and shown.status == 200, servers.logs()
            assert [figure(page, f"funnel.{step}") for step in (
                "conversations", "recommendations", "expert", "consent", "leads",
                "delivered")] == ["3", "2", "1", "1", "1", str(delivered)]
            assert (figure(page, "feedback.helpful"), figure(page, "feedback.not_helpful")) \
                == ("1", "1")
            assert figure(page, "fallbacks") == "2"
            assert figure(page, "channel.rest") == "3"
            tiers = page.locator('[data-figure^="tier."]').all_inner_texts()
            assert sum(int(t) for t in tiers) == 1
            verdicts = page.locator('[data-figure^="verdict."]').all_inner_texts()
            assert sum(int(v) for v in verdicts) == 2
            assert figure(page, "daily.conversations") == "3"
            assert page.locator("svg").count() == 7
            # Visitors' words only when asked for.
            assert "split a string" not in page.content()
            page.screenshot(path=str(ARTIFACTS / "insights.png"), full_page=True)
            page.goto(servers.url + "/admin/insights?since=1d&details=1")
            assert "split a string on commas in java" in page.content()
        finally:
            browser.close()
