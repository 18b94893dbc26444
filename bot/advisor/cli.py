"""`python -m bot recommend`: a workload profile as JSON on stdin, a recommendation out.

Exit codes: 0 success; 2 the input is not a valid profile (the message names the field
and the allowed values); 1 the rules file is broken.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.advisor.engine import recommend
from bot.advisor.profile import ProfileError, parse_profile
from bot.advisor.report import format_report
from bot.advisor.rules import RulesError, load_rules
from bot.settings import load_settings

EXIT_BAD_INPUT = 2
EXIT_BAD_RULES = 1


def register(subparsers: Any) -> None:
    """Add the `recommend` subcommand to the `python -m bot` parser."""
    parser = subparsers.add_parser(
        "recommend",
        help="recommend VMs, containers or a hybrid for a workload profile read as JSON on stdin",
        description=(
            "Read a workload profile (a JSON object) on standard input and print the "
            "recommendation. Fields (all optional): isolation, os_mix, kernel_custom, "
            "density, workload_count, startup, legacy, stateful, gpu, compliance, "
            "team_containers, traffic, privileged, os_patching, licences, work_pattern."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="rules file (default: ADVISOR_RULES or the packaged rules.yml)",
    )
    parser.set_defaults(func=run)


def run(
    args: argparse.Namespace,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the subcommand; returns the exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        data = json.loads(stdin.read() or "{}")
    except json.JSONDecodeError as exc:
        stderr.write(f"error: the profile is not valid JSON: {exc}\n")
        return EXIT_BAD_INPUT
    try:
        profile = parse_profile(data)
    except ProfileError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    try:
        rules = load_rules(args.rules or load_settings().advisor_rules_path)
    except RulesError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_BAD_RULES
    rec = recommend(profile, rules)
    if args.json:
        stdout.write(json.dumps(rec.to_dict(), indent=2) + "\n")
    else:
        stdout.write(format_report(rec))
    return 0
