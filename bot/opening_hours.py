"""Business hours for the live handoff, as data: `"Mon-Fri 09:00-17:00, Sat 10:00-14:00"`.

Pure: `parse_hours()` reads the setting, `is_open()` answers for a moment in time. The
hours are wall-clock times in the configured time zone, so a summer-time change moves
them with the office, not with UTC. It sits outside `bot.handoff` because the settings
check `HANDOFF_HOURS` with it at start, and the settings import no package of the bot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)


class HoursError(ValueError):
    """The hours or the time zone cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class OpeningSpan:
    """Open from `start` until `end` (exclusive) on each of `weekdays` (0 is Monday).

    `end` is None for "24:00": open until midnight.
    """

    weekdays: frozenset[int]
    start: time
    end: time | None


def _clock(raw: str, spec: str) -> time | None:
    hours, minutes = (int(part) for part in raw.split(":"))
    if (hours, minutes) == (24, 0):
        return None
    if hours > 23 or minutes > 59:
        raise HoursError(f"{raw!r} is not a time of day in {spec!r}")
    return time(hours, minutes)


def _weekdays(first: str, last: str | None, spec: str) -> frozenset[int]:
    if first not in DAYS or (last is not None and last not in DAYS):
        raise HoursError(f"days are Mon, Tue, Wed, Thu, Fri, Sat, Sun; got {spec!r}")
    start = DAYS.index(first)
    stop = DAYS.index(last) if last is not None else start
    # "Fri-Mon" wraps over the weekend.
    count = (stop - start) % 7 + 1
    return frozenset((start + offset) % 7 for offset in range(count))


def parse_hours(spec: str) -> tuple[OpeningSpan, ...]:
    """Read comma-separated spans such as `Mon-Fri 09:00-17:00`.

    Raises:
        HoursError: a span cannot be read, or it ends before it starts.
    """
    spans = []
    for part in (p.strip().lower() for p in spec.split(",")):
        if not part:
            continue
        match = _SPAN.match(part)
        if match is None:
            raise HoursError(f"expected spans like 'Mon-Fri 09:00-17:00', got {part!r}")
        start = _clock(match["start"], part)
        end = _clock(match["end"], part)
        if start is None or (end is not None and end <= start):
            raise HoursError(f"{part!r} must end after it starts")
        spans.append(OpeningSpan(_weekdays(match["first"], match["last"], part), start, end))
    if not spans:
        raise HoursError("no opening hours given")
    return tuple(spans)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. `Europe/Berlin`).

    Raises:
        HoursError: the name is unknown.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(f"unknown time zone {name!r}") from exc


def is_open(spans: tuple[OpeningSpan, ...], moment: datetime, zone: ZoneInfo) -> bool:
    """True when `moment` (time-zone aware) falls within one of `spans` in `zone`."""
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    return any(
        local.weekday() in span.weekdays
        and span.start <= clock
        and (span.end is None or clock < span.end)
        for span in spans
    )
