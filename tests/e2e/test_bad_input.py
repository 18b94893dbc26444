"""Bad input against the running server, through the REST webhook.

Every odd request gets a clear answer (a reply, or a 4xx with a reason), the server keeps
serving, and a conversation that was going on meanwhile is untouched. The channel guards
(size limit, rate limit, CORS, payload restriction) are checked here end to end.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.launcher import REST_WEBHOOK, ServerProcess, Stack, http_json, new_sender
from tests.e2e.stack import (
    assert_serving,
    send,
    send_raw,
    texts,
    tracker,
    user_events,
)
from tests.support.project import load_domain
from tests.support.servers import API_TOKEN, REST_AUTH, credentials_file, start_servers

pytestmark = [pytest.mark.server, pytest.mark.timeout(600)]

MAX_CHARS = 2000
RATE_LIMIT = 8
ALLOWED_ORIGIN = "https://allowed.example"
EVIL_ORIGIN = "https://evil.example"
SECRET_EMAIL = "jane.doe.test@example.com"
# Slots a visitor must never set by typing a payload: contact details and consent.
_PROTECTED = re.compile(r"email|consent|name|phone|company|contact|lead", re.I)
# Rasa's own bookkeeping slots, which change on every turn.
_BOOKKEEPING = {"requested_slot", "session_started_metadata"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("bad-input")
    started = start_servers(
        workdir, name="bad-input", auth_token=API_TOKEN,
        tracker_store={"type": "SQL", "dialect": "sqlite", "db": str(workdir / "tracker.db")},
        env={"MAX_MESSAGE_CHARS": str(MAX_CHARS), "RATE_LIMIT_MESSAGES": str(RATE_LIMIT),
             "RATE_LIMIT_WINDOW_SECONDS": "60", "ALLOWED_ORIGINS": ALLOWED_ORIGIN})
    yield started
    started.stop()


@pytest.fixture(scope="module")
def server(stack: Stack) -> ServerProcess:
    return stack.rasa


@pytest.fixture(scope="module")
def bystander(server: ServerProcess) -> str:
    """A conversation going on while the bad input arrives."""
    sender = new_sender("bystander")
    for text in ("hello", "what is a container?"):
        status, body = send(server, sender, text)
        assert status == 200 and texts(body)
    return sender


@pytest.fixture(autouse=True)
def unaffected(server: ServerProcess, bystander: str) -> Iterator[None]:
    """After each test: the server still serves and the bystander's tracker is unchanged."""
    before = tracker(server, bystander)["events"]
    yield
    assert_serving(server)
    assert tracker(server, bystander)["events"] == before, "another conversation changed"


def assert_clear(status: int, body: Any, what: str) -> None:
    """A 4xx, or a 200 with at least one non-empty bot message."""
    if 400 <= status < 500:
        return
    assert status == 200, f"{what}: HTTP {status} {body!r}"
    assert texts(body) and all(t.strip() for t in texts(body)), f"{what}: no clear reply {body}"


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text)


# ---- message content ----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", " ", "   \n\t  ", "\u00a0\u2003"],
                         ids=["empty", "space", "whitespace", "unicode-spaces"])
def test_empty_and_whitespace_messages_get_a_clear_answer(server: ServerProcess,
                                                          text: str) -> None:
    status, body = send(server, new_sender("empty"), text)
    assert_clear(status, body, f"message {text!r}")


def test_a_100_kb_message_is_refused_politely_and_not_processed(server: ServerProcess) -> None:
    sender = new_sender("big")
    huge = ("containers and virtual machines " * 3300)[:100_000]
    status, body = send(server, sender, huge)
    if status == 200:
        assert any("too long" in t.lower() for t in texts(body)), f"no refusal: {body}"
    else:
        assert 400 <= status < 500, f"HTTP {status}"
    status, body = send(server, sender, "hello")  # the conversation goes on
    assert status == 200 and texts(body)
    assert all(len(e.get("text") or "") <= MAX_CHARS for e in user_events(tracker(server,
                                                                                  sender)))


def test_a_message_at_the_size_limit_is_answered_normally(server: ServerProcess) -> None:
    text = ("how do containers differ from virtual machines? " * 50)[:MAX_CHARS]
    status, body = send(server, new_sender("limit"), text)
    assert status == 200 and texts(body)
    assert not any("too long" in t.lower() for t in texts(body)), body


def test_control_characters_are_answered_and_never_stored(server: ServerProcess) -> None:
    sender = new_sender("ctrl")
    status, body = send(server, sender, "what is a\x00 container\x1b[31m?\x07\x7f\x9b")
    assert_clear(status, body, "control characters")
    for event in user_events(tracker(server, sender)):
        assert not _has_control_chars(event.get("text") or ""), event.get("text")


