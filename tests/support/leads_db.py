"""The leads tables between tests that share one database (a fresh PostgreSQL database
comes from tests/support/databases.py)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

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
