"""A CRM stand-in: a real HTTP server on 127.0.0.1 for the delivery tests.

It speaks enough of two dialects:

- HubSpot CRM v3 contacts: `POST /crm/v3/objects/contacts` (bearer token; 201, or 409
  "Contact already exists. Existing ID: N" for a known email),
  `GET`/`PATCH /crm/v3/objects/contacts/{id}` or `/{email}?idProperty=email`,
  `POST /crm/v3/objects/contacts/gdpr-delete`, and notes associated with a contact
  (`POST /crm/v3/objects/notes`, `DELETE /crm/v3/objects/notes/{id}`).
- A webhook receiver, `POST /webhook`: checks `X-Signature: sha256=<hmac>` over the
  body with the shared secret (401 otherwise) and keeps one record per
  `Idempotency-Key` (a replay is answered 200 and not stored again); a signed
  `{"event": "lead.erased", "lead_id": ...}` deletes the records of that lead.
- `POST /moved` answers 301 to `/health` (a CRM URL that redirects).

Faults, to script (`fail_next`) or to draw at random (`failure_rate`): HTTP 500 and 400,
503 and 429 with `Retry-After`, slow answers, dropped connections, each either before
the request takes effect or after it (the CRM stored the lead but the answer is lost).
`down = True` makes it refuse everything, like a CRM outage. Everything received is
recorded.

Run it by hand for `rasa shell` demos:
    python -m tests.support.crm_standin --port 5290 --secret s3cret
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import itertools
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CONTACTS_PATH = "/crm/v3/objects/contacts"
GDPR_DELETE_PATH = CONTACTS_PATH + "/gdpr-delete"
NOTES_PATH = "/crm/v3/objects/notes"
WEBHOOK_PATH = "/webhook"
MOVED_PATH = "/moved"

# Faults. "*_after" ones let the request take effect first, then lose the answer.
FAULTS_BEFORE = ("500", "503", "429", "drop", "slow")
FAULTS_AFTER = ("500_after", "drop_after", "slow_after")
ALL_RANDOM_FAULTS = FAULTS_BEFORE + FAULTS_AFTER


@dataclass
class Received:
    """One request as the stand-in saw it, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answer: str  # e.g. "201", "409", "fault:drop", "fault:500_after"

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class CrmState:
    """What the CRM holds and has seen (guarded by `lock`)."""

    token: str = "test-token"
    secret: str = "test-secret"
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[Received] = field(default_factory=list)
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> properties
    contact_writes: dict[str, int] = field(default_factory=dict)  # id -> creates+updates
    webhook_records: dict[str, Any] = field(default_factory=dict)  # key -> payload
    webhook_replays: int = 0
    webhook_erasures: list[str] = field(default_factory=list)  # erased lead ids
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> note
    gdpr_deleted: list[str] = field(default_factory=list)  # contact ids
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))
    # faults
    down: bool = False
    failure_rate: float = 0.0
    random_faults: tuple[str, ...] = ALL_RANDOM_FAULTS
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    scripted: list[str] = field(default_factory=list)
    retry_after: str = "1"
    slow_seconds: float = 2.0

    def next_fault(self) -> str | None:
        with self.lock:
            if self.down:
                return "503"
            if self.scripted:
                return self.scripted.pop(0)
            if self.failure_rate and self.rng.random() < self.failure_rate:
                return self.rng.choice(self.random_faults)
        return None

    def contact_by_email(self, email: str) -> str | None:
        wanted = email.strip().lower()
        for contact_id, properties in self.contacts.items():
            if properties.get("email", "").lower() == wanted:
                return contact_id
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: no stale keep-alives

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        return

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        path = self.path
        fault = state.next_fault() if method not in ("GET", "DELETE") else None

        def record(answer: str) -> None:
            with state.lock:
                state.received.append(Received(method, path, headers, body, answer))

        if fault in ("drop", "slow", "500", "503", "429", "400"):
            record(f"fault:{fault}")
            self._fault(fault)
            return
        status, payload, extra = self._apply(method, path, headers, body)
        if fault in ("500_after", "drop_after", "slow_after"):
            record(f"fault:{fault}")
            self._fault(fault.replace("_after", ""))
            return
        record(str(status))
        self._send(status, payload, extra)

    # --- the CRM's behaviour -------------------------------------------------------

    def _apply(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        url = urlsplit(path)
        if method == "GET" and url.path == "/health":
            return 200, {"status": "ok"}, {}
        if url.path == WEBHOOK_PATH and method == "POST":
            return self._webhook(headers, body)
        if url.path == MOVED_PATH:
            return 301, {"moved": True}, {"Location": "/health"}
        if url.path.startswith((CONTACTS_PATH, NOTES_PATH)):
            if headers.get("Authorization") != f"Bearer {state.token}":
                return 401, {"status": "error", "category": "INVALID_AUTHENTICATION"}, {}
            if method in ("GET", "DELETE"):
                return self._read_or_delete(method, url.path, parse_qs(url.query))
            try:
                document = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                return 400, {"status": "error", "category": "VALIDATION_ERROR"}, {}
            if method == "POST" and url.path == GDPR_DELETE_PATH:
                return self._gdpr_delete(document)
            if method == "POST" and url.path == NOTES_PATH:
                return self._add_note(document)
            properties = document.get("properties") if isinstance(document, dict) else None
            if not isinstance(properties, dict):
                return 400, {"status": "error", "category": "VALIDATION_ERROR"}, {}
            if method == "POST" and url.path == CONTACTS_PATH:
                return self._create(properties)
            if method == "PATCH":
                key = unquote(url.path[len(CONTACTS_PATH) + 1:])
                by_email = parse_qs(url.query).get("idProperty") == ["email"]
                return self._update(key, by_email, properties)
        return 404, {"status": "error", "message": "not found"}, {}

    def _read_or_delete(
        self, method: str, path: str, query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        with state.lock:
            if method == "DELETE" and path.startswith(NOTES_PATH + "/"):
                note_id = unquote(path[len(NOTES_PATH) + 1:])
                if state.notes.pop(note_id, None) is None:
                    return 404, {"status": "error", "message": "note not found"}, {}
                return 204, None, {}
            if method == "GET" and path.startswith(CONTACTS_PATH + "/"):
                key = unquote(path[len(CONTACTS_PATH) + 1:])
                by_email = query.get("idProperty") == ["email"]
                contact_id = state.contact_by_email(key) if by_email else key
                if contact_id is None or contact_id not in state.contacts:
                    return 404, {"status": "error", "message": "contact not found"}, {}
                return 200, {"id": contact_id,
                             "properties": dict(state.contacts[contact_id])}, {}
        return 404, {"status": "error", "message": "not found"}, {}

    def _gdpr_delete(self, document: Any) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        object_id = str(document.get("objectId", "")) if isinstance(document, dict) else ""
        by_email = isinstance(document, dict) and document.get("idProperty") == "email"
        with state.lock:
            contact_id = state.contact_by_email(object_id) if by_email else object_id
            if contact_id is None or contact_id not in state.contacts:
                return 404, {"status": "error", "message": "contact not found"}, {}
            del state.contacts[contact_id]
            state.gdpr_deleted.append(contact_id)
            for note_id in [n for n, note in state.notes.items()
                            if note["contact_id"] == contact_id]:
                del state.notes[note_id]
        return 204, None, {}

    def _add_note(self, document: Any) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        try:
            properties = dict(document["properties"])
            contact_id = str(document["associations"][0]["to"]["id"])
        except (KeyError, IndexError, TypeError, ValueError):
            return 400, {"status": "error", "category": "VALIDATION_ERROR"}, {}
        with state.lock:
            if contact_id not in state.contacts:
                return 404, {"status": "error", "message": "contact not found"}, {}
            note_id = str(next(state.ids))
            state.notes[note_id] = {"contact_id": contact_id, "properties": properties}
        return 201, {"id": note_id, "properties": properties}, {}

    def _create(self, properties: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        email = properties.get("email", "")
        if not email:
            return 400, {"status": "error", "message": "email is required"}, {}
        with state.lock:
            existing = state.contact_by_email(email)
            if existing is not None:
                return 409, {
                    "status": "error",
                    "message": f"Contact already exists. Existing ID: {existing}",
                    "category": "CONFLICT",
                }, {}
            contact_id = str(next(state.ids))
            state.contacts[contact_id] = dict(properties)
            state.contact_writes[contact_id] = 1
        return 201, {"id": contact_id, "properties": properties}, {}

    def _update(
        self, key: str, by_email: bool, properties: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        with state.lock:
            contact_id = state.contact_by_email(key) if by_email else key
            if contact_id is None or contact_id not in state.contacts:
                return 404, {"status": "error", "message": "contact not found"}, {}
            state.contacts[contact_id].update(properties)
            state.contact_writes[contact_id] += 1
        return 200, {"id": contact_id, "properties": state.contacts[contact_id]}, {}

    def _webhook(self, headers: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        expected = "sha256=" + hmac.new(
            state.secret.encode("utf-8"), body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-Signature", "")):
            return 401, {"error": "bad signature"}, {}
        key = headers.get("Idempotency-Key", "")
        if not key:
            return 400, {"error": "Idempotency-Key missing"}, {}
        try:
            payload = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "not JSON"}, {}
        with state.lock:
            if key in state.webhook_records:
                state.webhook_replays += 1
                return 200, {"status": "duplicate ignored"}, {"X-Record-Id": key}
            if isinstance(payload, dict) and payload.get("event") == "lead.erased":
                lead_id = payload.get("lead_id")
                for record_key in [k for k, v in state.webhook_records.items()
                                   if isinstance(v, dict) and v.get("lead_id") == lead_id
                                   and v.get("event") != "lead.erased"]:
                    del state.webhook_records[record_key]
                state.webhook_erasures.append(str(lead_id))
            state.webhook_records[key] = payload
        return 201, {"status": "stored"}, {"X-Record-Id": key}

    # --- answering -----------------------------------------------------------------

    def _fault(self, fault: str) -> None:
        state = self.server.state
        if fault == "drop":
            # Close without a word: the client sees the connection reset or closed.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "slow":
            time.sleep(state.slow_seconds)
            self._send(200, {"status": "too late"}, {})
            return
        if fault in ("503", "429"):
            self._send(int(fault), {"status": "error", "message": "try later"},
                       {"Retry-After": state.retry_after})
            return
        self._send(int(fault), {"status": "error", "message": f"injected {fault}"}, {})

    def _send(self, status: int, payload: Any, extra: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout); nothing to do


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: CrmState

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # dropped connections are intended; keep test output clean


class CrmStandIn:
    """Start with `with CrmStandIn() as crm:`; `crm.url` is its address."""

    def __init__(self, port: int = 0, token: str = "test-token", secret: str = "test-secret"):
        self.state = CrmState(token=token, secret=secret)
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def __enter__(self) -> CrmStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what the tests look at ------------------------------------------------------

    def fail_next(self, *faults: str) -> None:
        """Apply these faults to the next requests, in order."""
        with self.state.lock:
            self.state.scripted.extend(faults)

    def received(self, method: str | None = None) -> list[Received]:
        with self.state.lock:
            return [r for r in self.state.received if method in (None, r.method)]

    def contacts_with(self, prop: str, value: str) -> list[dict[str, str]]:
        with self.state.lock:
            return [dict(c) for c in self.state.contacts.values() if c.get(prop) == value]

    def lead_copies(self) -> dict[str, int]:
        """How many records the CRM holds per lead id (1 everywhere means no duplicates)."""
        counts: dict[str, int] = {}
        with self.state.lock:
            for contact in self.state.contacts.values():
                lead_id = contact.get("cloud_advisor_lead_id", "")
                counts[lead_id] = counts.get(lead_id, 0) + 1
            for payload in self.state.webhook_records.values():
                if payload.get("event") == "lead.erased":
                    continue
                lead_id = payload.get("lead_id", "")
                counts[lead_id] = counts.get(lead_id, 0) + 1
        return counts


def main() -> None:  # pragma: no cover - manual demo
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5290)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--secret", default="test-secret")
    args = parser.parse_args()
    with CrmStandIn(args.port, args.token, args.secret) as crm:
        print(f"CRM stand-in on {crm.url} (HubSpot at {crm.url}, webhook at {crm.webhook_url})")
        seen = 0
        try:
            while True:
                time.sleep(0.5)
                received = crm.received()
                for r in received[seen:]:
                    print(f"{r.method} {r.path} -> {r.answer}\n  {r.body.decode('utf-8')}")
                seen = len(received)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
