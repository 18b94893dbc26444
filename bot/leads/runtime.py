"""The leads package wired from the settings: database, rules, CRM client, sales channel,
worker options.

Built on first use (never at import time) and shared by the actions, the action
server's delivery worker and the CLI of one process.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.crm.base import CrmClient, SalesChannel
from bot.crm.factory import build_crm_client
from bot.crm.slack_sales import SlackSalesChannel
from bot.leads.db import check_connection, create_db_engine, resolve_sqlite_path
from bot.leads.delivery import Checkpoint, WorkerOptions
from bot.leads.migrate import upgrade_database
from bot.leads.outbox import RetryPolicy
from bot.leads.scoring import ScoringRules, load_scoring_rules
from bot.leads.unit_of_work import SqlUnitOfWork
from bot.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)


def retry_policy(settings: Settings) -> RetryPolicy:
    """The retry policy from the settings; a bad value names its variable."""
    if settings.crm_max_attempts < 1:
        raise SettingsError("CRM_MAX_ATTEMPTS must be at least 1")
    if settings.crm_backoff_base_seconds < 0:
        raise SettingsError("CRM_BACKOFF_BASE_SECONDS must not be negative")
    if settings.crm_backoff_cap_seconds < settings.crm_backoff_base_seconds:
        raise SettingsError("CRM_BACKOFF_CAP_SECONDS must be at least CRM_BACKOFF_BASE_SECONDS")
    if settings.crm_timeout_seconds <= 0:
        raise SettingsError("CRM_TIMEOUT_SECONDS must be positive")
    return RetryPolicy(
        max_attempts=settings.crm_max_attempts,
        base_seconds=settings.crm_backoff_base_seconds,
        cap_seconds=settings.crm_backoff_cap_seconds,
        retry_after_cap_seconds=settings.crm_retry_after_cap_seconds,
    )


def worker_options(settings: Settings, checkpoint: Checkpoint | None = None) -> WorkerOptions:
    """Lease and batch size from the settings; `checkpoint` is called at each step of a
    delivery (the crash tests inject one that stops dead)."""
    # A HubSpot send can take two requests, each with a connect and a read timeout; the
    # lease must outlast that, or a second worker would take a row still in flight.
    if settings.leads_lease_seconds <= 4 * settings.crm_timeout_seconds:
        raise SettingsError(
            "LEADS_LEASE_SECONDS must be more than 4 x CRM_TIMEOUT_SECONDS "
            f"({settings.leads_lease_seconds} <= 4 x {settings.crm_timeout_seconds})"
        )
    if settings.leads_batch_size < 1:
        raise SettingsError("LEADS_BATCH_SIZE must be at least 1")
    return WorkerOptions(
        lease_seconds=settings.leads_lease_seconds,
        batch_size=settings.leads_batch_size,
        checkpoint=checkpoint,
    )


@dataclass
class LeadsRuntime:
    """Everything the leads feature needs in a running process."""

    settings: Settings
    engine: Engine
    rules: ScoringRules
    _tracker_engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, migrate: bool = True) -> LeadsRuntime:
        """Connect to the database (migrating it to the latest schema) and load the rules.

        Raises:
            DatabaseConfigError: for a bad DATABASE_URL or an unreachable server.
            ScoringRulesError: for a malformed scoring.yml.
        """
        engine = create_db_engine(settings.resolved_database_url())
        check_connection(engine)
        if migrate:
            upgrade_database(engine)
        # Without a sales channel no alert is queued: nothing would ever post it.
        rules = load_scoring_rules(sales_alerts=bool(settings.slack_sales_channel))
        return cls(settings=settings, engine=engine, rules=rules)

    def unit_of_work(self) -> SqlUnitOfWork:
        """A unit of work on the leads database, for the use cases."""
        return SqlUnitOfWork(self.engine)

    def crm_client(self) -> CrmClient | None:
        """The configured CRM adapter; None when CRM_ADAPTER=none."""
        return build_crm_client(self.settings)

    def sales_channel(self) -> SalesChannel | None:
        """Where hot-lead alerts go; None when SLACK_SALES_CHANNEL is unset."""
        self.settings.check()
        return SlackSalesChannel.from_settings(self.settings)

    def tracker_engine(self) -> Engine | None:
        """Rasa's tracker store database; None when it does not exist yet (nothing to
        erase, and we must not create an empty one)."""
        if self._tracker_engine is None:
            url = self.settings.tracker_database_url
            parsed = resolve_sqlite_path(url, "TRACKER_DATABASE_URL")
            if parsed.get_backend_name() == "sqlite" and not Path(
                parsed.database or ""
            ).exists():
                return None
            self._tracker_engine = create_db_engine(url, "TRACKER_DATABASE_URL")
        return self._tracker_engine


_lock = threading.Lock()
_runtime: LeadsRuntime | None = None


def get_runtime() -> LeadsRuntime:
    """The process-wide runtime, created from the environment on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = LeadsRuntime.from_settings(load_settings())
        return _runtime


def install_runtime(runtime: LeadsRuntime) -> None:
    """Make `runtime` the process-wide one (the action server builds it at start-up)."""
    global _runtime
    with _lock:
        _runtime = runtime


def reset_runtime() -> None:
    """Forget the process-wide runtime (tests that change the environment)."""
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.engine.dispose()
        _runtime = None
