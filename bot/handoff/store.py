"""Where the replicas keep handoffs and pass messages to each other: Redis, or memory.

`RedisHandoffStore` keeps each conversation's `HandoffState` (and the thread -> conversation
index) in Redis, changed only by compare-and-set, and carries deliveries over Redis
pub/sub: a Slack event may reach any replica while the visitor's socket is on one, so the
replica that handles the event publishes and every replica emits to its own sockets.
`MemoryHandoffStore` does the same within one process, for a single server without
Redis. `handoff_store_for(settings)` picks one, as `bot.channels.dedupe` does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from bot.handoff.states import Change, HandoffState, Status, advance, may_start
from bot.settings import Settings
from bot.shared_redis import async_redis_for, key_prefix

logger = logging.getLogger(__name__)

# A handoff's record outlives it by this much: long enough that nobody is offered a
# second handoff right after a first went unanswered, short enough to keep Redis small.
STATE_TTL_SECONDS = 24 * 3600
# Compare-and-set attempts before a change is given up (only under heavy contention).
_CAS_ATTEMPTS = 5

Delivery = Mapping[str, Any]
Listener = Callable[[Delivery], Awaitable[None]]

# Replace the value only if it is still the one read (or absent, when that was read).
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  if ARGV[4] ~= '' then
    redis.call('SET', KEYS[2], ARGV[5], 'EX', ARGV[3])
  end
  return 1
end
return 0
"""


class HandoffStore(Protocol):
    """Shared handoff state and deliveries between replicas."""

    async def get(self, conversation_id: str) -> HandoffState | None:
        """The conversation's handoff, if it has one on record."""

    async def by_thread(self, thread_ts: str) -> HandoffState | None:
        """The handoff whose sales-channel thread is `thread_ts`."""

    async def start(self, conversation_id: str) -> HandoffState | None:
        """Record a new `REQUESTED` handoff; None when `may_start` refuses."""

    async def change(self, conversation_id: str, change: Change,
                     **fields: str) -> HandoffState | None:
        """Apply `change` (and set `fields`); None when it does not apply now."""

    async def publish(self, delivery: Delivery) -> None:
        """Hand `delivery` to every replica's listener (this one's too)."""

    async def listen(self, listener: Listener) -> None:
        """Call `listener` for every delivery, until cancelled."""


class MemoryHandoffStore:
    """The store of a single process (no Redis): a dict and a list of listeners."""

    def __init__(self) -> None:
        self._states: dict[str, HandoffState] = {}
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()

    async def get(self, conversation_id: str) -> HandoffState | None:
        return self._states.get(conversation_id)

    async def by_thread(self, thread_ts: str) -> HandoffState | None:
        return next((s for s in self._states.values() if s.thread_ts == thread_ts), None)

    async def start(self, conversation_id: str) -> HandoffState | None:
        async with self._lock:
            if not may_start(self._states.get(conversation_id)):
                return None
            state = HandoffState(conversation_id, Status.REQUESTED)
            self._states[conversation_id] = state
            return state

    async def change(self, conversation_id: str, change: Change,
                     **fields: str) -> HandoffState | None:
        async with self._lock:
            current = self._states.get(conversation_id)
            status = advance(current.status, change) if current else None
            if current is None or status is None:
                return None
            self._states[conversation_id] = current.moved(status, **fields)
            return self._states[conversation_id]

    async def publish(self, delivery: Delivery) -> None:
        for listener in list(self._listeners):
            try:
                await listener(delivery)
            except Exception:
                logger.exception("handoff: a delivery failed")

    async def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            self._listeners.remove(listener)


class RedisHandoffStore:
    """The store shared by every replica, in Redis (asyncio client)."""

    def __init__(self, client: Any, key_prefix: str,
                 ttl_seconds: int = STATE_TTL_SECONDS) -> None:
        """Use `client` (a `redis.asyncio.Redis`) with keys under `key_prefix`."""
        self.client = client
        self.ttl_seconds = ttl_seconds
        self._prefix = f"{key_prefix}:handoff"
        self.channel = f"{self._prefix}:deliveries"
        self._cas = client.register_script(_COMPARE_AND_SET)

    def _key(self, conversation_id: str) -> str:
        return f"{self._prefix}:conversation:{conversation_id}"

    def _thread_key(self, thread_ts: str) -> str:
        return f"{self._prefix}:thread:{thread_ts}"

    async def _read(self, conversation_id: str) -> tuple[str, HandoffState | None]:
        raw = await self.client.get(self._key(conversation_id))
        if raw is None:
            return "", None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return text, HandoffState.from_json(text)

    async def get(self, conversation_id: str) -> HandoffState | None:
        return (await self._read(conversation_id))[1]

    async def by_thread(self, thread_ts: str) -> HandoffState | None:
        conversation_id = await self.client.get(self._thread_key(thread_ts))
        if conversation_id is None:
            return None
        return await self.get(conversation_id.decode() if isinstance(conversation_id, bytes)
                              else str(conversation_id))

    async def _replace(self, expected: str, state: HandoffState) -> bool:
        thread = self._thread_key(state.thread_ts) if state.thread_ts else ""
        done = await self._cas(keys=[self._key(state.conversation_id), thread or "-"],
                               args=[expected, state.to_json(), self.ttl_seconds,
                                     thread, state.conversation_id])
        return bool(done)

    async def start(self, conversation_id: str) -> HandoffState | None:
        for _ in range(_CAS_ATTEMPTS):
            expected, current = await self._read(conversation_id)
            if not may_start(current):
                return None
            state = HandoffState(conversation_id, Status.REQUESTED)
            if await self._replace(expected, state):
                return state
        return None

    async def change(self, conversation_id: str, change: Change,
                     **fields: str) -> HandoffState | None:
        for _ in range(_CAS_ATTEMPTS):
            expected, current = await self._read(conversation_id)
            status = advance(current.status, change) if current else None
            if current is None or status is None:
                return None
            state = current.moved(status, **fields)
            if await self._replace(expected, state):
                return state
        logger.warning("handoff: gave up a change after %d conflicting writes", _CAS_ATTEMPTS)
        return None

    async def publish(self, delivery: Delivery) -> None:
        await self.client.publish(self.channel, json.dumps(dict(delivery)))

    async def listen(self, listener: Listener) -> None:
        """Subscribe and call `listener` for each delivery; resubscribes after an error."""
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    # Polled with a short wait: the client's socket timeout must not be
                    # mistaken for a lost connection while the channel is quiet.
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        await listener(json.loads(message["data"]))
                    except Exception:
                        logger.exception("handoff: a delivery failed")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("handoff: Redis subscription lost (%s); retrying",
                               type(error).__name__)
                await asyncio.sleep(1.0)
            finally:
                await pubsub.close()


def handoff_store_for(settings: Settings) -> HandoffStore:
    """Redis when `REDIS_HOST` is set (replicas share it), else this process's memory."""
    client = async_redis_for(settings)
    if client is None:
        return MemoryHandoffStore()
    return RedisHandoffStore(client, key_prefix(settings))
