"""`python -m bot check`: validate the configuration before the servers start."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import SettingsError, load_settings


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        settings.check()
    except SettingsError as exc:
        print(f"error: {exc}")
        return 2
    print(f"==> configuration OK: CRM adapter '{settings.crm_adapter}', "
          f"Slack {'on' if settings.slack_enabled else 'off'}, "
          f"allowed origins {', '.join(settings.allowed_origins)}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("check", help="validate the configuration")
    parser.set_defaults(func=_run)
