"""Rasa's REST channel behind the same guards as the widget.

Use it in `credentials.yml` as `bot.channels.rest.GuardedRestInput:`; its name is
`rest`, so the endpoint stays `POST /webhooks/rest/webhook` with the usual body
`{"sender": "...", "message": "...", "metadata": {...}}`.

Answers, besides Rasa's usual `200 [bot messages]`:
- `400 {"error": ...}`: a body that is not a JSON object, a missing or malformed
  `sender`, a `message` that is not a string or is empty;
- `200 [{"recipient_id", "text"}]` with a polite refusal when the message is too long;
- `429 [{"recipient_id", "text"}]` with a `Retry-After` header when the conversation
  sends faster than the rate limit;
- `200 [..., {"recipient_id", "text"}]` ending with an apology when the turn failed or
  produced no answer, or with a "taking longer than usual" notice when it took more than
  `TURN_TIMEOUT_SECONDS` (the turn goes on and its events are stored; see `turns.py`).
"""

from __future__ import annotations

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
from bot.channels.turns import notice_text, run_turn
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
# A sender id is an opaque token chosen by the client; printable, no spaces or controls.
_SENDER = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}$")
_MAX_METADATA_BYTES = 4096


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

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        """The REST routes: health check and the guarded webhook."""
        webhook = Blueprint("guarded_rest_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, raw, metadata = parse_rest_body(request.body)
            except RequestError as exc:
                return response.json({"error": str(exc)}, status=HTTPStatus.BAD_REQUEST)
            agent = getattr(request.app.ctx, "agent", None)
            result, text = await screen_message(agent, self.guard, sender, raw)
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
                on_new_message(UserMessage(text, collector, sender,
                                           input_channel=self.name(), metadata=metadata)),
                lambda: bool(collector.messages),
                self.settings.turn_timeout_seconds,
                channel="rest",
            )
            replies = list(collector.messages)
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
