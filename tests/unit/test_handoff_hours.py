"""Business hours of the live handoff: reading the setting and answering for a moment."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.opening_hours import HoursError, is_open, parse_hours, time_zone
from bot.settings import SettingsError, load_settings

BERLIN = time_zone("Europe/Berlin")
WEEKDAYS = parse_hours("Mon-Fri 09:00-17:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(("moment", "expected"), [
    # 2026-12-01 is a Tuesday; Berlin is UTC+1 in winter.
    ("2026-12-01T07:59", False),  # 08:59 in Berlin
    ("2026-12-01T08:00", True),   # 09:00 opens
    ("2026-12-01T15:59", True),
    ("2026-12-01T16:00", False),  # 17:00 closes (the end is exclusive)
    ("2026-12-05T10:00", False),  # Saturday
    ("2026-12-06T10:00", False),  # Sunday
    # Summer time: UTC+2, so the same office hours are an hour earlier in UTC.
    ("2026-07-01T07:00", True),   # 09:00 in Berlin
    ("2026-07-01T15:00", False),  # 17:00 in Berlin
])
def test_weekday_office_hours_follow_the_office_clock(moment: str, expected: bool) -> None:
    assert is_open(WEEKDAYS, utc(moment), BERLIN) is expected


@pytest.mark.parametrize(("spec", "moment", "expected"), [
    ("Mon-Sun 00:00-24:00", "2026-12-06T23:59", True),    # always open
    ("Sat 10:00-14:00", "2026-12-05T12:00", True),
    ("Sat 10:00-14:00", "2026-12-06T12:00", False),
    ("Fri-Mon 08:00-12:00", "2026-12-07T09:00", True),    # wraps over the weekend
    ("Fri-Mon 08:00-12:00", "2026-12-08T09:00", False),   # Tuesday
    ("Mon-Fri 09:00-12:00, Mon-Fri 13:00-17:00", "2026-12-01T12:30", False),  # lunch
    ("Mon-Fri 09:00-12:00, Mon-Fri 13:00-17:00", "2026-12-01T13:30", True),
    ("mon-fri 9:00-17:00", "2026-12-01T09:00", True),     # any case, one-digit hours
])
def test_spans_in_utc(spec: str, moment: str, expected: bool) -> None:
    assert is_open(parse_hours(spec), utc(moment), time_zone("UTC")) is expected


@pytest.mark.parametrize("spec", [
    "", "weekdays 9-5", "Mon-Fri 17:00-09:00", "Mon-Fri 09:00-09:00", "Mon-Xyz 09:00-17:00",
    "Mon-Fri 25:00-26:00", "Mon-Fri 09:60-17:00", "Mon-Fri 24:00-24:00",
])
def test_unreadable_hours_are_refused(spec: str) -> None:
    with pytest.raises(HoursError):
        parse_hours(spec)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(HoursError, match="Mars/Olympus"):
        time_zone("Mars/Olympus")


@pytest.mark.parametrize(("env", "variable"), [
    ({"HANDOFF_HOURS": "always"}, "HANDOFF_HOURS"),
    ({"HANDOFF_TIMEZONE": "Europe/Atlantis"}, "HANDOFF_TIMEZONE"),
    ({"HANDOFF_WAIT_SECONDS": "0"}, "HANDOFF_WAIT_SECONDS"),
])
def test_settings_name_the_malformed_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env).check()


def test_settings_defaults_and_values() -> None:
    assert load_settings({}).handoff_hours == "Mon-Fri 09:00-17:00"
    settings = load_settings({"HANDOFF_HOURS": "Sat 10:00-14:00",
                              "HANDOFF_TIMEZONE": "Europe/Berlin",
                              "HANDOFF_WAIT_SECONDS": "45"})
    settings.check()
    assert (settings.handoff_hours, settings.handoff_timezone,
            settings.handoff_wait_seconds) == ("Sat 10:00-14:00", "Europe/Berlin", 45.0)
