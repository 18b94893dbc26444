"""Helpers for the scale-out, bad-input and failure suites: a model, real servers, a client.

The servers are started by `bench.launcher` (which also serves the benchmark); PostgreSQL
and Redis are the machine's (CI starts them with scripts/services.sh). Nothing here skips:
a missing service is an error, so CI cannot pass without testing what it should.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import redis

from bench.launcher import (
    PROJECT_ROOT,
    REST_WEBHOOK,
    LaunchError,
    ServerProcess,
    Stack,
    free_ports,
    http_json,
    start_stack,
)
from tests.support.project import load_domain
from tests.support.servers import REST_AUTH, model_under_test, rest_conversation

TOKEN = "e2e-token"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def credentials_file() -> Path:
    """The channel configuration under test: the project's, unless E2E_CREDENTIALS says."""
    return Path(os.environ.get("E2E_CREDENTIALS", PROJECT_ROOT / "credentials.yml"))


def model_for_tests(log_dir: Path) -> Path:
    """The model under test, chosen as for every e2e suite (`tests/support/servers.py`):
    `TEST_MODEL`, else the newest `models/*.tar.gz`; none is an error, not a skip."""
    del log_dir  # kept for call sites; the model is trained by `make train`, not here
    return model_under_test()


# ---- PostgreSQL and Redis -------------------------------------------------------------

