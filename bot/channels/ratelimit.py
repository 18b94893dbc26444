"""Rate limits on incoming messages: per conversation, per client address and global.

The conversation id is chosen by the client, so a limit on it alone is bypassed by
sending each message under a new id. The address limit catches that, and the global
limit caps what the whole deployment accepts from everyone. With Redis configured the
counters live there, so every replica counts the same messages; without it each replica
counts its own (the in-memory `SlidingWindowRateLimiter`).

A client's address is the TCP peer, unless the peer is one of `TRUSTED_PROXIES`: only
then is `X-Forwarded-For` read, from the right, skipping the trusted hops.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from bot.settings import Settings, SettingsError
from bot.shared_redis import RedisBreaker, async_redis_for, key_prefix

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# A sliding window in one sorted set per key, with Redis's own clock so that replicas
# with skewed clocks agree. Returns "0" when the hit is recorded, else the seconds to wait.
_SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(math.max(tonumber(oldest[2]) + window - now, 0.001))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class SlidingWindowRateLimiter:
    """At most `max_messages` per key in any `window_seconds`; in memory, per process.

    Each Rasa replica keeps its own windows: behind a load balancer that spreads one
    conversation over N replicas the effective limit is up to N times higher, which is
    acceptable for a guard against floods (the lock store still serialises the turns).
    """

    def __init__(
        self,
        max_messages: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        """Create a limiter.

        Args:
            max_messages: messages allowed per window; 0 or less switches the limit off.
            window_seconds: length of the sliding window.
            clock: monotonic time source (injected by tests).
            max_keys: conversations tracked before idle ones are pruned.
        """
        self.max_messages = max_messages
        self.window_seconds = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        # Sanic handlers run on one loop, but the limiter is also used from threads in
        # tests and tools; a lock keeps it correct in both.
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when the limit is switched off."""
        return self.max_messages > 0 and self.window_seconds > 0

    def hit(self, key: str) -> float:
        """Record a message for `key`.

        Returns:
            0.0 when the message is allowed, otherwise the seconds until it would be.
        """
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self._max_keys:
                    self._prune(now)
                hits = self._hits[key] = deque()
            while hits and now - hits[0] >= self.window_seconds:
                hits.popleft()
            if len(hits) >= self.max_messages:
                return max(hits[0] + self.window_seconds - now, 0.001)
            hits.append(now)
            return 0.0

    def _prune(self, now: float) -> None:
        idle = [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window_seconds]
        for key in idle:
            del self._hits[key]
        if len(self._hits) >= self._max_keys:
            # Still full of active keys: forget the oldest half rather than grow forever.
            by_age = sorted(self._hits, key=lambda k: self._hits[k][-1])
            for key in by_age[: len(by_age) // 2]:
                del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


class RateLimiter(Protocol):
    """Counts hits per key; answers how long to wait (0.0: allowed)."""

    @property
    def enabled(self) -> bool:
        """False when the limit is switched off."""

    async def hit(self, key: str) -> float:
        """Record a hit for `key`; 0.0 when allowed, else the seconds until it would be."""


class LocalRateLimiter:
    """The in-memory sliding window behind the async `RateLimiter` interface."""

    def __init__(self, window: SlidingWindowRateLimiter) -> None:
        """Wrap `window`."""
        self.window = window

    @property
    def enabled(self) -> bool:
        """False when the limit is switched off."""
        return self.window.enabled

    async def hit(self, key: str) -> float:
        """Record a hit for `key` in this process."""
        return self.window.hit(key)


class RedisRateLimiter:
    """A sliding window kept in Redis, shared by every replica.

    When Redis cannot be reached the replica counts alone (logged): a flood may then get
    up to N replicas' worth of messages through, but no visitor is refused for it.
    """

    def __init__(self, client: Any, key_prefix: str, max_messages: int,
                 window_seconds: float, breaker: RedisBreaker | None = None) -> None:
        """Count in `client` (a `redis.asyncio.Redis`) under keys `<key_prefix>:rate:*`.

        `breaker` is shared by the limiters of one client, so that one failure sends them
        all to their local counters at once.
        """
        self.client = client
        self.key_prefix = key_prefix
        self.max_messages = max_messages
        self.window_seconds = window_seconds
        self.local = SlidingWindowRateLimiter(max_messages, window_seconds)
        self._script: Any = None
        self.breaker = breaker or RedisBreaker()

    @property
    def enabled(self) -> bool:
        """False when the limit is switched off."""
        return self.max_messages > 0 and self.window_seconds > 0

    async def hit(self, key: str) -> float:
        """Record a hit for `key` in Redis (in this process if Redis fails)."""
        if not self.enabled:
            return 0.0
        import redis

        if self.breaker.is_open:
            return self.local.hit(key)
        if self._script is None:
            self._script = self.client.register_script(_SLIDING_WINDOW)
        try:
            wait = await self._script(keys=[f"{self.key_prefix}:rate:{key}"],
                                      args=[self.window_seconds, self.max_messages,
                                            uuid.uuid4().hex])
        except (redis.RedisError, OSError) as error:
            logger.warning("shared rate limit unavailable (%s); counting on this replica "
                           "for %.0f s", type(error).__name__,
                           self.breaker.retry_after_seconds)
            self.breaker.trip()
            return self.local.hit(key)
        return float(wait)


class RateLimits:
    """The three limits a message must pass: its conversation, its address, everyone."""

    def __init__(self, conversation: RateLimiter, client: RateLimiter,
                 everyone: RateLimiter) -> None:
        """Combine the per-conversation, per-address and global limiters."""
        self.conversation = conversation
        self.client = client
        self.everyone = everyone

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """The limits of `settings`, counted in Redis when `REDIS_HOST` is set."""
        window = settings.rate_limit_window_seconds
        sizes = (settings.rate_limit_messages, settings.rate_limit_client_messages,
                 settings.rate_limit_global_messages)
        client = async_redis_for(settings)
        if client is None:
            local = [LocalRateLimiter(SlidingWindowRateLimiter(n, window)) for n in sizes]
            return cls(*local)
        prefix, breaker = key_prefix(settings), RedisBreaker()
        shared = [RedisRateLimiter(client, prefix, n, window, breaker) for n in sizes]
        return cls(*shared)

    async def hit(self, conversation_id: str, client_address: str | None) -> float:
        """Count one message; 0.0 when every limit allows it, else the seconds to wait.

        Args:
            conversation_id: the conversation the message is for.
            client_address: the sender's address; None for a channel whose requests all
                come from one service (Slack), which only the other two limits apply to.
        """
        wait = await self.conversation.hit(f"conversation:{conversation_id}")
        if wait > 0:
            return wait
        if client_address is not None:
            wait = await self.client.hit(f"client:{client_address}")
            if wait > 0:
                logger.info("rate limit: a client address is over its limit")
                return wait
        wait = await self.everyone.hit("global")
        if wait > 0:
            logger.warning("rate limit: the global limit is reached")
        return wait


def parse_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` entries as networks (a bare address is a /32 or /128).

    Raises:
        SettingsError: an entry is neither an address nor a CIDR range.
    """
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise SettingsError(
                f"TRUSTED_PROXIES must list addresses or CIDR ranges, got {entry!r}") from exc
    return tuple(networks)


def _is_trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None,
                   proxies: tuple[Network, ...]) -> str:
    """The address a request came from, believing `X-Forwarded-For` only from `proxies`.

    Args:
        peer: the TCP peer's address.
        forwarded_for: the `X-Forwarded-For` header (all of them, comma-joined).
        proxies: the trusted proxies.

    Returns:
        `peer` when it is not a trusted proxy or sent no header; otherwise the rightmost
        address of the header that is not itself a trusted proxy (the left part of the
        header is whatever the client wrote, and is never believed).
    """
    if not forwarded_for or not _is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop added by a trusted proxy: do not guess
    return hops[0] if hops else peer


def request_address(request: Any, proxies: tuple[Network, ...]) -> str:
    """`client_address` of a Sanic request (its peer and every `X-Forwarded-For` header)."""
    headers = request.headers.getall("x-forwarded-for", [])
    return client_address(str(request.ip or ""), ",".join(headers) or None, proxies)
