"""Rate limits a client cannot dodge (issue 13, item 9): per address, global, shared by
replicas through Redis, and `X-Forwarded-For` believed from configured proxies only.

Each test runs the guarded REST channel in real servers (`tests.support.rest_channel_app`)
and talks to it over HTTP from 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import redis
import requests

from bot.launcher import ServerProcess
from tests.integration.test_rest_channel import TOKEN, start_rest_channel

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def servers(count: int = 1, **settings: str) -> Iterator[list[str]]:
    started: list[tuple[ServerProcess, str]] = []
    try:
        for _ in range(count):
            started.append(start_rest_channel(TOKEN, **settings))
        yield [url for _, url in started]
    finally:
        for server, _ in started:
            server.stop()


def send(url: str, sender: str | None = None, forwarded_for: str | None = None) -> int:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    body = {"sender": sender or uuid.uuid4().hex, "message": "hello"}
    answer = requests.post(url, data=json.dumps(body), headers=headers, timeout=10)
    return answer.status_code


def test_new_sender_ids_and_forged_forwarded_for_do_not_escape_the_address_limit() -> None:
    # No trusted proxy: the header is the client's own words, and each message a new
    # conversation, so only the per-address limit can stop this flood.
    with servers(RATE_LIMIT_CLIENT_MESSAGES="5") as (url,):
        codes = [send(url, forwarded_for=f"198.51.100.{n}") for n in range(8)]
    assert codes == [200] * 5 + [429] * 3


def test_the_global_limit_caps_everyone_together() -> None:
    with servers(TRUSTED_PROXIES="127.0.0.1", RATE_LIMIT_CLIENT_MESSAGES="100",
                 RATE_LIMIT_GLOBAL_MESSAGES="4") as (url,):
        codes = [send(url, forwarded_for=f"198.51.100.{n}") for n in range(6)]
    assert codes == [200] * 4 + [429] * 2


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    with servers(TRUSTED_PROXIES="127.0.0.0/8", RATE_LIMIT_CLIENT_MESSAGES="2") as (url,):
        visitor_a = [send(url, forwarded_for="203.0.113.7") for _ in range(3)]
        # A forged first hop is not believed: the proxy appended the real address last.
        forged = send(url, forwarded_for="203.0.113.9, 203.0.113.7")
        visitor_b = send(url, forwarded_for="203.0.113.8")
    assert visitor_a == [200, 200, 429]
    assert forged == 429
    assert visitor_b == 200


@pytest.mark.redis
def test_replicas_share_the_counters_in_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.ping()
    location = urlsplit(REDIS_URL)
    prefix = f"test-rate-{uuid.uuid4().hex[:8]}"
    try:
        with servers(2, REDIS_HOST=location.hostname or "127.0.0.1",
                     REDIS_PORT=str(location.port or 6379),
                     REDIS_DB=(location.path.strip("/") or "0"), REDIS_KEY_PREFIX=prefix,
                     RATE_LIMIT_MESSAGES="3", RATE_LIMIT_CLIENT_MESSAGES="100") as urls:
            # One conversation, its messages spread over both replicas.
            codes = [send(urls[n % 2], sender="flooder") for n in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        assert client.exists(f"{prefix}:rate:conversation:rest:flooder")
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
