"""Channel-level guards applied to every incoming message, whatever the channel.

Unit-tested without a server: the channels await `MessageGuard.check()` before a message
reaches NLU (the rate limits it applies are in `ratelimit.py`), and call
`restrict_payload()` before a `/intent{...}` payload can set slots.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

from bot.channels.ratelimit import (
    LocalRateLimiter,
    RateLimits,
    SlidingWindowRateLimiter,
)
from bot.settings import Settings

__all__ = ["GuardResult", "MessageGuard", "SlidingWindowRateLimiter", "Verdict",
           "clean_text", "is_valid_session_id", "refusal_text", "restrict_payload"]

# Kept from the C0/C1 control range because they carry meaning in a chat message.
_KEPT_CONTROLS = frozenset("\n\t")
# A widget session id is a uuid4 in hex; anything else is replaced by a fresh one so a
# client cannot join another channel's conversation (a Slack user id, a REST sender).
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
# Rasa reads `/intent`, `/intent@0.9` and `/intent{"entity": "value"}` as a given intent.
_PAYLOAD_PREFIX = re.compile(r"^\s*/([^{@\s]+)")

DEFAULT_RATE_LIMITED_TEXT = (
    "You're sending messages faster than I can read them. Please wait a few seconds "
    "and try again."
)
DEFAULT_TOO_LONG_TEXT = (
    "That message is too long for me to read ({max_chars} characters at most). Could "
    "you send the key points in a shorter message?"
)


class Verdict(str, Enum):
    """What the guard decided about one incoming message."""

    ACCEPTED = "accepted"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class GuardResult:
    """The verdict on a message, with its cleaned text when accepted."""

    verdict: Verdict
    text: str = ""
    retry_after_seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        """True when the message may go on to the assistant."""
        return self.verdict is Verdict.ACCEPTED


def clean_text(raw: str) -> str:
    """Remove what NLU and the stores should never see, keep what a person wrote.

    Control characters (except newline and tab) are dropped, Windows line ends become
    newlines and unpaired surrogates (which JSON can smuggle in and which cannot be
    stored as UTF-8) become U+FFFD. Emoji and right-to-left text are left untouched.

    Args:
        raw: the message as received.

    Returns:
        The cleaned message, stripped of surrounding whitespace.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" and char not in _KEPT_CONTROLS:
            continue
        kept.append("\ufffd" if category == "Cs" else char)
    return "".join(kept).strip()


class MessageGuard:
    """Size limit, rate limits and clean-up for incoming messages."""

    def __init__(self, max_chars: int,
                 limits: RateLimits | SlidingWindowRateLimiter) -> None:
        """Create a guard.

        Args:
            max_chars: longest accepted message (after clean-up), in characters.
            limits: the rate limits; a bare `SlidingWindowRateLimiter` limits each
                conversation only (the address and global limits are off).
        """
        self.max_chars = max_chars
        if isinstance(limits, SlidingWindowRateLimiter):
            off = LocalRateLimiter(SlidingWindowRateLimiter(0, 0))
            limits = RateLimits(LocalRateLimiter(limits), off, off)
        self.limits = limits

    @classmethod
    def from_settings(cls, settings: Settings) -> MessageGuard:
        """Build the guard configured by `settings` (counting in Redis when it is set)."""
        return cls(settings.max_message_chars, RateLimits.from_settings(settings))

    async def check(self, conversation_id: str, raw: str,
                    client_address: str | None = None) -> GuardResult:
        """Decide whether the message `raw` of conversation `conversation_id` goes on.

        Empty messages are rejected without counting; every other message counts
        towards the rate limits, so a flood of over-long messages is limited too.

        Args:
            conversation_id: the conversation the message is for.
            raw: the message as received.
            client_address: the sender's address (see `ratelimit.client_address`);
                None when the channel has no meaningful one (Slack).
        """
        text = clean_text(raw)
        if not text:
            return GuardResult(Verdict.EMPTY)
        wait = await self.limits.hit(conversation_id, client_address)
        if wait > 0:
            return GuardResult(Verdict.RATE_LIMITED, retry_after_seconds=wait)
        if len(text) > self.max_chars:
            return GuardResult(Verdict.TOO_LONG)
        return GuardResult(Verdict.ACCEPTED, text)


def is_valid_session_id(session_id: object) -> bool:
    """True for a widget session id (32 lowercase hex digits, as `uuid4().hex`)."""
    return isinstance(session_id, str) and bool(_SESSION_ID.match(session_id))


def restrict_payload(text: str, offered_payloads: Collection[str]) -> str:
    """Keep a `/intent{...}` payload only if the bot offered it as a button.

    Anyone can type `/inform{"email": "x@y.z"}` and Rasa would set the entity (and so
    the slot) without NLU. A payload the bot just offered as a button is passed as is;
    any other payload keeps its intent but loses its entities and confidence, so it
    can never set a slot the conversation did not ask for.

    Args:
        text: the cleaned message.
        offered_payloads: payloads of the buttons in the bot's latest turn.

    Returns:
        The message to hand to Rasa.
    """
    if text in offered_payloads:
        return text
    match = _PAYLOAD_PREFIX.match(text)
    if match is None:
        return text
    return "/" + match.group(1)


def refusal_text(verdict: Verdict, max_chars: int, template: str | None = None) -> str:
    """The polite answer to a refused message.

    Args:
        verdict: why the message was refused (`TOO_LONG` or `RATE_LIMITED`).
        max_chars: the size limit, substituted for `{max_chars}`.
        template: the domain's response text, if the domain has one.
    """
    if template is None:
        template = (
            DEFAULT_TOO_LONG_TEXT if verdict is Verdict.TOO_LONG else DEFAULT_RATE_LIMITED_TEXT
        )
    return template.replace("{max_chars}", str(max_chars))
