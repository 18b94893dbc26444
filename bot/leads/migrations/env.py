"""Alembic environment for the leads schema (online migrations only)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.leads.db import create_db_engine
from bot.leads.store import metadata

config = context.config
VERSION_TABLE = config.get_main_option("version_table") or "leads_alembic_version"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url") or ""
    engine = create_db_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()
