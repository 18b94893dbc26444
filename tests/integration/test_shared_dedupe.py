"""Slack's delivery ids shared by replicas through a real Redis server (asyncio client)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from bot.channels.dedupe import LocalSeenIds, SharedRecentIds, recent_ids_for
from bot.settings import load_settings

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    connection.ping()  # fails clearly when Redis is not running
    yield connection
    connection.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"test-dedupe-{uuid.uuid4().hex[:8]}"
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def _async_client(**options: object) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(REDIS_URL, socket_timeout=5, **options)


def test_a_delivery_seen_by_one_replica_is_a_duplicate_on_another(prefix: str) -> None:
    async def scenario() -> list[bool]:
        replica_a = SharedRecentIds(_async_client(), prefix)
        replica_b = SharedRecentIds(_async_client(), prefix)
        return [await replica_a.first_time("event:Ev1"),
                await replica_b.first_time("event:Ev1"),  # Slack's retry, elsewhere
                await replica_b.first_time("event:Ev2"),
                await replica_a.first_time("event:Ev2")]

    assert asyncio.run(scenario()) == [True, False, True, False]


def test_ids_are_forgotten_after_their_time(client: redis.Redis, prefix: str) -> None:
    async def scenario() -> list[bool]:
        seen = SharedRecentIds(_async_client(), prefix, ttl_seconds=1)
        first = await seen.first_time("event:Ev3")
        assert 0 < client.ttl(f"{prefix}:seen:event:Ev3") <= 1
        await asyncio.sleep(1.2)
        return [first, await seen.first_time("event:Ev3")]

    assert asyncio.run(scenario()) == [True, True]


def test_without_redis_a_replica_still_dedupes_on_its_own(prefix: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    async def scenario() -> list[bool]:
        unreachable = redis.asyncio.Redis(host="127.0.0.1", port=closed_port,
                                          socket_timeout=1, socket_connect_timeout=1)
        seen = SharedRecentIds(unreachable, prefix)
        return [await seen.first_time("event:Ev4"), await seen.first_time("event:Ev4")]

    assert asyncio.run(scenario()) == [True, False]  # answered once, not dropped


def test_redis_is_used_when_the_replicas_share_one(client: redis.Redis, prefix: str) -> None:
    host = client.connection_pool.connection_kwargs["host"]
    port = client.connection_pool.connection_kwargs["port"]
    db = client.connection_pool.connection_kwargs.get("db", 0)
    shared = recent_ids_for(load_settings({"REDIS_HOST": host, "REDIS_PORT": str(port),
                                           "REDIS_DB": str(db), "REDIS_KEY_PREFIX": prefix}))
    assert isinstance(shared, SharedRecentIds)
    assert isinstance(shared.client, redis.asyncio.Redis)
    assert asyncio.run(shared.first_time("event:Ev5")) is True
    assert client.exists(f"{prefix}:seen:event:Ev5") == 1
    assert isinstance(recent_ids_for(load_settings({})), LocalSeenIds)
