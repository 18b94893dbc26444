"""Slack's delivery ids shared by replicas through a real Redis server."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from bot.channels.dedupe import RecentIds, SharedRecentIds, recent_ids_for
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


def test_a_delivery_seen_by_one_replica_is_a_duplicate_on_another(
        client: redis.Redis, prefix: str) -> None:
    replica_a, replica_b = SharedRecentIds(client, prefix), SharedRecentIds(client, prefix)
    assert replica_a.first_time("event:Ev1") is True
    assert replica_b.first_time("event:Ev1") is False  # Slack's retry, on the other replica
    assert replica_b.first_time("event:Ev2") is True
    assert replica_a.first_time("event:Ev2") is False


def test_ids_are_forgotten_after_their_time(client: redis.Redis, prefix: str) -> None:
    seen = SharedRecentIds(client, prefix, ttl_seconds=1)
    assert seen.first_time("event:Ev3") is True
    assert 0 < client.ttl(f"{prefix}:seen:event:Ev3") <= 1
    time.sleep(1.2)
    assert seen.first_time("event:Ev3") is True


def test_without_redis_a_replica_still_dedupes_on_its_own(prefix: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    unreachable = redis.Redis(host="127.0.0.1", port=closed_port, socket_timeout=1,
                              socket_connect_timeout=1)
    seen = SharedRecentIds(unreachable, prefix)
    assert seen.first_time("event:Ev4") is True  # answered, not dropped
    assert seen.first_time("event:Ev4") is False


def test_redis_is_used_when_the_replicas_share_one(client: redis.Redis, prefix: str) -> None:
    host = client.connection_pool.connection_kwargs["host"]
    port = client.connection_pool.connection_kwargs["port"]
    shared = recent_ids_for(load_settings({"REDIS_HOST": host, "REDIS_PORT": str(port),
                                           "REDIS_KEY_PREFIX": prefix}))
    assert isinstance(shared, SharedRecentIds)
    assert shared.first_time("event:Ev5") is True
    assert client.exists(f"{prefix}:seen:event:Ev5") == 1
    assert isinstance(recent_ids_for(load_settings({})), RecentIds)
