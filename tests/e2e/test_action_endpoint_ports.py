"""The action server and Rasa on non-default ports, wired by the settings alone.

The project's own endpoints.yml (`url: ${ACTION_SERVER_URL}`), the action server told
its port by ACTIONS_PORT only, and the Rasa server given the URL that bot/settings.py
derives from it, as scripts/run.sh does. Before issue 14 endpoints.yml named port 5055,
and with any other ACTIONS_PORT every custom action failed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.turns import TURN_FAILED_TEXT
from bot.launcher import REST_WEBHOOK, ServerProcess, http_json, running_stack
from tests.support.servers import REST_AUTH, free_port, model_under_test, rest_conversation

pytestmark = [pytest.mark.server, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORTS = (5005, 5055)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess,
                                                                     ServerProcess]]:
    workdir = tmp_path_factory.mktemp("ports")
    action_port, rasa_port = free_port(), free_port()
    assert action_port not in DEFAULT_PORTS and rasa_port not in DEFAULT_PORTS
    # The project's file, only its tracker database moved (as scripts/test.sh does).
    text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
    assert "url: ${ACTION_SERVER_URL}" in text
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(text.replace("var/tracker.db", str(workdir / "tracker.db")),
                         encoding="utf-8")
    # The launcher gives the Rasa server the URL bot/settings.py derives from the port.
    with running_stack(model_under_test(), workdir, ports=(rasa_port, action_port),
                       endpoints=endpoints, auth_token="ports-token",
                       ready_timeout=600.0) as stack:
        assert stack.rasa.env["ACTION_SERVER_URL"] == f"http://127.0.0.1:{action_port}/webhook"
        yield stack.actions, stack.rasa


def test_a_custom_action_turn_reaches_the_action_server_on_its_port(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    actions, rasa = pair
    sender = f"ports-{uuid.uuid4().hex[:12]}"
    status, body = http_json("POST", rasa.url + REST_WEBHOOK,
                             {"sender": sender, "message": "/ask_use_case_recommendation"},
                             timeout=120, headers=REST_AUTH)
    logs = f"--- rasa ---\n{rasa.log_tail()}\n--- actions ---\n{actions.log_tail()}"
    assert status == 200, f"{body}\n{logs}"
    texts = [str(m.get("text", "")) for m in body]
    assert TURN_FAILED_TEXT not in texts, logs
    # Rasa asks the first question only after validate_advisor_form, which only the
    # action server runs, named it: its buttons prove the call got there and back.
    payloads = [b["payload"] for m in body for b in m.get("buttons", [])]
    assert any('"isolation"' in p for p in payloads), f"{body}\n{logs}"

    status, tracker = http_json(
        "GET", f"{rasa.url}/conversations/{rest_conversation(sender)}/tracker"
        "?token=ports-token")
    assert status == 200
    ran = [e["name"] for e in tracker["events"] if e["event"] == "action"]
    assert "advisor_form" in ran
    assert all(e["event"] != "action_execution_rejected" for e in tracker["events"])
