"""The asyncio Redis client the replicas share state through: the channels' dedupe and
rate limits, and the handoff's state and messages.

Only the asyncio client is used inside the server: a blocking call on the event loop
would stall every conversation of the replica while Redis answers (or times out).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.settings import Settings

# Short: a Redis that does not answer must not hold up a visitor's turn for long.
REDIS_TIMEOUT_SECONDS = 2.0
# After a failed call, how long a replica works from its own memory before it tries
# Redis again (so that a message does not wait for the timeout on every call).
REDIS_RETRY_AFTER_SECONDS = 10.0


class RedisBreaker:
    """Remembers that Redis just failed, so callers use their own memory for a while.

    Without it every message would wait for the timeout again (three times for the three
    rate limits), and Slack, which waits 3 s for an acknowledgement, would retry.
    """

    def __init__(self, retry_after_seconds: float = REDIS_RETRY_AFTER_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Create a closed breaker (Redis is tried)."""
        self.retry_after_seconds = retry_after_seconds
        self._clock = clock
        self._down_until = 0.0

    @property
    def is_open(self) -> bool:
        """True while Redis is left alone after a failure."""
        return self._clock() < self._down_until

    def trip(self) -> None:
        """Record a failure: leave Redis alone for `retry_after_seconds`."""
        self._down_until = self._clock() + self.retry_after_seconds


def async_redis_for(settings: Settings) -> Any | None:
    """A `redis.asyncio.Redis` for the configured server, or None when none is configured.

    Nothing connects here: the client opens its connections on first use, inside the
    server's event loop.
    """
    if not settings.redis_host:
        return None
    import redis.asyncio

    return redis.asyncio.Redis(
        host=settings.redis_host, port=settings.redis_port, db=settings.redis_db,
        password=settings.redis_password or None, socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS)


def key_prefix(settings: Settings) -> str:
    """The prefix of every key the channels write (`REDIS_KEY_PREFIX`, else `advisor`)."""
    return settings.redis_key_prefix or "advisor"
