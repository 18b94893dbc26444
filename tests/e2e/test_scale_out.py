"""Two Rasa replicas sharing PostgreSQL (tracker store) and Redis (lock store).

One conversation hops between the replicas turn by turn, and twenty messages of one
conversation arrive at both replicas at once; either way every event must be stored
once, in order, each turn complete before the next one starts. Uses the production
tracker store class (`bot.rasa.tracker_store.StrictSQLTrackerStore`) and Rasa's Redis lock store.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.launcher import (
    ServerProcess,
    new_sender,
    start_action_server,
    start_rasa_server,
    write_endpoints,
)
from tests.e2e.stack import bot_texts_by_turn, send, texts, tracker, user_events
from tests.support.databases import (
    PostgresDatabase,
    fresh_postgres_database,
    redis_client,
    redis_lock_store,
)
from tests.support.project import load_domain
from tests.support.servers import API_TOKEN, credentials_file, free_port, model_under_test

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.timeout(900)]

FAQ_TURNS = (
    "hello",
    "what is the difference between a virtual machine and a container?",
    "are containers as isolated as virtual machines?",
    "blorp fizzwick quandle",  # unclear: the fallback action on the action server
    "can I run windows in a container?",
    "thanks",
)
FORM_NAME = "advisor_form"
FORM_TRIGGER = "/ask_use_case_recommendation"
MAX_FORM_STEPS = 12


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scale-out")


@pytest.fixture(scope="module")
def database() -> Iterator[PostgresDatabase]:
    with fresh_postgres_database("test_scale") as db:
        yield db


@pytest.fixture(scope="module")
def replicas(workdir: Path, database: PostgresDatabase
             ) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two Rasa servers (one PostgreSQL database, one Redis key prefix), one action server."""
    model = model_under_test()
    client = redis_client()
    prefix = "scale" + uuid.uuid4().hex[:8]
    rasa_a, rasa_b, action_port = free_port(), free_port(), free_port()
    endpoints = write_endpoints(workdir / "endpoints.yml", action_port,
                                database.tracker_store(), redis_lock_store(prefix))
    actions = start_action_server(action_port, workdir / "actions.log", data_dir=workdir)
    servers: list[ServerProcess] = []
    try:
        actions.wait_ready(120.0)
        # Both start at once, as replicas do; they race to create the tables.
        # Twenty turns queued on one conversation's lock take longer than the channel's
        # "taking longer than usual" limit (tested in test_failures.py); here every
        # request must wait for its own answer, so the limit is raised.
        servers = [start_rasa_server(model, port, endpoints, workdir / f"rasa-{port}.log",
                                     credentials=credentials_file(), auth_token=API_TOKEN,
                                     env={"TURN_TIMEOUT_SECONDS": "300"})
                   for port in (rasa_a, rasa_b)]
        for server in servers:
            server.wait_ready(600.0)
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()
        actions.stop()
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def _first_button_payload(replies: list[dict[str, Any]]) -> str | None:
    for reply in reversed(replies):
        for button in reply.get("buttons") or []:
            if button.get("payload"):
                return str(button["payload"])
    return None


def _assert_stored_once_in_order(database: PostgresDatabase, sender: str,
                                 track: dict[str, Any]) -> None:
    rows = database.events(sender)
    keys = [(r["type"], r["timestamp"], json.dumps(r["data"], sort_keys=True)) for r in rows]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates, f"events stored twice: {sorted(duplicates)[:3]}"
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps), "stored events are out of order"
    assert len(rows) == len(track["events"]), (
        f"{len(rows)} rows in PostgreSQL, {len(track['events'])} events in the tracker")


def _turn_events(track: dict[str, Any], turn: int) -> list[dict[str, Any]]:
    events = track["events"]
    starts = [i for i, e in enumerate(events) if e.get("event") == "user"] + [len(events)]
    return [{k: e.get(k) for k in ("event", "name", "text")}
            for e in events[starts[turn]:starts[turn + 1]]]