@pytest.mark.parametrize("raw", [
    b'{"sender": "%s", "message": "caf\xe9 \xff\xfe hello"}',
    b'{"sender": "%s", "message": "\xc3\x28 broken sequence"}',
    b'{"sender": "%s", "message": "lone surrogate \\ud800 here"}',
], ids=["latin1-bytes", "bad-sequence", "lone-surrogate"])
def test_invalid_utf8_gets_a_clear_answer(server: ServerProcess, raw: bytes) -> None:
    sender = new_sender("utf8")
    status, body = send_raw(server, raw.replace(b"%s", sender.encode()))
    try:
        decoded: Any = json.loads(body)
    except ValueError:
        decoded = body.decode(errors="replace")
    assert_clear(status, decoded, f"body {raw!r}")
    # Whatever was stored must read back as valid text.
    track = tracker(server, sender)
    for event in user_events(track):
        (event.get("text") or "").encode("utf-8")


@pytest.mark.parametrize("text", [
    "🐳 or 🖥️? which one should I pick for my app 🤔",
    "ما الفرق بين الحاوية والآلة الافتراضية؟",
    "מה ההבדל בין קונטיינר למכונה וירטואלית?",
    "mixed: containers \u202eslaitnederc\u202c and VMs 👩🏽‍💻",
], ids=["emoji", "arabic", "hebrew", "bidi-override"])
def test_emoji_and_right_to_left_text_round_trip(server: ServerProcess, text: str) -> None:
    sender = new_sender("intl")
    status, body = send(server, sender, text)
    assert status == 200 and texts(body), body
    assert [e.get("text") for e in user_events(tracker(server, sender))] == [text]


# ---- payloads that try to set slots ---------------------------------------------------------

def _slots(server: ServerProcess, sender: str) -> dict[str, Any]:
    return {k: v for k, v in tracker(server, sender)["slots"].items() if k not in _BOOKKEEPING}


def _injection_payloads() -> list[str]:
    spec = load_domain()
    slots = spec.get("slots") or {}
    entities = [e if isinstance(e, str) else next(iter(e)) for e in spec.get("entities") or []]
    names = sorted({*slots, *entities, "email", "consent"})
    payloads = ['/inform{"email": "x@y.z"}', '/contact_sales{"email": "x@y.z"}']
    for name in names:
        value: Any = True if "consent" in name else "injected@example.com"
        for intent in ("inform", "affirm", "contact_sales"):
            payloads.append(f"/{intent}{json.dumps({name: value})}")
    payloads.append("/inform@1.0" + json.dumps({n: "injected" for n in names}))
    return payloads


def test_payloads_cannot_set_slots(server: ServerProcess) -> None:
    baseline_sender = new_sender("baseline")
    assert send(server, baseline_sender, "hello")[0] == 200
    baseline = _slots(server, baseline_sender)
    protected = sorted(s for s in baseline if _PROTECTED.search(s))
    changed: dict[str, dict[str, Any]] = {}
    for payload in _injection_payloads():
        sender = new_sender("payload")
        assert send(server, sender, "hello")[0] == 200
        status, body = send(server, sender, payload)
        assert_clear(status, body, f"payload {payload}")
        after = _slots(server, sender)
        diff = {k: v for k, v in after.items() if v != baseline.get(k)}
        if diff:
            changed[payload] = diff
    assert not changed, (f"payloads set slots (protected: {protected}): "
                         + json.dumps(changed, indent=1)[:2000])


# ---- sender ids and malformed requests ------------------------------------------------------

def test_a_missing_sender_is_refused(server: ServerProcess) -> None:
    # Rasa's plain REST channel files every sender-less message under one conversation
    # called "default", so strangers would read each other's context.
    status, body = send(server, None, "hello")
    assert 400 <= status < 500, f"HTTP {status} {body}: sender-less messages share a tracker"


@pytest.mark.parametrize("sender", [123, "", " ", "a b", "x" * 10_000, None, ["a"], {"a": 1},
                                    "line\nbreak", "../../etc/passwd"],
                         ids=["number", "empty", "space", "with-space", "10k", "null", "list",
                              "object", "newline", "path"])
def test_odd_sender_ids_get_a_clear_answer(server: ServerProcess, sender: Any) -> None:
    status, body = http_json("POST", server.url + REST_WEBHOOK,
                             {"sender": sender, "message": "hello"})
    assert_clear(status, body, f"sender {sender!r}"[:80])


