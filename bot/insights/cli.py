"""`python -m bot insights`: the insight page's figures in the terminal, or as CSV.

    insights [--since 7d | --from 2026-11-01 [--to 2026-11-30]] [--details] [--csv PATH]

It reads the tracker store (TRACKER_DATABASE_URL) and the leads database (DATABASE_URL),
as the page does. `--details` adds the scrubbed texts of the messages the assistant did
not understand; without it no visitor's words are printed or exported.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.insights.model import DAILY_SERIES, Insights
from bot.insights.period import DEFAULT_SINCE, PeriodError, parse_period
from bot.leads.db import DatabaseConfigError
from bot.leads.model import utc_now
from bot.settings import SettingsError, load_settings

EXIT_CONFIG_ERROR = 2
# `detail`: a funnel step's rate from the step before, or a fallback group's examples.
CSV_HEADER = ("section", "name", "value", "detail")


def register(subparsers: Any) -> None:
    """Add the `insights` command to `python -m bot`."""
    parser = subparsers.add_parser(
        "insights", help="funnel, verdicts, leads, fallbacks and feedback over a period",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--since", default=None,
                        help=f"the last N days or hours, e.g. 7d or 24h (default {DEFAULT_SINCE})")
    parser.add_argument("--from", dest="start", help="first day (UTC), e.g. 2026-11-01")
    parser.add_argument("--to", dest="end", help="last day (UTC), included")
    parser.add_argument("--details", action="store_true",
                        help="include the (scrubbed) texts of the messages not understood")
    parser.add_argument("--csv", type=Path, help="also write the figures to this CSV file")
    parser.set_defaults(func=run)


def figure_rows(insights: Insights) -> list[tuple[str, str, str, str]]:
    """The figures as (section, name, value, detail) rows: the CSV and the terminal's lines."""
    rows: list[tuple[str, str, str, str]] = []
    for step in insights.funnel:
        rows.append(("funnel", step.label, str(step.count), _pct(step.rate_from_previous)))
    rows += [("verdict", name, str(count), "") for name, count in insights.verdicts]
    rows += [("hybrid_kind", name, str(count), "") for name, count in insights.hybrid_kinds]
    rows += [("lead_tier", name, str(count), "") for name, count in insights.tiers]
    timing = insights.lead_timing
    rows += [("lead_taken", "taken", str(timing.taken), ""),
             ("lead_taken", "median_seconds", _number(timing.median_seconds), ""),
             ("lead_taken", "p90_seconds", _number(timing.p90_seconds), "")]
    rows += [("channel", name, str(count), "") for name, count in insights.channels]
    rows += [("handoff", "handoffs", str(insights.handoffs), ""),
             ("handoff", "person_requests", str(insights.person_requests), "")]
    rows += [("feedback", "helpful", str(insights.helpful), ""),
             ("feedback", "not_helpful", str(insights.not_helpful), "")]
    rows += [(f"feedback:{f.subject}", "helpful/not_helpful", f"{f.helpful}/{f.not_helpful}",
              "") for f in insights.feedback]
    rows.append(("fallback", "total", str(insights.fallbacks), ""))
    for index, group in enumerate(insights.fallback_groups, 1):
        rows.append((f"fallback_group:{index}", group.nearest, str(group.count),
                     " | ".join(group.examples)))
    for day in insights.daily:
        rows += [(f"daily:{day.day.isoformat()}", series, str(getattr(day, series)), "")
                 for series in DAILY_SERIES]
    return rows


def run(args: argparse.Namespace) -> int:
    """Compute the figures, print them, and write the CSV when asked."""
    from bot.insights.queries import read_engine
    from bot.insights.service import build_insights

    try:
        settings = load_settings()
        period = parse_period(args.since, args.start, args.end, utc_now())
        tracker = read_engine(settings.tracker_database_url, "TRACKER_DATABASE_URL")
        leads = read_engine(settings.resolved_database_url(), "DATABASE_URL")
    except (SettingsError, PeriodError, DatabaseConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        insights = build_insights(tracker, leads, period, details=args.details)
    except sa.exc.SQLAlchemyError as exc:
        print(f"error: cannot read the tracker store (TRACKER_DATABASE_URL): "
              f"{type(exc).__name__}", file=sys.stderr)
        return 1
    print_figures(insights)
    if args.csv:
        write_csv(insights, args.csv)
        print(f"==> wrote {args.csv}")
    return 0


def print_figures(insights: Insights, out: Any = None) -> None:
    out = out or sys.stdout
    period = insights.period
    print(f"Insights from {period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC",
          file=out)
    for note in insights.notes:
        print(f"note: {note}", file=out)
    section = ""
    for name_of_section, name, value, rate in figure_rows(insights):
        if name_of_section.startswith("daily:"):
            continue  # the CSV has the days; the terminal shows totals
        if name_of_section != section:
            section = name_of_section
            print(f"\n{section}", file=out)
        print(f"  {name:<34} {value:>8}  {rate}".rstrip(), file=out)


def write_csv(insights: Insights, path: Path) -> None:
    """The figures as CSV, one row per figure (`figure_rows`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows(tuple(_cell(value) for value in row) for row in figure_rows(insights))


def _cell(value: str) -> str:
    # A visitor's text starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"