def _assert_turns_complete(track: dict[str, Any]) -> None:
    """Each user message is followed by its whole turn, ending in `action_listen`."""
    events = track["events"]
    starts = [i for i, e in enumerate(events) if e.get("event") == "user"]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(events)
        actions = [e.get("name") for e in events[start + 1:end] if e.get("event") == "action"]
        assert actions and actions[-1] == "action_listen", (
            f"turn {n} ({events[start].get('text')!r}) did not finish before the next "
            f"message: actions {actions}")
        assert actions.count("action_listen") == 1, f"turn {n} interleaved: {actions}"


def test_one_conversation_alternating_between_replicas_keeps_every_event_once(
    replicas: tuple[ServerProcess, ServerProcess], database: PostgresDatabase,
) -> None:
    servers = itertools.cycle(replicas)
    sender = new_sender("hop")
    sent: list[str] = []
    answers: list[list[str]] = []
    raw: list[Any] = []

    def turn(text: str) -> list[dict[str, Any]]:
        server = next(servers)
        status, body = send(server, sender, text, timeout=120.0)  # slow shared CI boxes
        assert status == 200, f"{server.url}: HTTP {status} {body}"
        assert texts(body), f"no reply from {server.url} to {text!r}"
        sent.append(text)
        answers.append(texts(body))
        raw.append(body)
        return list(body)

    for text in FAQ_TURNS:
        turn(text)

    form_run = FORM_NAME in (load_domain().get("forms") or {})
    if form_run:
        replies = turn(FORM_TRIGGER)
        for _ in range(MAX_FORM_STEPS):
            if tracker(replicas[0], sender).get("active_loop", {}).get("name") != FORM_NAME:
                break
            payload = _first_button_payload(replies)
            assert payload, f"{FORM_NAME} asks without buttons: {texts(replies)}"
            replies = turn(payload)
        loops = [e.get("name") for e in tracker(replicas[1], sender)["events"]
                 if e.get("event") == "active_loop"]
        assert FORM_NAME in loops and loops[-1] is None, f"form did not complete: {loops}"

    track_a, track_b = tracker(replicas[0], sender), tracker(replicas[1], sender)
    assert track_a["events"] == track_b["events"], "the replicas see different trackers"
    assert [e.get("text") for e in user_events(track_a)] == sent
    stored_answers = bot_texts_by_turn(track_a)
    for n, (stored, answered) in enumerate(zip(stored_answers, answers, strict=True)):
        assert stored == answered, (f"turn {n} ({sent[n]!r}): stored {stored} != sent "
                                    f"{answered}; response {raw[n]}; events "
                                    f"{_turn_events(track_a, n)}")
    _assert_turns_complete(track_a)
    _assert_stored_once_in_order(database, sender, track_a)


def test_twenty_concurrent_messages_are_processed_one_at_a_time(
    replicas: tuple[ServerProcess, ServerProcess], database: PostgresDatabase,
) -> None:
    sender = new_sender("burst")
    messages = [f"question {n}: how do containers differ from virtual machines?"
                for n in range(20)]
    # Open the conversation first so that all twenty race on an existing tracker.
    status, _ = send(replicas[0], sender, "hello")
    assert status == 200
    start = threading.Barrier(len(messages))

    def fire(n: int) -> tuple[int, Any]:
        start.wait(timeout=30)
        return send(replicas[n % 2], sender, messages[n], timeout=120.0)

    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        results = list(pool.map(fire, range(len(messages))))

    assert [status for status, _ in results] == [200] * len(messages), results
    track = tracker(replicas[0], sender)
    received = [str(e.get("text")) for e in user_events(track)][1:]
    assert sorted(received) == sorted(messages), "a message was lost or stored twice"
    _assert_turns_complete(track)
    # Each answer went back to the request that asked, not to a neighbour's turn.
    by_text = dict(zip(received, bot_texts_by_turn(track)[1:], strict=True))
    for message, (_, body) in zip(messages, results, strict=True):
        assert texts(body) == by_text[message], f"answers of {message!r} got mixed up"
    _assert_stored_once_in_order(database, sender, track)
