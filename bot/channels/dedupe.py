"""Remembering recently seen ids, so a delivery that arrives twice is handled once.

`RecentIds` remembers in the process; `SharedRecentIds` in Redis, so that a retry that a
load balancer sends to another replica is still recognised. `recent_ids_for(settings)`
picks the shared one when Redis is configured (production), else the local one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from bot.settings import Settings
from bot.shared_redis import RedisBreaker, async_redis_for, key_prefix

logger = logging.getLogger(__name__)


class SeenIds(Protocol):
    """Anything that can tell whether an id is new, without blocking the event loop."""

    async def first_time(self, item: str) -> bool:
        """Record `item`; True if it was not seen recently."""


class RecentIds:
    """A bounded set of ids that forgets each id `ttl_seconds` after it was first seen.

    In memory and per process: Slack's retries are also dropped by their header, so
    this is the second line of defence, for a duplicate delivered without one.
    """

    def __init__(
        self,
        ttl_seconds: float = 600.0,
        max_ids: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create an empty set.

        Args:
            ttl_seconds: how long an id is remembered.
            max_ids: the most ids kept; the oldest are forgotten first.
            clock: monotonic time source (injected by tests).
        """
        self.ttl_seconds = ttl_seconds
        self.max_ids = max_ids
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, item: str) -> bool:
        """Record `item`; True if it was not seen within the last `ttl_seconds`."""
        now = self._clock()
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at < self.ttl_seconds and len(self._seen) < self.max_ids:
                    break
                del self._seen[oldest]
            if item in self._seen:
                return False
            self._seen[item] = now
            return True

    def __len__(self) -> int:
        return len(self._seen)


class LocalSeenIds:
    """`RecentIds` behind the async `SeenIds` interface (no I/O, so nothing to wait for)."""

    def __init__(self, ids: RecentIds) -> None:
        """Wrap `ids`."""
        self.ids = ids

    async def first_time(self, item: str) -> bool:
        """Record `item`; True if this process did not see it recently."""
        return self.ids.first_time(item)


class SharedRecentIds:
    """Recently seen ids kept in Redis, shared by every replica.

    Each id is one key set with `SET NX EX`: atomic, so of two replicas handed the same
    delivery exactly one sees it first, and Redis forgets it after `ttl_seconds`. When
    Redis cannot be reached the replica falls back to its own memory (logged): a
    duplicate may then be answered twice, but no message is dropped.
    """

    def __init__(self, client: Any, key_prefix: str, ttl_seconds: float = 600.0) -> None:
        """Use `client` (a `redis.asyncio.Redis`: never a blocking call on the event loop)
        with keys under `key_prefix`."""
        self.client = client
        self.key_prefix = key_prefix
        self.ttl_seconds = ttl_seconds
        self.local = RecentIds(ttl_seconds)
        self.breaker = RedisBreaker()

    async def first_time(self, item: str) -> bool:
        """Record `item`; True if no replica saw it within the last `ttl_seconds`."""
        import redis

        if self.breaker.is_open:
            return self.local.first_time(item)
        try:
            created = await self.client.set(f"{self.key_prefix}:seen:{item}", 1, nx=True,
                                            ex=max(1, int(self.ttl_seconds)))
        except (redis.RedisError, OSError) as error:
            logger.warning("shared dedupe unavailable (%s); using this replica's memory "
                           "for %.0f s", type(error).__name__,
                           self.breaker.retry_after_seconds)
            self.breaker.trip()
            return self.local.first_time(item)
        return bool(created)


def recent_ids_for(settings: Settings, ttl_seconds: float = 600.0) -> SeenIds:
    """Shared ids in Redis when `REDIS_HOST` is set, else this process's memory."""
    client = async_redis_for(settings)
    if client is None:
        return LocalSeenIds(RecentIds(ttl_seconds))
    return SharedRecentIds(client, key_prefix(settings), ttl_seconds)
