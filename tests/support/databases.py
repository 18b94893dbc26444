"""The machine's PostgreSQL and Redis, as the tests use them: a fresh database each.

PostgreSQL comes from TEST_POSTGRES_URL and Redis from TEST_REDIS_URL (default: the
local test services that scripts/services.sh starts). Nothing here skips: CI runs both,
so an unreachable server is a failure to look at.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import redis

from bot.channels.rest import rest_conversation_id

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def postgres_admin_url() -> str:
    """The URL of the test server's maintenance database (where databases are made)."""
    return POSTGRES_URL


@dataclass(frozen=True)
class PostgresDatabase:
    """A fresh database on the test PostgreSQL server."""

    host: str
    port: int
    user: str
    password: str
    name: str

    @property
    def url(self) -> str:
        """Its URL (`postgresql://user:password@host:port/name`), as DATABASE_URL takes it."""
        return urlsplit(POSTGRES_URL)._replace(path=f"/{self.name}").geturl()

    def tracker_store(self, strict: bool = True) -> dict[str, Any]:
        """Endpoint config of the tracker store on this database (ours or Rasa's plain one)."""
        return {"type": "bot.rasa.tracker_store.StrictSQLTrackerStore" if strict else "SQL",
                "dialect": "postgresql", "url": self.host, "port": self.port,
                "db": self.name, "username": self.user, "password": self.password}

    def connect(self) -> Any:
        return psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                password=self.password, dbname=self.name, connect_timeout=5)

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        """Rows of Rasa's `events` table for one REST sender's conversation, in order."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, type_name, timestamp, data FROM events "
                        "WHERE sender_id = %s ORDER BY id", (rest_conversation_id(sender_id),))
            return [{"id": i, "type": t, "timestamp": ts, "data": json.loads(d)}
                    for i, t, ts, d in cur.fetchall()]


def _server_params() -> dict[str, Any]:
    parts = urlsplit(POSTGRES_URL)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
            "user": parts.username or "postgres", "password": parts.password or ""}


@contextmanager
def fresh_postgres_database(prefix: str = "test") -> Iterator[PostgresDatabase]:
    """Create a uniquely named, empty database for the block and drop it afterwards."""
    params = _server_params()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(dbname=urlsplit(POSTGRES_URL).path.lstrip("/") or "postgres",
                             connect_timeout=5, **params)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield PostgresDatabase(name=name, **params)
    finally:
        with admin.cursor() as cur:
            # Servers and engines of the test may still hold connections.
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    client.ping()  # fail here, clearly, when Redis is not running
    return client


def redis_lock_store(prefix: str, host: str | None = None, port: int | None = None
                     ) -> dict[str, Any]:
    """Endpoint config of our Redis lock store (as in production) with its own key prefix."""
    parts = urlsplit(REDIS_URL)
    return {"type": "bot.rasa.lock_store.AtomicRedisLockStore",
            "url": host or parts.hostname or "127.0.0.1",
            "port": port or parts.port or 6379, "db": int(parts.path.lstrip("/") or 0),
            "key_prefix": prefix}
