"""No blocking Redis call on the event loop (issue 13, item 12).

A Redis that accepts connections but never answers stands in for a slow or stuck one:
while the Slack dedupe or the lock store waits for it, the replica's event loop must go
on serving every other conversation. The lock store is also checked against a real
Redis: two replicas' turns of one conversation still run one at a time.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from rasa.core.lock_store import LockError

from bot.channels.dedupe import SharedRecentIds, recent_ids_for
from bot.channels.ratelimit import RateLimits, RedisRateLimiter
from bot.rasa.lock_store import AtomicRedisLockStore
from bot.settings import load_settings

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STALL_SECONDS = 1.5


@pytest.fixture
def silent_redis() -> Iterator[int]:
    """A port where connections are accepted and nothing is ever answered."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for connection in accepted:
        connection.close()
    server.close()


async def ticks_while(work: Callable[[], Awaitable[Any]]) -> tuple[int, float]:
    """How often a 50 ms ticker ran while `work` was awaited, and how long that took."""
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    started = time.monotonic()
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the stalled call raises
            await work()
    finally:
        elapsed = time.monotonic() - started
        done.set()
        await task
    return ticks, elapsed


def test_the_slack_dedupe_does_not_block_the_loop_on_a_stalled_redis(
        silent_redis: int) -> None:
    seen = recent_ids_for(load_settings({"REDIS_HOST": "127.0.0.1",
                                         "REDIS_PORT": str(silent_redis)}))
    assert isinstance(seen, SharedRecentIds)

    async def check() -> tuple[int, float]:
        async def first_time() -> None:
            assert await seen.first_time("event:Ev1") is True  # its own memory, then
            raise TimeoutError("answered from memory after the stall")

        return await ticks_while(first_time)

    ticks, elapsed = asyncio.run(check())
    assert elapsed >= 1.0  # it did wait for Redis...
    assert ticks >= elapsed / 0.05 * 0.5  # ...and the loop ran meanwhile


def test_the_lock_store_does_not_block_the_loop_on_a_stalled_redis(
        silent_redis: int) -> None:
    store = AtomicRedisLockStore(host="127.0.0.1", port=silent_redis,
                                 socket_timeout=STALL_SECONDS)

    async def check() -> tuple[int, float]:
        async def turn() -> None:
            async with store.lock("conversation-1"):
                pass

        return await ticks_while(turn)

    ticks, elapsed = asyncio.run(check())
    assert elapsed >= 1.0
    assert ticks >= elapsed / 0.05 * 0.5


def test_a_stalled_lock_store_fails_the_turn_with_a_lock_error(silent_redis: int) -> None:
    store = AtomicRedisLockStore(host="127.0.0.1", port=silent_redis, socket_timeout=0.5)

    async def turn() -> None:
        async with store.lock("conversation-2"):
            pass

    with pytest.raises(LockError):
        asyncio.run(turn())


@pytest.mark.redis
def test_two_replicas_run_one_conversations_turns_one_at_a_time() -> None:
    location = urlsplit(REDIS_URL)
    prefix = "test" + uuid.uuid4().hex[:8]
    options = {"host": location.hostname or "127.0.0.1", "port": location.port or 6379,
               "db": int(location.path.strip("/") or 0), "key_prefix": prefix}
    inside = 0
    overlaps = 0
    order: list[int] = []

    async def turn(store: AtomicRedisLockStore, n: int) -> None:
        nonlocal inside, overlaps
        async with store.lock("shared-conversation", wait_time_in_seconds=0.02):
            inside += 1
            overlaps += inside > 1
            await asyncio.sleep(0.05)
            order.append(n)
            inside -= 1

    async def scenario() -> None:
        replicas = [AtomicRedisLockStore(**options), AtomicRedisLockStore(**options)]
        await asyncio.gather(*(turn(replicas[n % 2], n) for n in range(8)))

    asyncio.run(scenario())
    assert overlaps == 0 and sorted(order) == list(range(8))
    client = redis.Redis(**{k: v for k, v in options.items() if k != "key_prefix"})
    try:
        assert not list(client.scan_iter(f"{prefix}:*"))  # every lock released
    finally:
        client.close()


def test_the_shared_rate_limit_does_not_block_the_loop_and_falls_back(
        silent_redis: int) -> None:
    limits = RateLimits.from_settings(load_settings({
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(silent_redis),
        "RATE_LIMIT_MESSAGES": "1"}))
    assert isinstance(limits.conversation, RedisRateLimiter)

    async def check() -> tuple[tuple[int, float], float, float]:
        async def first() -> None:
            assert await limits.hit("c1", "198.51.100.1") == 0.0  # counted locally
            raise TimeoutError("answered from this replica's counters after the stall")

        stalled = await ticks_while(first)
        started = time.monotonic()
        second = await limits.hit("c1", "198.51.100.1")
        return stalled, second, time.monotonic() - started

    (ticks, elapsed), second, second_took = asyncio.run(check())
    assert ticks >= elapsed / 0.05 * 0.5
    # One timeout for all three limits, then Redis is left alone for a while.
    assert 1.0 <= elapsed < 3.5
    assert second > 0 and second_took < 0.5  # the local fallback still limits, at once
