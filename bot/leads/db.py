"""Database engines for the leads store, with clear errors for a bad URL.

SQLite by default (a file under `var/`), PostgreSQL through `DATABASE_URL`. Engines are
built on demand, never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from bot.settings import PROJECT_ROOT


class DatabaseConfigError(RuntimeError):
    """The database URL is malformed, names an unknown driver, or the server is unreachable.

    The message names the variable and never shows the password.
    """


def resolve_sqlite_path(url: str, variable: str = "DATABASE_URL") -> URL:
    """Parse `url`; a relative SQLite path is taken relative to the project root.

    Raises:
        DatabaseConfigError: when `url` is not a database URL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(
            f"{variable} is not a database URL (expected e.g. sqlite:///var/app.db or "
            f"postgresql://user:password@host:5432/db): {_hide(url)!r}"
        ) from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "")
        if not path.is_absolute():
            path = PROJECT_ROOT / path
        parsed = parsed.set(database=str(path))
    return parsed


def create_db_engine(url: str, variable: str = "DATABASE_URL", **kwargs: Any) -> Engine:
    """A 2.0-style engine for `url` (SQLite gets WAL, foreign keys and write locks).

    Every engine hides bound parameters from its errors and logs (personal data).

    Args:
        url: A SQLAlchemy database URL.
        variable: The setting the URL came from, named in error messages.
        **kwargs: Extra `create_engine` arguments (e.g. pool settings).

    Raises:
        DatabaseConfigError: for a malformed URL or a driver that is not installed.
    """
    parsed = resolve_sqlite_path(url, variable)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseConfigError(
            f"{variable} must be a sqlite:// or postgresql:// URL, got {backend}://"
        )
    if backend == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("connect_args", {"connect_timeout": 10})
    # Errors must not carry bound parameters: a failed lead insert would log the
    # visitor's name, email and company.
    kwargs.setdefault("hide_parameters", True)
    try:
        engine = create_engine(parsed, future=True, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseConfigError(f"{variable}: cannot use {_hide(url)!r}: {exc}") from exc
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def check_connection(engine: Engine, variable: str = "DATABASE_URL") -> None:
    """Open one connection so that a wrong host or password fails early and clearly."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseConfigError(
            f"cannot connect to {variable} "
            f"({engine.url.render_as_string(hide_password=True)}): {reason}"
        ) from exc


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions lazily, so two workers can
    # both read a row and then deadlock upgrading to a write lock. Taking the write lock
    # up front (BEGIN IMMEDIATE) makes claims simple and serialised; WAL keeps readers
    # (the CLI) unblocked.
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)


def _hide(url: str) -> str:
    try:
        return str(make_url(url).render_as_string(hide_password=True))
    except ArgumentError:
        return url.split("@")[-1] if "@" in url else url
