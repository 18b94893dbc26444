"""Fixtures for the leads integration tests: a migrated database on SQLite and on
PostgreSQL (the same tests run on both), and the CRM stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.leads.db import create_db_engine
from bot.leads.migrate import upgrade_database
from tests.support.crm_standin import CrmStandIn
from tests.support.databases import fresh_postgres_database
from tests.support.leads_db import empty_leads_tables


def _migrate(url: str) -> None:
    engine = create_db_engine(url)
    upgrade_database(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def leads_postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    with fresh_postgres_database("h3_leads_test") as database:
        _migrate(database.url)
        yield database.url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def leads_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated leads database, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leads.db'}"
        _migrate(url)
        return url
    url = str(request.getfixturevalue("leads_postgres_url"))
    empty_leads_tables(url)
    return url


@pytest.fixture
def leads_engine(leads_db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(leads_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def crm() -> Iterator[CrmStandIn]:
    """The CRM stand-in on 127.0.0.1 (a free port), HubSpot and webhook at once."""
    with CrmStandIn() as standin:
        yield standin