def test_two_clients_sharing_a_sender_id_are_served_one_turn_at_a_time(
    server: ServerProcess,
) -> None:
    sender = new_sender("shared")
    messages = [f"client {c} asks: what is a container? ({n})" for c in "ab" for n in range(3)]
    start = threading.Barrier(len(messages))

    def fire(text: str) -> tuple[int, Any]:
        start.wait(timeout=30)
        return send(server, sender, text)

    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        results = list(pool.map(fire, messages))
    for (status, body), text in zip(results, messages, strict=True):
        assert_clear(status, body, text)
    stored = [str(e.get("text")) for e in user_events(tracker(server, sender))]
    accepted = [m for m, (status, _) in zip(messages, results, strict=True) if status == 200]
    assert sorted(stored) == sorted(accepted)


@pytest.mark.parametrize("raw", [
    b'{"sender": "s1", "message": ', b"not json at all", b"", b"[]", b'"hello"', b"null",
    b"42", b'{"sender": "s1"}', b'{"sender": "s1", "message": null}',
    b'{"sender": "s1", "message": ["a", "b"]}', b'{"sender": "s1", "message": {"text": 1}}',
    b'{"sender": "s1", "message": 12}', b'{"sender": "s1", "message": "hi", "metadata": 5}',
    b'{"sender": "s1", "message": "hi", "metadata": "x"}',
    b'{"sender": "s1", "message": "hi"' + b' ' * 10 + b'}}}',
], ids=lambda raw: raw[:40].decode(errors="replace"))
def test_malformed_json_gets_a_clear_answer(server: ServerProcess, raw: bytes) -> None:
    status, body = send_raw(server, raw)
    try:
        decoded: Any = json.loads(body)
    except ValueError:
        decoded = body.decode(errors="replace")
    assert status < 500, f"{raw!r}: HTTP {status} {decoded!r}"
    assert_clear(status, decoded, f"body {raw!r}")


# ---- channel guards: rate limit, CORS, logs --------------------------------------------------

def _post(url: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None,
          method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json",
                                              **REST_AUTH, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_a_flooding_conversation_is_rate_limited_and_others_are_not(
    server: ServerProcess,
) -> None:
    flooder = new_sender("flood")
    outcomes = [_post(server.url + REST_WEBHOOK, {"sender": flooder, "message": f"hi {n}"})
                for n in range(RATE_LIMIT + 4)]
    limited = [o for o in outcomes if o[0] == 429]
    assert limited, f"no 429 after {len(outcomes)} messages: {[o[0] for o in outcomes]}"
    status, headers, body = limited[0]
    assert int(headers.get("Retry-After", "0")) >= 1, headers
    assert texts(json.loads(body)), "the 429 carries no message for the visitor"
    assert all(o[0] == 200 for o in outcomes[:RATE_LIMIT]), [o[0] for o in outcomes]
    status, body_ok = send(server, new_sender("calm"), "hello")
    assert status == 200 and texts(body_ok), "another conversation was limited too"


def test_cors_never_allows_an_unknown_origin(server: ServerProcess) -> None:
    url = server.url + REST_WEBHOOK
    for method in ("POST", "OPTIONS"):
        status, headers, _ = _post(url, {"sender": new_sender("cors"), "message": "hello"},
                                   {"Origin": EVIL_ORIGIN,
                                    "Access-Control-Request-Method": "POST"}, method=method)
        # A crash would send no CORS header either: the refusal must be a deliberate one.
        assert status < 500, f"{method} from {EVIL_ORIGIN}: HTTP {status}"
        allowed = {k.lower(): v for k, v in headers.items()}.get("access-control-allow-origin")
        assert allowed not in ("*", EVIL_ORIGIN), f"{method} from {EVIL_ORIGIN}: {allowed}"


def _socketio_path() -> str | None:
    config = yaml.safe_load(credentials_file().read_text()) or {}
    for name, options in config.items():
        if "socketio" in name.lower() or "widget" in name.lower():
            return str((options or {}).get("socketio_path", "/socket.io"))
    return None


def test_the_widget_socket_accepts_only_allowed_origins(server: ServerProcess) -> None:
    path = _socketio_path()
    if path is None:
        pytest.fail("credentials.yml configures no widget/socket.io channel to check")

    def handshake(origin: str) -> int:
        request = urllib.request.Request(f"{server.url}{path}/?EIO=4&transport=polling",
                                         headers={"Origin": origin})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert handshake(EVIL_ORIGIN) in (400, 403)
    assert handshake(ALLOWED_ORIGIN) == 200


def test_email_addresses_never_reach_the_logs(stack: Stack) -> None:
    sender = new_sender("pii")
    for text in (f"my email is {SECRET_EMAIL}", f'/inform{{"email": "{SECRET_EMAIL}"}}'):
        send(stack.rasa, sender, text)
    for log in (stack.rasa.log_path, stack.actions.log_path):
        assert log is not None
        assert SECRET_EMAIL not in Path(log).read_text(errors="replace"), f"email in {log}"
