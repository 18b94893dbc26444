"""Command line entry point: `python -m bot <command>`.

Each feature package contributes its own subcommands through a `register(subparsers)`
function, so this module only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

# Modules that expose `register(subparsers: argparse._SubParsersAction) -> None`.
# Each registered parser sets `func`, which returns the process exit code.
COMMAND_MODULES = (
    "bot.preflight",
    "bot.advisor.cli",
    "bot.leads.cli",
    "bot.insights.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
