"""What the channels read from Rasa: response texts, offered buttons, displayable history.

The channels run inside the Rasa server, where the loaded `Agent` (on
`request.app.ctx.agent`) holds the domain and the tracker store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rasa.core.agent import Agent
from rasa.shared.core.events import BotUttered, UserUttered

from bot.buttons import normalise_buttons
from bot.channels.guard import (
    GuardResult,
    MessageGuard,
    Verdict,
    refusal_text,
    restrict_payload,
)

logger = logging.getLogger(__name__)

TOO_LONG_RESPONSE = "utter_message_too_long"
RATE_LIMITED_RESPONSE = "utter_rate_limited"
# Longest button title shown in place of a payload in the history.
_MAX_DISPLAY_TEXT = 200


def domain_text(agent: Agent | None, response: str) -> str | None:
    """The first text variation of `response` in the loaded domain, if any."""
    domain = getattr(agent, "domain", None)
    if domain is None:
        return None
    variations = domain.responses.get(response) or []
    for variation in variations:
        text = variation.get("text")
        if isinstance(text, str) and text:
            return " ".join(text.split())
    return None


def refusal_for(agent: Agent | None, guard: MessageGuard, verdict: Verdict) -> str:
    """The polite refusal for `verdict`, worded by the domain when it has the response."""
    name = TOO_LONG_RESPONSE if verdict is Verdict.TOO_LONG else RATE_LIMITED_RESPONSE
    return refusal_text(verdict, guard.max_chars, domain_text(agent, name))


def bot_message_payload(message: Mapping[str, Any]) -> dict[str, Any]:
    """One bot message in the shape the widget renders, live and in the history alike.

    Args:
        message: a bot message as Rasa builds it (`BotUttered.message()`), with `text`,
            `buttons` or `quick_replies`, `custom`, `image`, `utter_action`.
    """
    payload: dict[str, Any] = {"sender": "bot"}
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        payload["text"] = text
    buttons = normalise_buttons(message.get("buttons") or message.get("quick_replies"))
    if buttons:
        payload["buttons"] = buttons
    custom = message.get("custom")
    if isinstance(custom, Mapping) and custom:
        payload["custom"] = dict(custom)
    image = message.get("image")
    if isinstance(image, str) and image:
        payload["image"] = image
    for key in ("utter_action", "timestamp"):
        if message.get(key) is not None:
            payload[key] = message[key]
    return payload


async def offered_payloads(agent: Agent | None, sender_id: str) -> set[str]:
    """Payloads of the buttons the bot sent since the user last spoke."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return set()
    tracker = await store.retrieve(sender_id)
    if tracker is None:
        return set()
    offered: set[str] = set()
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            offered.update(b["payload"] for b in normalise_buttons(event.data.get("buttons")))
            offered.update(
                b["payload"] for b in normalise_buttons(event.data.get("quick_replies"))
            )
    return offered


async def screen_message(
    agent: Agent | None, guard: MessageGuard, sender_id: str, raw: str,
    client_address: str | None = None,
) -> tuple[GuardResult, str]:
    """Run the guard, then restrict an unoffered `/intent{...}` payload.

    Args:
        agent: the loaded agent (its tracker store tells which buttons were offered).
        guard: the channel's guard.
        sender_id: the conversation id.
        raw: the message as received.
        client_address: the sender's address, for the per-address rate limit.

    Returns:
        The guard's result and, when accepted, the text to hand to Rasa.
    """
    result = await guard.check(sender_id, raw, client_address)
    if not result.accepted:
        return result, ""
    text = result.text
    if text.lstrip().startswith("/"):
        text = restrict_payload(text, await offered_payloads(agent, sender_id))
    return result, text


def _user_display_text(event: UserUttered, previous_buttons: list[dict[str, str]]) -> str:
    display = (event.metadata or {}).get("display_text")
    if isinstance(display, str) and display.strip():
        return display[:_MAX_DISPLAY_TEXT]
    text = event.text or ""
    for button in previous_buttons:
        if button["payload"] == text:
            return button["title"]
    return text


async def conversation_history(
    agent: Agent | None, sender_id: str, limit: int = 200
) -> list[dict[str, Any]]:
    """The visible messages of a conversation, oldest first, at most `limit` of them.

    User messages that were button payloads are shown with the button's title, as
    the visitor saw them when they clicked.
    """
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return []
    tracker = await store.retrieve_full_tracker(sender_id)
    if tracker is None:
        return []
    messages: list[dict[str, Any]] = []
    last_buttons: list[dict[str, str]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if event.text is None:
                continue
            messages.append(
                {
                    "sender": "user",
                    "text": _user_display_text(event, last_buttons),
                    "timestamp": event.timestamp,
                }
            )
            last_buttons = []
        elif isinstance(event, BotUttered):
            payload = bot_message_payload(event.message())
            if not any(key in payload for key in ("text", "buttons", "custom", "image")):
                continue  # nothing visible (e.g. an empty utterance)
            last_buttons.extend(payload.get("buttons", []))
            messages.append(payload)
    return messages[-limit:]
