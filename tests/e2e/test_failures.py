"""What the visitor and the operator see when a part of the system fails.

- The action server down or frozen: the visitor gets a friendly message, not silence,
  and the conversation resumes when the action server is back.
- PostgreSQL (tracker store) or Redis (lock store) going away mid-conversation: noticed
  and logged, never papered over with an in-memory tracker; after a restart the
  conversation continues with its context.
- PostgreSQL unreachable at start: the Rasa server refuses to start and says why.

The databases are the machine's shared PostgreSQL and Redis, reached through a TCP proxy
that the tests cut and restore, which is what a restart looks like from the Rasa server.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.launcher import (
    ServerProcess,
    Stack,
    free_ports,
    new_sender,
    sqlite_tracker_store,
    start_rasa_server,
    write_endpoints,
)
from tests.e2e.stack import (
    TcpProxy,
    actions_after_last_user,
    custom_actions,
    send,
    text_running_a_custom_action,
    texts,
    tracker,
    user_events,
)
from tests.support.databases import (
    PostgresDatabase,
    fresh_postgres_database,
    redis_client,
    redis_lock_store,
)
from tests.support.servers import (
    API_TOKEN,
    credentials_file,
    free_port,
    model_under_test,
    start_servers,
)

pytestmark = [pytest.mark.server, pytest.mark.timeout(900)]

# A visitor waits this long at most for an answer, whatever is broken behind it.
MAX_WAIT_S = 30.0
CONTEXT_TURNS = ("hello", "what is the difference between a virtual machine and a container?")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("failures")


@pytest.fixture(scope="module")
def model() -> Path:
    return model_under_test()


def _converse(server: ServerProcess, sender: str, turns: tuple[str, ...]) -> None:
    for text in turns:
        status, body = send(server, sender, text)
        assert status == 200 and texts(body), f"{text!r}: HTTP {status} {body}"


def _sessions(track: dict[str, Any]) -> int:
    return sum(1 for e in track["events"] if e.get("event") == "session_started")


# ---- the action server ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def embedded(model: Path, workdir: Path) -> Iterator[Stack]:
    with start_servers(workdir, model=model, name="actions-fail", auth_token=API_TOKEN,
                       tracker_store=sqlite_tracker_store(workdir / "tracker.db")) as stack:
        yield stack


def _restart_actions(stack: Stack) -> None:
    stack.actions.restart()
    stack.actions.wait_ready(120.0)


def test_action_server_down_gets_a_friendly_message_and_the_conversation_resumes(
    embedded: Stack,
) -> None:
    server = embedded.rasa
    unclear = text_running_a_custom_action(server)
    sender = new_sender("nodeps")
    _converse(server, sender, CONTEXT_TURNS)
    embedded.actions.stop()
    try:
        status, body = send(server, sender, unclear, timeout=MAX_WAIT_S)
        assert status in (200, 503), f"HTTP {status} {body}"
        assert texts(body), "the visitor got silence while the action server was down"
    finally:
        _restart_actions(embedded)
    status, body = send(server, sender, unclear)
    assert status == 200 and texts(body)
    track = tracker(server, sender)
    assert custom_actions() & set(actions_after_last_user(track)), "custom action did not run"
    sent = [e.get("text") for e in user_events(track)]
    assert sent[:len(CONTEXT_TURNS)] == list(CONTEXT_TURNS) and sent[-1] == unclear
    assert _sessions(track) == 1, "the conversation was restarted"


def test_a_frozen_action_server_does_not_leave_the_visitor_waiting(
    embedded: Stack, workdir: Path,
) -> None:
    server = embedded.rasa
    unclear = text_running_a_custom_action(server)
    sender = new_sender("slowdeps")
    _converse(server, sender, CONTEXT_TURNS)
    embedded.actions.pause()  # accepts connections, never answers
    started = time.monotonic()
    try:
        try:
            status, body = send(server, sender, unclear, timeout=MAX_WAIT_S)
        except OSError:  # the client gave up: a timeout
            status, body = 0, None
        waited = time.monotonic() - started
        assert status in (200, 503) and texts(body), (
            f"no answer within {MAX_WAIT_S:.0f} s while the action server was frozen "
            f"(HTTP {status}, waited {waited:.0f} s)")
    finally:
        embedded.actions.resume()
    status, body = send(server, sender, "what is a container?", timeout=120.0)
    assert status == 200 and texts(body), "the conversation did not resume"


# ---- PostgreSQL and Redis behind a proxy we can cut ---------------------------------------

@pytest.fixture(scope="module")
def database() -> Iterator[PostgresDatabase]:
    with fresh_postgres_database("test_failures") as db:
        yield db


@pytest.fixture(scope="module")
def proxies(database: PostgresDatabase) -> Iterator[dict[str, TcpProxy]]:
    redis_client()  # fail now, clearly, if Redis is not running
    pg_port, redis_port = free_ports(2, start=5480)
    made = {"postgres": TcpProxy(pg_port, (database.host, database.port)),
            "redis": TcpProxy(redis_port, ("127.0.0.1", 6379))}
    for proxy in made.values():
        proxy.up()
    yield made
    for proxy in made.values():
        proxy.down()


@pytest.fixture(scope="module")
def production(model: Path, workdir: Path, database: PostgresDatabase,
               proxies: dict[str, TcpProxy]) -> Iterator[Stack]:
    """The production stores (strict SQL tracker store, Redis locks) behind the proxies."""
    store = {**database.tracker_store(strict=True), "port": proxies["postgres"].listen_port,
             "retries": 3, "retry_wait_s": 0.3}
    locks = redis_lock_store("failures" + uuid.uuid4().hex[:8],
                             port=proxies["redis"].listen_port)
    with start_servers(workdir, model=model, name="stores-fail", auth_token=API_TOKEN,
                       tracker_store=store, lock_store=locks) as stack:
        yield stack


def _log(server: ServerProcess) -> str:
    assert server.log_path is not None
    return server.log_path.read_text(errors="replace")


def test_postgres_restart_goes_unnoticed_by_the_visitor(
    production: Stack, proxies: dict[str, TcpProxy], database: PostgresDatabase,
) -> None:
    server = production.rasa
    sender = new_sender("pgrestart")
    _converse(server, sender, CONTEXT_TURNS)
    proxies["postgres"].down()  # every pooled connection is cut, as by a restart
    proxies["postgres"].up()
    status, body = send(server, sender, "and which one is cheaper?")
    assert status == 200 and texts(body)
    track = tracker(server, sender)
    assert [e.get("text") for e in user_events(track)] == [*CONTEXT_TURNS,
                                                           "and which one is cheaper?"]
    assert _sessions(track) == 1, "the restart started a new conversation"
    assert len(database.events(sender)) == len(track["events"]), "events missing in PostgreSQL"


def test_postgres_outage_is_reported_and_never_replaced_by_memory(
    production: Stack, proxies: dict[str, TcpProxy], database: PostgresDatabase,
) -> None:
    server = production.rasa
    sender = new_sender("pgdown")
    _converse(server, sender, CONTEXT_TURNS)
    log_before = len(_log(server))
    proxies["postgres"].down()
    try:
        send(server, sender, "this turn happens during the outage", timeout=MAX_WAIT_S)
        logged = _log(server)[log_before:]
        assert "database unavailable" in logged.lower(), "the outage was not logged"
        # Rasa's FailSafeTrackerStore logs this when it carries on in memory.
        assert "InMemoryTrackerStore" not in logged, "continued with an in-memory tracker"
    finally:
        proxies["postgres"].up()
    status, body = send(server, sender, "and which one is cheaper?")
    assert status == 200 and texts(body)
    track = tracker(server, sender)
    # Nothing of the outage turn was kept anywhere, and the context survived.
    assert [e.get("text") for e in user_events(track)] == [*CONTEXT_TURNS,
                                                           "and which one is cheaper?"]
    assert _sessions(track) == 1, "a fresh in-memory conversation replaced the real one"
    assert len(database.events(sender)) == len(track["events"])


def test_redis_outage_is_reported_and_the_conversation_resumes(
    production: Stack, proxies: dict[str, TcpProxy],
) -> None:
    server = production.rasa
    sender = new_sender("redisdown")
    _converse(server, sender, CONTEXT_TURNS)
    log_before = len(_log(server))
    proxies["redis"].down()
    try:
        send(server, sender, "this turn happens without redis", timeout=MAX_WAIT_S)
        logged = _log(server)[log_before:].lower()
        assert "redis" in logged or "connection" in logged, "the Redis outage was not logged"
    finally:
        proxies["redis"].up()
    status, body = send(server, sender, "and which one is cheaper?")
    assert status == 200 and texts(body)
    track = tracker(server, sender)
    stored = [e.get("text") for e in user_events(track)]
    assert stored[:len(CONTEXT_TURNS)] == list(CONTEXT_TURNS)
    assert stored[-1] == "and which one is cheaper?"
    assert "this turn happens without redis" not in stored, "processed without a lock"
    assert _sessions(track) == 1


def test_rasa_refuses_to_start_without_its_database(model: Path, workdir: Path,
                                                   database: PostgresDatabase) -> None:
    (closed_port,) = free_ports(1, start=5490)
    store = {**database.tracker_store(strict=True), "port": closed_port,
             "connect_timeout_s": 3}
    endpoints = write_endpoints(workdir / "nodb-endpoints.yml", closed_port + 1, store)
    rasa = start_rasa_server(model, free_port(), endpoints, workdir / "nodb-rasa.log",
                             credentials=credentials_file(), auth_token=API_TOKEN)
    try:
        deadline = time.monotonic() + 180
        while rasa.alive() and time.monotonic() < deadline:
            status = None
            with contextlib.suppress(OSError):
                status = send(rasa, new_sender("nodb"), "hello", timeout=2)[0]
            assert status is None, f"started without its database (HTTP {status})"
            time.sleep(1)
        assert not rasa.alive(), "still running without its database after 180 s"
        assert rasa.popen.returncode != 0
        assert "Refusing to start" in _log(rasa)
    finally:
        rasa.stop()
