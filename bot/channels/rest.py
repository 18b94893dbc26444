"""Rasa's REST channel behind the same guards as the widget.

Use it in `credentials.yml` as `bot.channels.rest.GuardedRestInput:`; its name is
`rest`, so the endpoint stays `POST /webhooks/rest/webhook` with the usual body
`{"sender": "...", "message": "...", "metadata": {...}}`.

It is for server-side integrations, and off by default like Rasa's HTTP API: with
`REST_CHANNEL_TOKEN` unset every request is refused (403). A caller authenticates with
`Authorization: Bearer <token>`, or signs the exact body: `X-Signature: sha256=<hex
HMAC-SHA256 of the body under the token>`. Its senders live in their own namespace: the
conversation id is `rest:<sender>`, which no widget session (32 hex digits) or Slack
conversation (`<user>_<channel>`) can ever be, so a REST caller cannot drive anyone
else's conversation. Replies name the sender as the caller gave it.

Answers, besides Rasa's usual `200 [bot messages]`:
- `403 {"error": ...}`: the channel is off (no `REST_CHANNEL_TOKEN`);
- `401 {"error": ...}`: no valid token or signature;
- `400 {"error": ...}`: a body that is not a JSON object, a missing or malformed
  `sender`, a `message` that is not a string or is empty;
- `200 [{"recipient_id", "text"}]` with a polite refusal when the message is too long;
- `429 [{"recipient_id", "text"}]` with a `Retry-After` header when the conversation,
  the client's address or the whole server is over its rate limit (see `ratelimit.py`);
- `200 [..., {"recipient_id", "text"}]` ending with an apology when the turn failed or
  produced no answer, or with a "taking longer than usual" notice when it took more than
  `TURN_TIMEOUT_SECONDS` (the turn goes on and its events are stored; see `turns.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.conversation import refusal_for, screen_message
from bot.channels.guard import MessageGuard, Verdict
from bot.channels.ratelimit import parse_proxies, request_address
from bot.channels.turns import notice_text, run_turn
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
# A sender id is an opaque token chosen by the client; printable, no spaces or controls.
_SENDER = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}$")
_MAX_METADATA_BYTES = 4096
# Every REST conversation id starts so; widget ids are hex and Slack's have no colon.
REST_SENDER_PREFIX = "rest:"
SIGNATURE_HEADER = "X-Signature"


def rest_conversation_id(sender: str) -> str:
    """The conversation id of a REST `sender`, in the REST channel's own namespace."""
    return REST_SENDER_PREFIX + sender


def authorise(token: str, authorization: str | None, signature: str | None,
              body: bytes) -> HTTPStatus | None:
    """None when the request may go on, else the status to refuse it with.

    Args:
        token: `REST_CHANNEL_TOKEN`; empty means the channel is off.
        authorization: the `Authorization` header.
        signature: the `X-Signature` header.
        body: the exact request body (what the signature covers).
    """
    if not token:
        return HTTPStatus.FORBIDDEN
    if authorization and authorization.startswith("Bearer "):
        given = authorization[len("Bearer "):].strip().encode("utf-8")
        if hmac.compare_digest(given, token.encode("utf-8")):
            return None
    if signature:
        expected = "sha256=" + hmac.new(token.encode("utf-8"), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode("utf-8"), signature.strip().encode("utf-8")):
            return None
    return HTTPStatus.UNAUTHORIZED


class RequestError(ValueError):
    """The request cannot be turned into a message; the text is safe to return."""


def parse_rest_body(body: bytes) -> tuple[str, str, dict[str, Any] | None]:
    """Read `sender`, `message` and `metadata` from a REST webhook body.

    Args:
        body: the raw request body.

    Returns:
        The sender id, the raw message and the metadata (None when absent).

    Raises:
        RequestError: the body is not what the endpoint accepts; the message says why
            and contains nothing from the body.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError("the body must be a JSON object in UTF-8") from exc
    if not isinstance(payload, Mapping):
        raise RequestError("the body must be a JSON object")
    sender = payload.get("sender")
    if not isinstance(sender, str) or not _SENDER.match(sender):
        raise RequestError(
            f"'sender' must be a string of 1 to {MAX_SENDER_CHARS} printable characters "
            "without spaces"
        )
    message = payload.get("message")
    if not isinstance(message, str):
        raise RequestError("'message' must be a string")
    metadata = payload.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise RequestError("'metadata' must be a JSON object")
        if len(json.dumps(metadata)) > _MAX_METADATA_BYTES:
            raise RequestError(f"'metadata' must be at most {_MAX_METADATA_BYTES} bytes")
        metadata = dict(metadata)
    return sender, message, metadata


class GuardedRestInput(RestInput):
    """`POST /webhooks/rest/webhook` with validation, size limit and rate limit."""

    @classmethod
    def name(cls) -> str:
        """`rest`, so the webhook URL is the one REST clients already use."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel; it takes no credentials."""
        return cls()

    def __init__(self, settings: Settings | None = None) -> None:
        """Create the channel; `settings` defaults to the environment's."""
        self.settings = settings or load_settings()
        self.guard = MessageGuard.from_settings(self.settings)
        self.proxies = parse_proxies(self.settings.trusted_proxies)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        """The REST routes: health check and the guarded webhook."""
        webhook = Blueprint("guarded_rest_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            refused = authorise(self.settings.rest_channel_token,
                                request.headers.get("Authorization"),
                                request.headers.get(SIGNATURE_HEADER), request.body)
            if refused is HTTPStatus.FORBIDDEN:
                return response.json({"error": "the REST channel is off (REST_CHANNEL_TOKEN "
                                               "is not set)"}, status=refused)
            if refused is not None:
                return response.json({"error": "a valid bearer token or X-Signature is "
                                               "required"}, status=refused,
                                     headers={"WWW-Authenticate": "Bearer"})
            try:
                sender, raw, metadata = parse_rest_body(request.body)
            except RequestError as exc:
                return response.json({"error": str(exc)}, status=HTTPStatus.BAD_REQUEST)
            conversation_id = rest_conversation_id(sender)
            agent = getattr(request.app.ctx, "agent", None)
            result, text = await screen_message(agent, self.guard, conversation_id, raw,
                                                request_address(request, self.proxies))
            if result.verdict is Verdict.EMPTY:
                return response.json(
                    {"error": "'message' is empty"}, status=HTTPStatus.BAD_REQUEST
                )
            if not result.accepted:
                logger.info("rest: message refused (%s)", result.verdict.value)
                reply = [{"recipient_id": sender, "text": refusal_for(agent, self.guard,
                                                                      result.verdict)}]
                if result.verdict is Verdict.RATE_LIMITED:
                    wait = str(max(1, math.ceil(result.retry_after_seconds)))
                    return response.json(
                        reply, status=HTTPStatus.TOO_MANY_REQUESTS,
                        headers={"Retry-After": wait},
                    )
                return response.json(reply)

            collector = CollectingOutputChannel()
            outcome = await run_turn(
                on_new_message(UserMessage(text, collector, conversation_id,
                                           input_channel=self.name(), metadata=metadata)),
                lambda: bool(collector.messages),
                self.settings.turn_timeout_seconds,
                channel="rest",
            )
            replies = [{**m, "recipient_id": sender} for m in collector.messages]
            notice = notice_text(outcome)
            if notice is not None:
                # What was said before the failure or the time limit is kept; the notice
                # tells the visitor the turn did not end as it should have.
                replies.append({"recipient_id": sender, "text": notice})
            return response.json(replies)

        # add_route rather than decorators: Sanic's decorators are untyped.
        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(receive, "/webhook", methods=["POST"])
        return webhook
