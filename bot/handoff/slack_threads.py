"""The handoff's side of Slack: a thread per handoff in the sales channel (Web API).

Bot token scopes: `chat:write`, `users:read` (the engineer's name shown to the visitor)
and the channel's history scope for its thread messages to reach the Events API
(`channels:history`, or `groups:history` for a private channel).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import plain_text, text_blocks

logger = logging.getLogger(__name__)

# Who a sales engineer is to the visitor when Slack cannot tell their name.
DEFAULT_ENGINEER_NAME = "our solutions team"


class HandoffThreads(Protocol):
    """The sales channel's threads, one per handoff."""

    async def open(self, text: str, blocks: Sequence[dict[str, Any]]) -> str:
        """Post a thread's first message; returns its `ts` (the thread's id)."""

    async def post(self, thread_ts: str, text: str) -> None:
        """Post `text` in the thread."""

    async def display_name(self, user_id: str) -> str:
        """The name a Slack user shows to the visitor."""


class SlackHandoffThreads:
    """`HandoffThreads` in one Slack channel, through the async Web API client."""

    def __init__(self, token: str, channel: str, base_url: str = "https://slack.com/api",
                 timeout_seconds: float = 10.0) -> None:
        """Create the adapter.

        Args:
            token: the bot token (`xoxb-…`).
            channel: the sales channel's id.
            base_url: the Web API base URL (a local stand-in in tests).
            timeout_seconds: timeout of each Web API call.
        """
        self.channel = channel
        self.client = AsyncWebClient(token=token, base_url=base_url.rstrip("/") + "/",
                                     timeout=int(max(1, timeout_seconds)))

    async def open(self, text: str, blocks: Sequence[dict[str, Any]]) -> str:
        answer = await self.client.chat_postMessage(channel=self.channel, text=text,
                                                    blocks=list(blocks))
        return str(answer["ts"])

    async def post(self, thread_ts: str, text: str) -> None:
        await self.client.chat_postMessage(channel=self.channel, thread_ts=thread_ts,
                                           text=plain_text(text), blocks=text_blocks(text))

    async def display_name(self, user_id: str) -> str:
        try:
            answer = await self.client.users_info(user=user_id)
        except Exception:
            logger.warning("handoff: could not read a Slack user's name", exc_info=True)
            return DEFAULT_ENGINEER_NAME
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name")
                or user.get("real_name") or user.get("name"))
        return str(name) if name else DEFAULT_ENGINEER_NAME
