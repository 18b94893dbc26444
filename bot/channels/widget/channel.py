"""The website widget's Rasa input channel: socket.io endpoint, static files, history.

Routes, under `/webhooks/widget/` (the channel's name is `widget`):

- `GET  /`                     health check;
- `GET  /static/<file>`        `widget.js`, `widget.css`, `socket.io.min.js`;
- `GET  /demo`                 a demo product page with the widget embedded;
- `POST /history`              the visible messages of a widget conversation, for the
                               session id in the body (`{"session_id": ...}`, sent as
                               `text/plain` so a cross-site call needs no preflight): a
                               URL would put it in every proxy's access log;
- socket.io on `/socket.io/`   (the path is configurable with `socketio_path`); the
                               widget connects by websocket, falls back to long-polling,
                               and adds `affinity=<key>` to the URLs for the load
                               balancer (deploy/README.md).

Socket events (compatible with Rasa's socket.io channel): the client emits
`session_request {session_id}` and receives `session_confirm <session_id>`; it emits
`user_uttered {message, session_id, metadata?}`; the server emits `bot_uttered` (one
message, see `bot_message_payload`), `bot_typing {typing: bool}` around each turn and
`user_echo {text}` to the conversation's other tabs.

Live handoff (`bot.handoff`, when a sales channel is set): a request for a person (or
for sales) within business hours is marked for the handoff before Rasa predicts
anything; during it the visitor's messages go to the sales channel's thread (and are
stored, while Rasa predicts nothing for the paused conversation), the engineer's replies
arrive as `bot_uttered {text, engineer}`, and `handoff {status, engineer?}` tells the
widget where it stands (`waiting`, `live`, `ended`, `timed_out`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.compat import Header
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse
from sanic_cors.core import SANIC_CORS_EVALUATED
from socketio import AsyncServer

from bot.channels.conversation import (
    bot_message_payload,
    conversation_history,
    refusal_for,
    screen_message,
)
from bot.channels.guard import MessageGuard, Verdict, is_valid_session_id
from bot.channels.origins import OriginPolicy
from bot.channels.ratelimit import parse_proxies, request_address
from bot.channels.turns import TURN_FAILED_TEXT, TURN_SLOW_LIVE_TEXT, TurnOutcome, run_turn
from bot.handoff.desk import HandoffDesk, desk_for_app
from bot.handoff.signals import OFFERED_METADATA_KEY, START_PAYLOAD
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Served files and their content types; nothing else in the folder is reachable.
# widget.js is the committed bundle of the modules in static/src/ (scripts/build-widget.mjs):
# sites embed it with a classic script tag, so the modules themselves are never served.
STATIC_FILES = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
    "socket.io.min.js": "application/javascript; charset=utf-8",
}
DEMO_FILE = "demo.html"
# Client metadata kept on the user's message (stored in the tracker): an allow-list,
# so a client cannot fill the tracker store with whatever it likes.
_METADATA_LIMITS = {"display_text": 200}
# Raw socket.io packets above this are dropped by engine.io before we see them; anything
# between max_message_chars and this gets the polite refusal.
_MAX_PACKET_BYTES = 256 * 1024
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Intents that ask for a person: handed off when someone is available.
_PERSON_INTENTS = frozenset({"contact_sales", "request_person"})
_HANDOFF_INTENT = "request_person"
# A handoff whose visitor closed every tab ends after this long, unless they come back
# (a reload reconnects within seconds).
VISITOR_GONE_SECONDS = 60.0


@dataclass(frozen=True)
class _StaticFile:
    body: bytes
    content_type: str


def _load_static() -> dict[str, _StaticFile]:
    files = {
        name: _StaticFile((STATIC_DIR / name).read_bytes(), ctype)
        for name, ctype in STATIC_FILES.items()
    }
    files[DEMO_FILE] = _StaticFile(
        (STATIC_DIR / DEMO_FILE).read_bytes(), "text/html; charset=utf-8"
    )
    return files


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions (`'sha256-…'`) for the inline scripts of a page."""
    hashes = []
    for script in _INLINE_SCRIPT.findall(html):
        digest = hashlib.sha256(script.encode("utf-8")).digest()
        hashes.append("'sha256-" + base64.b64encode(digest).decode("ascii") + "'")
    return hashes


