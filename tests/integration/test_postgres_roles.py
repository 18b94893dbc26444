"""The database roles of `deploy/postgres-init.sh` (issue 13, item 13): the Rasa servers
and the action servers each connect with a role of their own, never the superuser, and
each role can do what its server needs and nothing more.

The script runs against the machine's PostgreSQL as the postgres image would run it,
with names of this test's own, which are dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import psycopg2.errors
import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
_SERVER = urlsplit(POSTGRES_URL)


@dataclass(frozen=True)
class Roles:
    tracker_db: str
    leads_db: str
    rasa: tuple[str, str]
    actions: tuple[str, str]


def _connect(database: str, user: str | None = None, password: str | None = None) -> Any:
    return psycopg2.connect(host=_SERVER.hostname or "127.0.0.1", port=_SERVER.port or 5432,
                            dbname=database, user=user or _SERVER.username or "postgres",
                            password=password if user else (_SERVER.password or ""),
                            connect_timeout=5)


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    tag = uuid.uuid4().hex[:8]
    made = Roles(f"t_{tag}", f"l_{tag}", (f"r_{tag}", "rasa-pw-" + tag),
                 (f"a_{tag}", "actions-pw-" + tag))
    admin = _connect(_SERVER.path.lstrip("/") or "postgres")
    admin.autocommit = True
    cursor = admin.cursor()
    cursor.execute(f'CREATE DATABASE "{made.tracker_db}"')  # as the image does (POSTGRES_DB)
    env = {**os.environ, "POSTGRES_USER": _SERVER.username or "postgres",
           "POSTGRES_DB": made.tracker_db, "PGHOST": _SERVER.hostname or "127.0.0.1",
           "PGPORT": str(_SERVER.port or 5432), "PGPASSWORD": _SERVER.password or "",
           "LEADS_DB_NAME": made.leads_db, "RASA_DB_USER": made.rasa[0],
           "RASA_DB_PASSWORD": made.rasa[1], "ACTIONS_DB_USER": made.actions[0],
           "ACTIONS_DB_PASSWORD": made.actions[1]}
    try:
        subprocess.run(["sh", str(ROOT / "deploy" / "postgres-init.sh")], env=env,
                       check=True, capture_output=True, timeout=60)
        yield made
    finally:
        for database in (made.tracker_db, made.leads_db):
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
        for role in (made.rasa[0], made.actions[0]):
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


def test_neither_server_role_is_privileged(roles: Roles) -> None:
    admin = _connect(_SERVER.path.lstrip("/") or "postgres")
    with admin.cursor() as cursor:
        cursor.execute("SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
                       "FROM pg_roles WHERE rolname IN (%s, %s)",
                       (roles.rasa[0], roles.actions[0]))
        rows = cursor.fetchall()
    admin.close()
    assert sorted(rows) == sorted((name, False, False, False, False)
                                  for name in (roles.rasa[0], roles.actions[0]))


def test_rasa_keeps_its_conversations_and_cannot_reach_the_leads(roles: Roles) -> None:
    rasa = _connect(roles.tracker_db, *roles.rasa)
    with rasa, rasa.cursor() as cursor:
        # What Rasa's SQL tracker store does at its first start, then on every turn.
        cursor.execute("CREATE TABLE events (id serial PRIMARY KEY, sender_id text, data text)")
        cursor.execute("INSERT INTO events (sender_id, data) VALUES ('c1', '{}'), ('c2', '{}')")
    rasa.close()
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        _connect(roles.leads_db, *roles.rasa)


def test_the_action_servers_may_only_read_and_erase_conversations(roles: Roles) -> None:
    actions = _connect(roles.tracker_db, *roles.actions)
    actions.autocommit = True
    with actions.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events WHERE sender_id = 'c1'")
        assert cursor.fetchone() == (1,)
        cursor.execute("DELETE FROM events WHERE sender_id = 'c1'")  # "forget me"
        assert cursor.rowcount == 1
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("INSERT INTO events (sender_id, data) VALUES ('x', '{}')")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("CREATE TABLE intruder (id int)")
    actions.close()
    leads = _connect(roles.leads_db, *roles.actions)
    with leads, leads.cursor() as cursor:
        cursor.execute("CREATE TABLE leads (id serial PRIMARY KEY)")  # the migrations
    leads.close()
