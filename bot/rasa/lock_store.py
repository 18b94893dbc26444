"""A Redis lock store that keeps one conversation's turns in order across replicas.

Use it from an endpoints file as `lock_store: {type: bot.rasa.lock_store.AtomicRedisLockStore,
...}` (see deploy/endpoints.production.yml).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")


class AtomicRedisLockStore(RedisLockStore):  # type: ignore[misc]
    """Rasa's Redis lock store, atomic across replicas and never blocking the event loop.

    Rasa 3.6 issues, expires and releases a conversation's tickets by reading the lock
    from Redis, changing it and writing it back. Two replicas doing that at the same
    moment can hand out the same ticket twice, or delete a lock another replica has just
    queued on, and then two turns of one conversation run at once: the later save skips
    events it thinks are stored, and a message is lost without an error. Each
    read-change-write here runs under a short Redis mutex (SET NX with an expiry), so
    tickets stay unique and turns of a conversation run one at a time.

    Rasa's lock store talks to Redis with the blocking client, from the event loop: a
    slow Redis would stall every conversation of the replica. `lock()` (the only method
    Rasa's server calls) is async here and uses `redis.asyncio` throughout; the blocking
    methods remain for tools outside the server.

    Use it from an endpoints file as `lock_store: {type: bot.rasa.lock_store.AtomicRedisLockStore,
    url: ..., port: ..., db: ..., key_prefix: ...}`.
    """

    # Long enough for one read-change-write, short enough that a crashed replica's
    # mutex frees itself quickly.
    MUTEX_SECONDS = 5.0

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        super().__init__(**kwargs)
        import redis.asyncio

        options = self.red.connection_pool.connection_kwargs
        self.async_red = redis.asyncio.Redis(
            host=options.get("host", "localhost"), port=options.get("port", 6379),
            db=options.get("db", 0), username=options.get("username"),
            password=options.get("password"), socket_timeout=options.get("socket_timeout"),
            socket_connect_timeout=options.get("socket_timeout"),
            ssl=bool(kwargs.get("use_ssl")), ssl_certfile=kwargs.get("ssl_certfile"),
            ssl_keyfile=kwargs.get("ssl_keyfile"), ssl_ca_certs=kwargs.get("ssl_ca_certs"))

    # ---- what the server uses: asyncio only ---------------------------------------------

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for one turn, waiting for earlier turns first.

        Raises:
            LockError: Redis failed, or the lock expired while waiting.
        """
        ticket = await self._change(conversation_id, lambda lock: _issue(
            lock or TicketLock(conversation_id), lock_lifetime))
        try:
            while True:
                current = await self._read(conversation_id)
                if current is None:
                    break  # expired while we waited
                if not current.is_locked(ticket):
                    yield current
                    return
                await asyncio.sleep(wait_time_in_seconds)
                await self._change(conversation_id, _remove_expired)
            raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
        finally:
            await self._change(conversation_id, lambda lock: _finish(lock, ticket))

    async def _read(self, conversation_id: str) -> TicketLock | None:
        try:
            raw = await self.async_red.get(self.key_prefix + conversation_id)
        except redis_errors() as error:
            raise LockError(f"lock store unavailable: {type(error).__name__}") from error
        return TicketLock.from_dict(json.loads(raw)) if raw else None

    async def _change(self, conversation_id: str,
                      change: Callable[[TicketLock | None], tuple[TicketLock | None, T]]) -> T:
        """Read the lock, apply `change`, write the result back (None: delete), atomically."""
        key = self.key_prefix + conversation_id
        try:
            async with self.async_red.lock(f"{key}:mutex", timeout=self.MUTEX_SECONDS,
                                           blocking_timeout=self.MUTEX_SECONDS):
                lock, result = change(await self._read(conversation_id))
                if lock is None:
                    await self.async_red.delete(key)
                else:
                    await self.async_red.set(key, lock.dumps())
                return result
        except redis_errors() as error:
            raise LockError(f"lock store unavailable: {type(error).__name__}") from error

    # ---- Rasa's blocking interface, for tools outside the server ------------------------

    def _mutex(self, conversation_id: str) -> Any:
        return self.red.lock(f"{self.key_prefix}{conversation_id}:mutex",
                             timeout=self.MUTEX_SECONDS,
                             blocking_timeout=self.MUTEX_SECONDS)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            ticket: int = super().issue_ticket(conversation_id, lock_lifetime)
            return ticket

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)


def redis_errors() -> tuple[type[Exception], ...]:
    """What a failed Redis call raises (its errors and the socket's)."""
    import redis

    return (redis.RedisError, OSError)


def _issue(lock: TicketLock, lifetime: float) -> tuple[TicketLock | None, int]:
    return lock, lock.issue_ticket(lifetime)


def _remove_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
    if lock is not None:
        lock.remove_expired_tickets()
    return lock, None


def _finish(lock: TicketLock | None, ticket: int) -> tuple[TicketLock | None, None]:
    if lock is None:
        return None, None
    lock.remove_ticket_for(ticket)
    return (lock if lock.is_someone_waiting() else None), None