def clean_metadata(raw: Any) -> dict[str, str]:
    """The allowed part of a client's message metadata."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    if not isinstance(raw, Mapping):
        return {}
    kept: dict[str, str] = {}
    for key, limit in _METADATA_LIMITS.items():
        value = raw.get(key)
        if isinstance(value, str):
            kept[key] = value[:limit]
    return kept


def session_id_in_body(body: bytes | None) -> str:
    """The `session_id` of a JSON body such as `{"session_id": "..."}`; "" when absent."""
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return ""
    value = payload.get("session_id") if isinstance(payload, Mapping) else None
    return value if isinstance(value, str) else ""


def drop_credentials_without_allowed_origin(headers: Header) -> None:
    """Remove `Access-Control-Allow-Credentials` from a response that allows no origin.

    engine.io adds it to every response, also to the 400 that refuses a foreign origin.
    Browsers ignore it without `Access-Control-Allow-Origin`, but a response should not
    offer credentialed access to a page it refuses.
    """
    if "access-control-allow-origin" not in headers:
        headers.popall("access-control-allow-credentials", None)


def mark_cors_handled(request: Request) -> None:
    """Tell Sanic-CORS (`rasa run --cors ...`) that this response has its CORS headers.

    Without it a response would carry `Access-Control-Allow-Origin` twice (ours and
    Sanic-CORS's), which browsers reject.
    """
    setattr(request.ctx, SANIC_CORS_EVALUATED, "1")


@dataclass(frozen=True)
class HandoffReading:
    """A message as the channel read it before Rasa predicts anything."""

    parse_data: dict[str, Any] | None  # given to Rasa, which then does not parse again
    hands_off: bool  # a request for a person that one can take now


class WidgetOutput(SocketIOOutput):
    """Sends each bot message to the widget as one `bot_uttered` event.

    Rasa's socket.io output splits a message into text, buttons and custom parts and
    cannot send a custom payload at all (it passes the payload's keys as arguments to
    `emit`); the widget gets the whole message instead and draws it in one bubble.
    """

    def __init__(self, sio: AsyncServer, bot_message_evt: str,
                 on_handoff: Callable[[str], None] | None = None) -> None:
        """Create the output for one turn (or for messages sent outside a turn).

        `on_handoff(conversation_id)` is called, instead of emitting anything, when the
        action asks for the handoff to start (`bot.handoff.signals.START_PAYLOAD`).
        """
        super().__init__(sio, bot_message_evt)
        # Messages emitted so far: a turn that sent none gets an apology instead.
        self.sent = 0
        self.on_handoff = on_handoff

    @classmethod
    def name(cls) -> str:
        """The channel name stored on the conversation's events."""
        return "widget"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message (text, buttons, custom payload, image) to the room."""
        if message.get("custom") == START_PAYLOAD:
            if self.on_handoff is not None:
                self.on_handoff(recipient_id)
            return
        payload = bot_message_payload(message)
        if any(key in payload for key in ("text", "buttons", "custom", "image")):
            self.sent += 1
            await self.sio.emit(self.bot_message_evt, payload, room=recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send a text message."""
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Send a text message with quick-reply buttons."""
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send a custom payload (the advisor's scorecard, an input hint)."""
        await self.send_response(recipient_id, {"custom": json_message})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image by URL."""
        await self.send_response(recipient_id, {"image": image})


class _WidgetBlueprint(SocketBlueprint):
    """Remembers the Sanic app, whose context holds the agent, for the socket handlers."""

    def __init__(self, channel: WidgetInput, sio: AsyncServer, socketio_path: str) -> None:
        super().__init__(sio, socketio_path, "widget_webhook", __name__)
        self.ctx.channel = channel  # Sanic allows new attributes on `ctx` only

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        self.ctx.channel.app = app
        socket_prefix = str(self.ctx.socketio_path).rstrip("/")

        async def cors_done_by_engineio(request: Request) -> None:
            if request.path.startswith(socket_prefix):
                mark_cors_handled(request)

        async def credentials_only_for_allowed_origins(request: Request,
                                                       response: BaseHTTPResponse) -> None:
            if request.path.startswith(socket_prefix):
                drop_credentials_without_allowed_origin(response.headers)

        async def deliver_handoffs(app: Sanic, _: Any) -> None:
            # Whichever replica a sales engineer's reply reaches, the one holding the
            # visitor's socket shows it.
            channel = self.ctx.channel
            desk = channel._handoff_desk()
            if desk is not None:
                app.add_task(desk.listen(channel._deliver))

        app.register_listener(deliver_handoffs, "after_server_start")
        # The socket.io route is the app's, not this blueprint's: app middlewares.
        app.register_middleware(cors_done_by_engineio, "request")
        app.register_middleware(credentials_only_for_allowed_origins, "response")
        super().register(app, options)


class WidgetInput(SocketIOInput):
    """socket.io input channel for the website widget, with guards and history.

    Differences from Rasa's `SocketIOInput`: session persistence is on and the session
    id must be a uuid4 hex that the connection asked for; origins are checked against
    `Settings.allowed_origins` (plus the server's own origin); messages pass the
    size/rate guard; the static widget, the demo page and a history endpoint are served.
    """

    @classmethod
    def name(cls) -> str:
        """The channel's name, which is also its URL prefix under `/webhooks/`."""
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its `credentials.yml` section (every key optional)."""
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=True,
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
            metadata_key=credentials.get("metadata_key", "metadata"),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = True,
        socketio_path: str | None = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        settings: Settings | None = None,
    ) -> None:
        """Create the channel; `settings` defaults to the environment's."""
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            True,  # a widget conversation must survive reloads and new tabs
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.settings = settings or load_settings()
        self.guard = MessageGuard.from_settings(self.settings)
        self.origins = OriginPolicy(self.settings.allowed_origins)
        self.proxies = parse_proxies(self.settings.trusted_proxies)
        # socket id -> the client's address, read when it connected.
        self._addresses: dict[str, str] = {}
        self.app: Sanic | None = None
        # socket id -> conversation id, set by `session_request` only.
        self._sessions: dict[str, str] = {}
        # Conversations with a turn in progress (and how many): their newest messages
        # are not in the tracker store yet, which the history tells the widget.
        self._busy: dict[str, int] = {}
        self._static = _load_static()
        demo_html = self._static[DEMO_FILE].body.decode("utf-8")
        self._demo_script_hashes = inline_script_hashes(demo_html)

    def _handoff_desk(self) -> HandoffDesk | None:
        if self.app is None:
            return None
        return desk_for_app(self.app, self.settings)

    async def _read_for_handoff(self, desk: HandoffDesk | None, session_id: str,
                                text: str) -> HandoffReading:
        """The message read here when a person could take over now, so that a request for
        one (or for sales) is handed off; otherwise nothing is read and Rasa parses as usual.

        Decided here, before Rasa predicts anything, because only the Rasa server knows
        the handoff's state. Whatever was parsed is handed to Rasa, which does not parse
        the message a second time.
        """
        agent = self._agent()
        if desk is None or agent is None or not desk.is_staffed_now():
            return HandoffReading(None, hands_off=False)
        parsed: dict[str, Any] = await agent.parse_message(text)
        if (parsed.get("intent") or {}).get("name") not in _PERSON_INTENTS:
            return HandoffReading(parsed, hands_off=False)
        if not await desk.may_hand_off(session_id):
            return HandoffReading(parsed, hands_off=False)
        # Inside a form ("talk to sales" while the lead form asks its questions) the
        # form's own rules answer.
        tracker = await agent.tracker_store.retrieve(session_id)
        if tracker is not None and tracker.active_loop_name:
            return HandoffReading(parsed, hands_off=False)
        return HandoffReading({**parsed, "intent": {"name": _HANDOFF_INTENT, "confidence": 1.0},
                               "entities": []}, hands_off=True)

    async def _deliver(self, delivery: Mapping[str, Any]) -> None:
        """Show the visitor what the handoff desk published, if their socket is here."""
        if self.sio is None:
            return
        room = str(delivery.get("conversation_id") or "")
        status = {"status": delivery.get("status")}
        if delivery.get("engineer"):
            status["engineer"] = delivery["engineer"]
        if delivery.get("text"):
            message: dict[str, Any] = {"sender": "bot", "text": delivery["text"]}
            if delivery.get("engineer"):
                message["engineer"] = delivery["engineer"]
            if delivery.get("buttons"):
                message["buttons"] = delivery["buttons"]
            await self.sio.emit(self.bot_message_evt, message, room=room,
                                namespace=self.namespace)
        await self.sio.emit("handoff", status, room=room, namespace=self.namespace)

    def get_output_channel(self) -> OutputChannel | None:
        """The output channel for messages sent outside a turn (reminders, API)."""
        if self.sio is None:
            return None
        return WidgetOutput(self.sio, self.bot_message_evt)

    def _agent(self) -> Any:
        return getattr(getattr(self.app, "ctx", None), "agent", None)

    def _cors_headers(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        own = f"{request.scheme}://{request.host}"
        if origin and self.origins.allows(origin, own):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {"Vary": "Origin"}

    def _demo_csp(self, request: Request) -> str:
        host = request.host
        scripts = " ".join(["'self'", *self._demo_script_hashes])
        return (
            "default-src 'self'; "
            f"script-src {scripts}; "
            "style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' ws://{host} wss://{host}; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The Sanic blueprint with the socket.io server, static files and history."""
        sio = AsyncServer(
            async_mode="sanic",
            # A callable, so that engine.io echoes the page's own origin, never `*`:
            # the widget's long-polling fallback is credentialed (for load balancers
            # that pin by cookie), and browsers refuse `*` on credentialed responses.
            cors_allowed_origins=self.origins.allows_environ,
            cors_credentials=True,
            max_http_buffer_size=_MAX_PACKET_BYTES,
        )
        self.sio = sio
        webhook = _WidgetBlueprint(self, sio, self.socketio_path or "/socket.io")
        self._add_http_routes(webhook)
        self._add_socket_handlers(sio, on_new_message)
        return webhook

    def _add_http_routes(self, webhook: Blueprint) -> None:
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def static_file(request: Request, filename: str) -> HTTPResponse:
            served = self._static.get(filename) if filename in STATIC_FILES else None
            if served is None:
                return response.text("not found", status=HTTPStatus.NOT_FOUND)
            return response.raw(
                served.body,
                content_type=served.content_type,
                headers={
                    "Cache-Control": "public, max-age=300",
                    "X-Content-Type-Options": "nosniff",
                    # Any page may embed the script; that is what it is for.
                    "Cross-Origin-Resource-Policy": "cross-origin",
                },
            )

        async def demo(request: Request) -> HTTPResponse:
            page = self._static[DEMO_FILE]
            return response.raw(
                page.body,
                content_type=page.content_type,
                headers={
                    "Content-Security-Policy": self._demo_csp(request),
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer",
                    "Cache-Control": "no-cache",
                },
            )

        async def history(request: Request) -> HTTPResponse:
            headers = self._cors_headers(request)
            headers["Cache-Control"] = "no-store"
            mark_cors_handled(request)
            session_id = session_id_in_body(request.body)
            if not is_valid_session_id(session_id):
                return response.json(
                    {"error": "session_id must be 32 lowercase hex digits"},
                    status=HTTPStatus.BAD_REQUEST,
                    headers=headers,
                )
            messages = await conversation_history(self._agent(), session_id)
            return response.json(
                {
                    "session_id": session_id,
                    "max_message_chars": self.guard.max_chars,
                    "busy": session_id in self._busy,
                    "messages": messages,
                },
                headers=headers,
            )

        # add_route rather than decorators: Sanic's decorators are untyped.
        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(static_file, "/static/<filename>", methods=["GET"])
        webhook.add_route(demo, "/demo", methods=["GET"])
        webhook.add_route(history, "/history", methods=["POST"])

    def _add_socket_handlers(
        self, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        namespace = self.namespace

        async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> bool:
            request = environ.get("sanic.request")
            if request is not None:
                self._addresses[sid] = request_address(request, self.proxies)
            if not self.jwt_key:
                return True
            token = (auth or {}).get("token")
            payload = (
                rasa.core.channels.channel.decode_bearer_token(
                    token, self.jwt_key, self.jwt_algorithm
                )
                if token
                else None
            )
            return bool(payload)

        async def disconnect(sid: str, *_: Any) -> None:
            session_id = self._sessions.pop(sid, None)
            self._addresses.pop(sid, None)
            desk = self._handoff_desk()
            if desk is not None and session_id and session_id not in self._sessions.values():
                desk.visitor_left(session_id, VISITOR_GONE_SECONDS)

        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, Mapping) else None
            session_id = requested if isinstance(requested, str) and is_valid_session_id(
                requested) else uuid.uuid4().hex
            previous = self._sessions.get(sid)
            if previous and previous != session_id:
                await sio.leave_room(sid, previous, namespace=namespace)
            await sio.enter_room(sid, session_id, namespace=namespace)
            self._sessions[sid] = session_id
            desk = self._handoff_desk()
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            if desk is not None:
                desk.visitor_back(session_id)
                # A reload during a handoff: the widget shows who it is talking to.
                handoff = await desk.active(session_id)
                if handoff is not None:
                    await sio.emit("handoff", {"status": handoff.status.value,
                                               "engineer": handoff.engineer},
                                   room=sid, namespace=namespace)

        async def handle_message(sid: str, data: Any) -> None:
            session_id = self._sessions.get(sid)
            if session_id is None or not isinstance(data, Mapping):
                # A message before `session_request`, or not an object: there is no
                # conversation to answer in.
                logger.info("widget: message ignored, no session for this connection")
                return
            raw = data.get("message")
            if not isinstance(raw, str):
                return
            await self._handle_text(
                sio, on_new_message, sid, session_id, raw, data.get(self.metadata_key or "")
            )

        sio.on("connect", handler=connect, namespace=namespace)
        sio.on("disconnect", handler=disconnect, namespace=namespace)
        sio.on("session_request", handler=session_request, namespace=namespace)
        sio.on(self.user_message_evt, handler=handle_message, namespace=namespace)

    async def _handle_text(
        self,
        sio: AsyncServer,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sid: str,
        session_id: str,
        raw: str,
        raw_metadata: Any,
    ) -> None:
        namespace = self.namespace
        output = WidgetOutput(sio, self.bot_message_evt)
        result, text = await screen_message(self._agent(), self.guard, session_id, raw,
                                            self._addresses.get(sid, "unknown"))
        if result.verdict is Verdict.EMPTY:
            return
        if not result.accepted:
            logger.info("widget: message refused (%s)", result.verdict.value)
            notice = refusal_for(self._agent(), self.guard, result.verdict)
            await sio.emit(
                self.bot_message_evt,
                {"sender": "bot", "text": notice, "notice": result.verdict.value},
                room=sid,
                namespace=namespace,
            )
            return
        metadata: dict[str, Any] = dict(clean_metadata(raw_metadata))
        echo = metadata.get("display_text") or text
        await sio.emit("user_echo", {"text": echo}, room=session_id, skip_sid=sid,
                       namespace=namespace)
        desk = self._handoff_desk()
        if desk is not None and await desk.visitor_said(session_id, text):
            # A person has the conversation: Rasa stores the message and, the
            # conversation being paused, predicts nothing.
            try:
                await on_new_message(UserMessage(text, output, session_id,
                                                 input_channel=self.name(),
                                                 metadata=metadata or None))
            except Exception:
                logger.exception("widget: could not store a message during a handoff")
            return
        reading = await self._read_for_handoff(desk, session_id, text)
        if reading.hands_off:
            metadata[OFFERED_METADATA_KEY] = True
            output.on_handoff = desk.start_soon if desk is not None else None
        await sio.emit("bot_typing", {"typing": True}, room=session_id, namespace=namespace)

        async def notify(text: str, notice: str) -> None:
            await sio.emit(self.bot_message_evt,
                           {"sender": "bot", "text": text, "notice": notice},
                           room=session_id, namespace=namespace)

        self._busy[session_id] = self._busy.get(session_id, 0) + 1
        try:
            # Past the time limit the visitor is told so, and the late answer is emitted
            # by the turn itself when it comes.
            outcome = await run_turn(
                on_new_message(UserMessage(text, output, session_id,
                                           input_channel=self.name(),
                                           metadata=metadata or None,
                                           parse_data=reading.parse_data)),
                lambda: output.sent > 0,
                self.settings.turn_timeout_seconds,
                channel="widget",
                on_slow=lambda: notify(TURN_SLOW_LIVE_TEXT, "slow"),
            )
            if outcome is not TurnOutcome.ANSWERED:
                await notify(TURN_FAILED_TEXT, "error")
        finally:
            if self._busy.get(session_id, 0) <= 1:
                self._busy.pop(session_id, None)
            else:
                self._busy[session_id] -= 1
            await sio.emit("bot_typing", {"typing": False}, room=session_id,
                           namespace=namespace)

