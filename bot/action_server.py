"""`python -m bot.action_server`: the rasa-sdk action server plus lead delivery.

It starts rasa-sdk's Sanic app with the `actions` package and, in the same process:
- brings the leads database schema up to date (Alembic) before serving;
- runs the lead delivery worker as a Sanic background task (it also runs the
  "forget me" erasures of tracker events).

Configuration errors (a bad DATABASE_URL, a CRM adapter without its settings) stop it
at start with one line naming the variable.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager

from bot.leads.db import DatabaseConfigError, check_connection, create_db_engine
from bot.leads.migrate import upgrade_database
from bot.leads.runtime import LeadsRuntime, install_runtime, retry_policy, worker_options
from bot.leads.scoring import ScoringRulesError
from bot.leads.worker import DeliveryWorker
from bot.settings import Settings, SettingsError, load_settings

logger = logging.getLogger("bot.action_server")

DEFAULT_PORT = 5055


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__)
    parser.add_argument("--port", "-p", type=int, default=None,
                        help=f"default: ACTIONS_PORT, else {DEFAULT_PORT}")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (0.0.0.0 in containers)")
    parser.add_argument("--actions", default="actions", help="the actions package")
    parser.add_argument("--no-worker", action="store_true",
                        help="serve actions only (run `python -m bot leads deliver --loop` "
                             "elsewhere)")
    parser.add_argument("--debug", action="store_true", help="debug logging")
    return parser


def prepare(settings: Settings) -> None:
    """Check the configuration and migrate the database, before any worker starts.

    Raises:
        SettingsError, DatabaseConfigError, ScoringRulesError: with a clear message.
    """
    settings.check()
    retry_policy(settings)
    worker_options(settings)
    engine = create_db_engine(settings.resolved_database_url())
    try:
        check_connection(engine)
        revision = upgrade_database(engine)
        logger.info("leads database at revision %s", revision)
    finally:
        engine.dispose()


def attach_delivery_worker(app: Any, settings: Settings) -> None:
    """Run the delivery worker as a background task of the Sanic `app`.

    The runtime (engine and all) is built inside each server process, after Sanic has
    forked its workers, so no database connection is shared across processes.
    """

    async def start(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        runtime = LeadsRuntime.from_settings(settings, migrate=False)
        install_runtime(runtime)
        worker = DeliveryWorker(
            runtime,
            runtime.crm_client(),
            retry_policy(settings),
            worker_options(settings),
            interval_seconds=settings.leads_worker_interval_seconds,
        )
        app.ctx.lead_worker_stop = asyncio.Event()
        app.add_task(worker.run(app.ctx.lead_worker_stop))

    async def stop(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        event = getattr(app.ctx, "lead_worker_stop", None)
        if event is not None:
            event.set()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")


def main(argv: Sequence[str] | None = None) -> int:
    """Start the action server; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s - %(message)s",
    )
    try:
        settings = load_settings()
        prepare(settings)
    except (SettingsError, DatabaseConfigError, ScoringRulesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    port = args.port if args.port is not None else settings.actions_port
    app = create_app(args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    if not args.no_worker:
        attach_delivery_worker(app, settings)
    logger.info("action server on http://%s:%s (CRM adapter: %s)", args.host, port,
                settings.crm_adapter)
    app.run(args.host, port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
