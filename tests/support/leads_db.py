"""Databases for the leads tests: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local test cluster). It is never
skipped: CI runs PostgreSQL, so an unreachable server is a failure to look at.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextmanager
def fresh_postgres_database(prefix: str = "h3_leads_test") -> Iterator[str]:
    """Create an empty database for the duration of the block; yields its URL."""
    admin_url = make_url(postgres_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


LEADS_TABLES = ("lead_delivery_attempts", "lead_outbox", "conversation_erasures", "leads")


def empty_leads_tables(url: str) -> None:
    """Delete every row of the leads tables (between tests sharing one database)."""
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(LEADS_TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in LEADS_TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()
