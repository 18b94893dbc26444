"""The handoff's adapters against the real thing: Redis (state, compare-and-set,
deliveries between replicas) and Slack's Web API stand-in (threads, names)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from bot.handoff.slack_threads import DEFAULT_ENGINEER_NAME, SlackHandoffThreads
from bot.handoff.states import Change, Status
from bot.handoff.store import Delivery, RedisHandoffStore, handoff_store_for
from bot.settings import load_settings
from tests.support.fake_slack import FakeSlack

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = "handoff-test-token"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.ping()  # fails clearly when Redis is not running
    name = f"test-handoff-{uuid.uuid4().hex[:8]}"
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


def _replica(prefix: str) -> RedisHandoffStore:
    return RedisHandoffStore(redis.asyncio.Redis.from_url(REDIS_URL, socket_timeout=5), prefix)


@pytest.mark.redis
def test_two_replicas_share_one_handoff_and_exactly_one_wins_a_race(prefix: str) -> None:
    async def scenario() -> None:
        a, b = _replica(prefix), _replica(prefix)
        assert await a.start("c1") is not None
        assert await b.start("c1") is None  # already under way
        waiting = await b.change("c1", Change.THREAD_OPENED, thread_ts="1700.0001")
        assert waiting is not None and waiting.status is Status.WAITING
        found = await a.by_thread("1700.0001")
        assert found is not None and found.conversation_id == "c1"
        # "/done" on one replica and the wait running out on the other, at once.
        results = await asyncio.gather(a.change("c1", Change.ENDED),
                                       b.change("c1", Change.WAIT_EXPIRED))
        assert sum(r is not None for r in results) == 1
        final = await a.get("c1")
        assert final is not None and final.status in (Status.ENDED, Status.TIMED_OUT)
        assert await b.change("c1", Change.ENGINEER_REPLIED) is None

    asyncio.run(scenario())


@pytest.mark.redis
def test_many_replicas_starting_at_once_start_one_handoff(prefix: str) -> None:
    async def scenario() -> list[Any]:
        replicas = [_replica(prefix) for _ in range(6)]
        return await asyncio.gather(*(r.start("c2") for r in replicas))

    assert sum(s is not None for s in asyncio.run(scenario())) == 1


@pytest.mark.redis
def test_a_delivery_published_on_one_replica_reaches_the_other(prefix: str) -> None:
    async def scenario() -> list[Delivery]:
        holder, other = _replica(prefix), _replica(prefix)
        received: list[Delivery] = []

        async def deliver(delivery: Delivery) -> None:
            received.append(delivery)

        listener = asyncio.ensure_future(holder.listen(deliver))
        await asyncio.sleep(0.3)  # subscribed
        # Quiet for longer than the client's socket timeout would allow a blocking read.
        await other.publish({"conversation_id": "c3", "kind": "message", "text": "hi"})
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.05)
        listener.cancel()
        return received

    assert asyncio.run(scenario()) == [{"conversation_id": "c3", "kind": "message",
                                        "text": "hi"}]


@pytest.mark.redis
def test_the_settings_choose_redis_when_it_is_configured(prefix: str) -> None:
    assert isinstance(handoff_store_for(load_settings({"REDIS_HOST": "127.0.0.1",
                                                       "REDIS_KEY_PREFIX": prefix})),
                      RedisHandoffStore)
    assert not isinstance(handoff_store_for(load_settings({})), RedisHandoffStore)


def test_a_thread_in_the_sales_channel_through_the_web_api() -> None:
    async def scenario(slack: FakeSlack) -> str:
        threads = SlackHandoffThreads(TOKEN, "C0SALES", slack.base_url, timeout_seconds=5)
        ts = await threads.open("A visitor asks", [{"type": "section", "text": {
            "type": "mrkdwn", "text": "brief"}}])
        await threads.post(ts, "*Visitor:* are you there?")
        slack.user_names["U0DANA"] = "Dana"
        assert await threads.display_name("U0DANA") == "Dana"
        return ts

    with FakeSlack(token=TOKEN) as slack:
        ts = asyncio.run(scenario(slack))
        first, reply = slack.replies("C0SALES", ts)
        assert first["text"] == "A visitor asks" and first["thread_ts"] is None
        assert (reply["thread_ts"], reply["text"]) == (ts, "*Visitor:* are you there?")
        assert reply["blocks"][0]["text"]["text"] == "*Visitor:* are you there?"


def test_an_engineer_whose_name_slack_will_not_tell_is_the_team() -> None:
    async def scenario(slack: FakeSlack) -> str:
        threads = SlackHandoffThreads(TOKEN, "C0SALES", slack.base_url, timeout_seconds=5)
        slack.fail_next(body={"ok": False, "error": "missing_scope"})
        return await threads.display_name("U0DANA")

    with FakeSlack(token=TOKEN) as slack:
        assert asyncio.run(scenario(slack)) == DEFAULT_ENGINEER_NAME


def test_a_refused_post_raises_so_the_desk_offers_the_lead_form() -> None:
    async def scenario(slack: FakeSlack) -> None:
        threads = SlackHandoffThreads(TOKEN, "C0SALES", slack.base_url, timeout_seconds=5)
        slack.fail_next(body={"ok": False, "error": "not_in_channel"})
        await threads.open("A visitor asks", [])

    with FakeSlack(token=TOKEN) as slack, pytest.raises(Exception, match="not_in_channel"):
        asyncio.run(scenario(slack))
