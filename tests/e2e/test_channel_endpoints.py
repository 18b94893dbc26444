"""The widget and REST channels' guards against the real server, without a browser.

Origins (CORS and socket.io), served files and headers, the history endpoint, session
ids, the size and rate limits on both channels, and `/intent{...}` payloads that try to
set slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio

from bot.launcher import Stack
from tests.support.servers import (
    REST_AUTH,
    rest_conversation,
    running_servers,
)

pytestmark = [pytest.mark.server]

ALLOWED = "https://shop.example.com"
EVIL = "https://evil.example"
MAX_CHARS = 500
RATE = 5
REST = "/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"ALLOWED_ORIGINS": ALLOWED, "MAX_MESSAGE_CHARS": str(MAX_CHARS),
           "RATE_LIMIT_MESSAGES": str(RATE), "RATE_LIMIT_WINDOW_SECONDS": "60"}
    # `--cors` as scripts/run.sh passes it: the channels' own CORS headers must not be
    # doubled by Sanic-CORS.
    with running_servers(tmp_path_factory.mktemp("channels"), env=env,
                         cors=[ALLOWED]) as started:
        yield started


class WidgetClient:
    """A socket.io client speaking the widget's protocol.

    Over HTTP long-polling: python-engineio's websocket client needs a newer aiohttp
    than Rasa pins. The browser test covers the websocket transport.
    """

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.messages: list[dict[str, Any]] = []
        self.session_id: str | None = None
        self._event = asyncio.Event()
        self.sio.on("session_confirm", self._on_confirm)
        self.sio.on("bot_uttered", self._on_bot)

    @classmethod
    async def connect(cls, url: str, origin: str) -> WidgetClient:
        client = cls()
        await client.sio.connect(url, headers={"Origin": origin}, transports=["polling"],
                                 wait_timeout=10)
        return client

    async def _on_confirm(self, session_id: str) -> None:
        self.session_id = session_id
        self._event.set()

    async def _on_bot(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self._event.set()

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            self._event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), left)
        return True

    async def start_session(self, session_id: str | None) -> str:
        self.session_id = None
        await self.sio.emit("session_request", {"session_id": session_id})
        assert await self._wait(lambda: self.session_id is not None, 10), "no session_confirm"
        assert self.session_id is not None
        return self.session_id

    async def say(self, text: str, wait: float = 30.0) -> list[dict[str, Any]]:
        """Send `text`; the bot messages that arrived within `wait` s (at least one)."""
        before = len(self.messages)
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        await self._wait(lambda: len(self.messages) > before, wait)
        await asyncio.sleep(0.3)  # the rest of the turn's messages
        return self.messages[before:]

    async def close(self) -> None:
        # A graceful close would wait for the pending long-poll (up to the 25 s ping
        # interval); aborting cancels it, and the server sees the connection close.
        await self.sio.eio.disconnect(abort=True)


def handshake(servers: Stack, origin: str) -> requests.Response:
    return requests.get(servers.url + "/socket.io/", params={"EIO": "4", "transport": "polling"},
                        headers={"Origin": origin}, timeout=10)


def rest(servers: Stack, body: Any, raw: bytes | None = None) -> requests.Response:
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(servers.url + REST, data=data,
                         headers={"Content-Type": "application/json", **REST_AUTH}, timeout=60)


# ---- origins and files --------------------------------------------------------------------

def test_socket_origins(servers: Stack) -> None:
    assert handshake(servers, EVIL).status_code == 400
    allowed = handshake(servers, ALLOWED)
    assert allowed.status_code == 200
    assert allowed.raw.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED]
    own = handshake(servers, servers.url)  # the demo page is served by the server itself
    assert own.status_code == 200


def test_history_cors(servers: Stack) -> None:
    url = servers.url + "/webhooks/widget/history"
    sid = uuid.uuid4().hex
    body = json.dumps({"session_id": sid})
    allowed = requests.post(url, data=body, headers={"Origin": ALLOWED}, timeout=10)
    assert allowed.status_code == 200
    assert allowed.raw.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED]
    assert allowed.json() == {"session_id": sid, "max_message_chars": MAX_CHARS,
                              "busy": False, "messages": []}
    evil = requests.post(url, data=body, headers={"Origin": EVIL}, timeout=10)
    assert "Access-Control-Allow-Origin" not in evil.headers
    for bad in ("", "U0SLACKUSER", "../etc", "A" * 32):
        assert requests.post(url, data=json.dumps({"session_id": bad}),
                             timeout=10).status_code == 400
    # The id never travels in the URL: the query-string form is gone.
    assert requests.get(url, params={"session_id": sid}, timeout=10).status_code == 405


def test_history_takes_the_session_id_in_the_body_not_the_url(
        servers: Stack) -> None:
    # A URL's query string lands in every proxy's access log; a body does not. Sent as
    # text/plain, the cross-site call is a "simple request" that needs no preflight.
    url = servers.url + "/webhooks/widget/history"
    sid = uuid.uuid4().hex
    answer = requests.post(url, data=json.dumps({"session_id": sid}), timeout=10,
                           headers={"Origin": ALLOWED, "Content-Type": "text/plain"})
    assert answer.status_code == 200
    assert answer.raw.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED]
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json()["session_id"] == sid and answer.json()["messages"] == []
    for bad in (b"", b"not json", b'{"session_id": "U0SLACKUSER"}', b"[1]"):
        assert requests.post(url, data=bad, timeout=10).status_code == 400


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("widget.js", "application/javascript"), ("widget.css", "text/css"),
     ("socket.io.min.js", "application/javascript"), ("demo.css", "text/css")],
)
def test_static_files(servers: Stack, name: str, content_type: str) -> None:
    answer = requests.get(f"{servers.url}/webhooks/widget/static/{name}", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith(content_type)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_socket_io_client_is_ours_with_its_licence(servers: Stack) -> None:
    body = requests.get(servers.url + "/webhooks/widget/static/socket.io.min.js", timeout=10).text
    assert body.startswith("/*!\n * Socket.IO v4.") and "MIT License" in body[:200]


@pytest.mark.parametrize("name", ["demo.html", "..%2F..%2Fsettings.py", "channel.py",
                                  "socket.io.LICENSE.txt"])
def test_nothing_else_is_served(servers: Stack, name: str) -> None:
    answer = requests.get(f"{servers.url}/webhooks/widget/static/{name}", timeout=10)
    assert answer.status_code == 404


def test_demo_page_has_a_strict_content_security_policy(servers: Stack) -> None:
    answer = requests.get(servers.url + "/webhooks/widget/demo", timeout=10)
    assert answer.status_code == 200
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp
    assert "*" not in csp
    assert 'src="static/widget.js"' in answer.text  # one script tag embeds the widget


# ---- widget socket ---------------------------------------------------------------------------

def test_socket_session_ids_are_ours(servers: Stack) -> None:
    async def scenario() -> None:
        client = await WidgetClient.connect(servers.url, ALLOWED)
        try:
            kept = uuid.uuid4().hex
            assert await client.start_session(kept) == kept
            # An id that is not a widget session id (someone's Slack user id) is replaced.
            replaced = await client.start_session("U0SLACKUSER")
            assert replaced != "U0SLACKUSER" and len(replaced) == 32
            assert await client.start_session(None) != replaced
        finally:
            await client.close()

    asyncio.run(scenario())


def test_socket_refuses_other_origins(servers: Stack) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(WidgetClient.connect(servers.url, EVIL))


def test_socket_message_without_session_is_ignored(servers: Stack) -> None:
    async def scenario() -> list[dict[str, Any]]:
        client = await WidgetClient.connect(servers.url, ALLOWED)
        try:
            return await client.say("hello", wait=2.0)
        finally:
            await client.close()

    assert asyncio.run(scenario()) == []


def test_socket_size_and_rate_limits(servers: Stack) -> None:
    async def scenario() -> None:
        client = await WidgetClient.connect(servers.url, ALLOWED)
        other = await WidgetClient.connect(servers.url, ALLOWED)
        try:
            await client.start_session(uuid.uuid4().hex)
            [refusal] = await client.say("y" * (MAX_CHARS + 1))
            assert refusal.get("notice") == "too_long"
            assert str(MAX_CHARS) in refusal["text"]
            for _ in range(RATE - 1):  # the long one counted
                replies = await client.say("hello")
                assert replies and all(m.get("notice") is None for m in replies)
            [limited] = await client.say("hello")
            assert limited.get("notice") == "rate_limited"
            # Another visitor is not affected.
            await other.start_session(uuid.uuid4().hex)
            replies = await other.say("hello")
            assert replies and all(m.get("notice") is None for m in replies)
        finally:
            await client.close()
            await other.close()

    asyncio.run(scenario())


# ---- REST ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe\x00bad utf-8", b"[]", b'{"message": "no sender"}',
     b'{"sender": "", "message": "x"}', b'{"sender": "s", "message": 42}',
     b'{"sender": "s", "message": "   "}', b'{"sender": "s", "message": ""}'],
)
def test_rest_refuses_malformed_requests(servers: Stack, raw: bytes) -> None:
    answer = rest(servers, None, raw=raw)
    assert answer.status_code == 400
    assert "error" in answer.json()


def test_rest_politely_refuses_100_kb(servers: Stack) -> None:
    sender = "big-" + uuid.uuid4().hex
    answer = rest(servers, {"sender": sender, "message": "z" * 100_000})
    assert answer.status_code == 200
    [reply] = answer.json()
    assert reply["recipient_id"] == sender and str(MAX_CHARS) in reply["text"]


def test_rest_answers_odd_but_valid_text(servers: Stack) -> None:
    for text in ("hello\x00\x07 there", "مرحبا 👋 שלום", "\u202eevil override"):
        answer = rest(servers, {"sender": "odd-" + uuid.uuid4().hex, "message": text})
        assert answer.status_code == 200, text
        replies = answer.json()
        # An answer, not just a well-formed empty list.
        assert replies and all(str(r.get("text") or "").strip() for r in replies), (text, replies)


def test_rest_rate_limit_per_conversation(servers: Stack) -> None:
    sender = "fast-" + uuid.uuid4().hex
    statuses = [rest(servers, {"sender": sender, "message": "hello"}).status_code
                for _ in range(RATE)]
    assert statuses == [200] * RATE
    limited = rest(servers, {"sender": sender, "message": "hello"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "faster" in limited.json()[0]["text"]
    assert rest(servers, {"sender": "calm-" + uuid.uuid4().hex,
                          "message": "hello"}).status_code == 200


def test_unoffered_payload_cannot_set_slots(servers: Stack) -> None:
    sender = uuid.uuid4().hex  # widget-shaped, yet in the REST namespace (item 2)
    answer = rest(servers, {"sender": sender,
                            "message": '/inform{"email": "mallory@example.com"}'})
    assert answer.status_code == 200
    history = requests.post(servers.url + "/webhooks/widget/history",
                            data=json.dumps({"session_id": sender}),
                            timeout=10).json()["messages"]
    assert history == []  # the widget's conversation of that id was never touched
    with sqlite3.connect(servers.workdir / "tracker.db") as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'",
                          (rest_conversation(sender),)).fetchall()
    assert [json.loads(data)["text"] for (data,) in rows] == ["/inform"]