@dataclass(frozen=True)
class PostgresDatabase:
    """A fresh database on the test PostgreSQL server."""

    host: str
    port: int
    user: str
    password: str
    name: str

    def tracker_store(self, strict: bool = True) -> dict[str, Any]:
        """Endpoint config of the tracker store on this database (ours or Rasa's plain one)."""
        return {"type": "bot.stores.StrictSQLTrackerStore" if strict else "SQL",
                "dialect": "postgresql", "url": self.host, "port": self.port,
                "db": self.name, "username": self.user, "password": self.password}

    def connect(self) -> Any:
        return psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                password=self.password, dbname=self.name, connect_timeout=5)

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        """Rows of Rasa's `events` table for one REST sender's conversation, in order."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, type_name, timestamp, data FROM events "
                        "WHERE sender_id = %s ORDER BY id", (rest_conversation(sender_id),))
            return [{"id": i, "type": t, "timestamp": ts, "data": json.loads(d)}
                    for i, t, ts, d in cur.fetchall()]


def _server_params() -> dict[str, Any]:
    parts = urlsplit(POSTGRES_URL)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
            "user": parts.username or "postgres", "password": parts.password or ""}


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[PostgresDatabase]:
    """Create a uniquely named database and drop it afterwards."""
    params = _server_params()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(dbname=urlsplit(POSTGRES_URL).path.lstrip("/") or "postgres",
                             connect_timeout=5, **params)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield PostgresDatabase(name=name, **params)
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.ping()  # fail here, clearly, when Redis is not running
    return client


def redis_lock_store(prefix: str, host: str | None = None, port: int | None = None
                     ) -> dict[str, Any]:
    """Endpoint config of our Redis lock store (as in production) with its own key prefix."""
    parts = urlsplit(REDIS_URL)
    return {"type": "bot.stores.AtomicRedisLockStore",
            "url": host or parts.hostname or "127.0.0.1",
            "port": port or parts.port or 6379, "db": int(parts.path.lstrip("/") or 0),
            "key_prefix": prefix}


# ---- servers and client ---------------------------------------------------------------

def start_assistant(model: Path, workdir: Path, name: str, *,
                    tracker_store: Mapping[str, Any] | None,
                    lock_store: Mapping[str, Any] | None = None,
                    action_port: int | None = None,
                    env: Mapping[str, str] | None = None) -> Stack:
    """Start a Rasa server (HTTP API on, with a token) and its own action server."""
    ports = free_ports(2)
    return start_stack(model, ports[0], action_port or ports[1], workdir,
                       tracker_store=tracker_store, lock_store=lock_store,
                       auth_token=TOKEN, credentials=credentials_file(), env=env, name=name)


def send(server: ServerProcess, sender: str | None, text: Any, timeout: float = 60.0,
         **extra: Any) -> tuple[int, Any]:
    """POST one message to the REST webhook; `sender=None` leaves the field out."""
    body: dict[str, Any] = {"message": text, **extra}
    if sender is not None:
        body["sender"] = sender
    status, raw = send_raw(server, json.dumps(body).encode(), timeout=timeout)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def send_raw(server: ServerProcess, body: bytes, timeout: float = 30.0,
             headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    """POST raw bytes to the REST webhook (for bodies a JSON encoder would not produce)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(server.url + REST_WEBHOOK, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              **REST_AUTH, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def tracker(server: ServerProcess, sender: str) -> dict[str, Any]:
    """A REST sender's tracker through the HTTP API (all sessions)."""
    conversation = rest_conversation(sender)
    status, body = http_json("GET", f"{server.url}/conversations/{conversation}/tracker"
                             f"?token={TOKEN}&include_events=ALL")
    assert status == 200, f"tracker of {sender}: HTTP {status} {body}"
    assert isinstance(body, dict)
    return body


def texts(replies: Any) -> list[str]:
    """The text messages of a webhook reply (images and custom payloads have none)."""
    return [str(r["text"]) for r in replies or [] if isinstance(r, dict) and r.get("text")]


def new_sender(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def assert_serving(server: ServerProcess) -> None:
    """A fresh conversation still gets a reply: the server survived what came before."""
    status, body = send(server, new_sender("alive"), "hello")
    assert status == 200 and texts(body), f"server stopped serving: HTTP {status} {body}"


def user_events(track: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [e for e in track["events"] if e.get("event") == "user"]


def bot_texts_by_turn(track: Mapping[str, Any]) -> list[list[str]]:
    """Bot texts that followed each user message, turn by turn.

    One bot event can reach a channel as several messages (text, then a custom payload),
    so only the texts are compared with what the webhook returned.
    """
    turns: list[list[str]] = []
    for event in track["events"]:
        if event.get("event") == "user":
            turns.append([])
        elif event.get("event") == "bot" and turns and event.get("text"):
            turns[-1].append(str(event["text"]))
    return turns


# ---- a TCP proxy standing in for a database that goes away ----------------------------

class TcpProxy:
    """Forwards a loopback port to a service; `down()` drops every connection and refuses
    new ones, `up()` accepts again. To the Rasa server this looks exactly like the
    service restarting, without touching the PostgreSQL or Redis that others use."""

    def __init__(self, listen_port: int, target: tuple[str, int]) -> None:
        self.listen_port = listen_port
        self.target = target
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closing = False

    def up(self) -> None:
        """Start accepting connections (again)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.listen_port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Close the listener and cut every open connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept() on Linux.
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def wait_for(predicate: Any, timeout: float, message: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(message)


__all__ = ["LaunchError", "Stack"]


# Unclear messages end in the fallback action on the action server; the payload is the
# last resort when the classifier is confident even about gibberish.
UNCLEAR_CANDIDATES = ("blorp fizzwick quandle", "zzkq vrrp plonk",
                      "the weather on mars is purple", "/nlu_fallback")


def actions_after_last_user(track: Mapping[str, Any]) -> list[str]:
    events = list(track["events"])
    last = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return [str(e.get("name")) for e in events[last + 1:]
            if e.get("event") == "action" and e.get("name") != "action_listen"]


def custom_actions() -> set[str]:
    """Actions of the domain that run on the action server."""
    # An entry is a name, or {name: options} (`send_domain: true`, issue 14).
    names = {str(next(iter(a))) if isinstance(a, dict) else str(a)
             for a in load_domain().get("actions") or []}
    return {name for name in names if not name.startswith("utter_")}


def text_running_a_custom_action(server: ServerProcess) -> str:
    """A message whose turn calls the action server (the fallback with topic buttons)."""
    custom = custom_actions()
    seen = {}
    for text in UNCLEAR_CANDIDATES:
        sender = new_sender("probe")
        status, _ = send(server, sender, text)
        assert status == 200
        seen[text] = actions_after_last_user(tracker(server, sender))
        if custom & set(seen[text]):
            return text
    raise AssertionError(f"no candidate message reaches the action server: {seen}")
