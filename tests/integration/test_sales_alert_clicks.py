"""The alert's buttons through the real Slack endpoint (issue 15, item 2): a signed
`block_actions` payload reaches the guarded Slack channel (`tests.support.
slack_channel_app`, in a real server), which answers the click from the leads database
and the Slack stand-in, instead of passing it to the bot as a message."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy.engine import Engine

from bot.channels.slack_signature import sign
from bot.leads.db import create_db_engine
from bot.leads.migrate import upgrade_database
from bot.leads.model import Lead
from bot.leads.scoring import load_scoring_rules
from bot.leads.services import submit_lead
from bot.leads.unit_of_work import SqlUnitOfWork
from bot.slack.blocks import SALES_TAKE_ACTION
from tests.support.fake_slack import FakeSlack
from tests.support.leads_factory import make_draft
from tests.support.slack_channel_app import serving_slack_channel

SECRET = "sales-click-signing-secret"
CHANNEL = "C0SALES"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('clicks') / 'leads.db'}"
    engine = create_db_engine(url)
    upgrade_database(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def webhook(slack: FakeSlack, database: tuple[str, Engine]) -> Iterator[str]:
    env = {"REDIS_HOST": "", "DATABASE_URL": database[0], "SLACK_TOKEN": slack.token,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_SALES_CHANNEL": CHANNEL,
           "SLACK_API_BASE_URL": slack.base_url}
    with serving_slack_channel(slack.base_url, SECRET, env) as url:
        yield url


def click(webhook: str, lead: Lead, user: str, secret: str = SECRET) -> int:
    payload = {
        "type": "block_actions", "trigger_id": uuid.uuid4().hex,
        "user": {"id": user, "name": f"name-of-{user}"},
        "channel": {"id": CHANNEL}, "message": {"ts": "1.000001", "text": "Hot lead"},
        "actions": [{"type": "button", "action_id": SALES_TAKE_ACTION,
                     "value": lead.lead_id, "action_ts": f"{time.time():.6f}"}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time()))
    return requests.post(webhook, data=body, timeout=5, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sign(secret, stamp, body),
    }).status_code


def told(slack: FakeSlack, user: str) -> list[str]:
    slack.wait_for(lambda calls: any(c.method == "chat.postEphemeral" and c.args["user"] == user
                                     for c in calls), timeout=15)
    return [c.args["text"] for c in slack.calls("chat.postEphemeral") if c.args["user"] == user]


def taker_of(engine: Engine, lead: Lead) -> str | None:
    with SqlUnitOfWork(engine) as uow:
        stored = uow.leads.get(lead.lead_id)
    return stored.taken_by.user_id if stored and stored.taken_by else None


def test_a_signed_click_takes_the_lead_and_a_second_is_refused(
    webhook: str, slack: FakeSlack, database: tuple[str, Engine]
) -> None:
    engine = database[1]
    lead = submit_lead(SqlUnitOfWork(engine), make_draft(), load_scoring_rules(sales_alerts=True))
    assert click(webhook, lead, "U1") == 200
    assert told(slack, "U1") == ["The lead is yours: the alert now says so."]
    assert taker_of(engine, lead) == "U1"
    assert click(webhook, lead, "U2") == 200
    assert told(slack, "U2")[0].startswith("Already taken by <@U1>")
    assert taker_of(engine, lead) == "U1"
    assert slack.posts() == []  # the click never reached the bot as a message


def test_an_unsigned_click_is_refused_and_takes_nothing(
    webhook: str, slack: FakeSlack, database: tuple[str, Engine]
) -> None:
    engine = database[1]
    lead = submit_lead(SqlUnitOfWork(engine), make_draft(), load_scoring_rules(sales_alerts=True))
    assert click(webhook, lead, "U3", secret="forged") == 401
    time.sleep(0.5)
    assert taker_of(engine, lead) is None
