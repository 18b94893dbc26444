"""Bringing the leads schema up to date with Alembic, from code or the CLI.

The Alembic environment lives in `migrations/` inside the package, configured here
programmatically, so `python -m bot leads migrate` and the action server's start-up work
from any directory with only `DATABASE_URL` set. (`alembic.ini` beside this file serves
the `alembic` command for writing new revisions.)
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Our own version table, so the leads schema can share a database with other tools.
VERSION_TABLE = "leads_alembic_version"
# Any constant: PostgreSQL advisory lock that serialises concurrent start-ups.
_PG_LOCK_KEY = 7_245_019_311


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_table", VERSION_TABLE)
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> str | None:
    """Apply the migrations up to `revision`; returns the revision now current.

    Several processes may start at once (the action server's workers, a CLI); on
    PostgreSQL an advisory lock makes them take turns, on SQLite the write lock does.
    """
    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, None when it was never migrated."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str | None:
    """The newest revision among the package's migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
