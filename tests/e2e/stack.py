"""The e2e suites' client side: the REST channel, trackers through the HTTP API, and a
TCP proxy standing in for a database that goes away.

The servers themselves are started by `bot.launcher` (with the suites' defaults of
tests/support/servers.py); PostgreSQL and Redis come from tests/support/databases.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from bot.launcher import REST_WEBHOOK, ServerProcess, http_json, new_sender
from tests.support.project import load_domain
from tests.support.servers import API_TOKEN, REST_AUTH, rest_conversation


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
                             f"?token={API_TOKEN}&include_events=ALL")
    assert status == 200, f"tracker of {sender}: HTTP {status} {body}"
    assert isinstance(body, dict)
    return body


def texts(replies: Any) -> list[str]:
    """The text messages of a webhook reply (images and custom payloads have none)."""
    return [str(r["text"]) for r in replies or [] if isinstance(r, dict) and r.get("text")]


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
