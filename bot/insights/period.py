"""The period a report covers, from what a person types: `7d`, `24h`, or two dates.

Standard library only.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from bot.insights.model import Period

DEFAULT_SINCE = "7d"
# Longer periods read too many events for one page view.
MAX_DAYS = 366
_SINCE = re.compile(r"^\s*(\d{1,4})\s*([dh])\s*$", re.IGNORECASE)


class PeriodError(ValueError):
    """The period could not be read; the message says what is expected."""


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise PeriodError(f"{name} must be a date such as 2026-11-30, got {raw!r}") from exc


def parse_period(since: str | None, start: str | None, end: str | None,
                 now: datetime) -> Period:
    """The period asked for.

    Args:
        since: `<n>d` or `<n>h`: the last n days or hours up to `now`.
        start: first day (UTC, YYYY-MM-DD), instead of `since`.
        end: last day, included (UTC); today when only `start` is given.
        now: the current time (timezone-aware).

    Raises:
        PeriodError: a value is malformed, the end comes before the start, or the period
            is longer than MAX_DAYS.
    """
    if start:
        first = _day(start, "from")
        last = _day(end, "to") if end else now.astimezone(timezone.utc).date()
        if last < first:
            raise PeriodError("to must not be before from")
        period = Period(datetime.combine(first, time(), timezone.utc),
                        datetime.combine(last + timedelta(days=1), time(), timezone.utc))
    else:
        match = _SINCE.match(since or DEFAULT_SINCE)
        if match is None:
            raise PeriodError(f"since must look like 7d or 24h, got {since!r}")
        amount, unit = int(match.group(1)), match.group(2).lower()
        length = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
        if length <= timedelta(0):
            raise PeriodError("since must be more than 0")
        period = Period(now - length, now)
    if period.end - period.start > timedelta(days=MAX_DAYS):
        raise PeriodError(f"a period can be at most {MAX_DAYS} days long")
    return period
