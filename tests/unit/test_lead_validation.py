"""Checking what visitors type into the lead form (table-driven)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.leads.validation import (
    check_budget,
    check_company,
    check_email,
    check_name,
    check_role,
    check_size,
    check_timeline,
)


@pytest.mark.parametrize(
    ("text", "value", "problem", "flag"),
    [
        ("jane.doe@acme-corp.com", "jane.doe@acme-corp.com", "", ""),
        ("my email is Jane@ACME.io thanks", "Jane@acme.io", "", ""),
        ("<bob@sub.example-co.co.uk>", "bob@sub.example-co.co.uk", "", ""),
        ("jane@gmail.com", "jane@gmail.com", "", "free_mail"),
        ("x@Outlook.com", "x@outlook.com", "", "free_mail"),
        ("tmp@mailinator.com", None, "throwaway", ""),
        ("a@sub.yopmail.com", None, "throwaway", ""),
        ("jane@", None, "malformed", ""),
        ("jane@acme", None, "malformed", ""),
        ("jane..doe@acme.com", None, "malformed", ""),
        ("jane@acme..com", None, "malformed", ""),
        ("jane@-acme.com", None, "malformed", ""),
        ("no address here", None, "missing", ""),
        ("", None, "missing", ""),
        ("a" * 65 + "@acme.com", None, "malformed", ""),
    ],
)
def test_email(text: str, value: str | None, problem: str, flag: str) -> None:
    checked = check_email(text)
    assert (checked.value, checked.problem, checked.flag) == (value, problem, flag)


@pytest.mark.parametrize(
    ("text", "value", "problem"),
    [
        ("  Ada   Lovelace ", "Ada Lovelace", ""),
        ("José Ñúñez", "José Ñúñez", ""),
        ("محمد علي", "محمد علي", ""),
        ("李小龙", "李小龙", ""),
        ("O'Brien-Smith", "O'Brien-Smith", ""),
        ("12345", None, "malformed"),
        ("", None, "missing"),
        ("ada@acme.io", None, "malformed"),
        ("what is a container?", None, "malformed"),
        ("Ada\x00\x07 Lovelace", "Ada Lovelace", ""),
    ],
)
def test_name(text: str, value: str | None, problem: str) -> None:
    checked = check_name(text)
    assert (checked.value, checked.problem) == (value, problem)


def test_names_are_not_truncated() -> None:
    long = "A" * 10_000
    assert check_name(long).value == long


@pytest.mark.parametrize(
    ("text", "value", "problem"),
    [("3M", "3M", ""), ("Ørsted A/S", "Ørsted A/S", ""), ("---", None, "malformed"),
     (" ", None, "missing")],
)
def test_company(text: str, value: str | None, problem: str) -> None:
    checked = check_company(text)
    assert (checked.value, checked.problem) == (value, problem)


@pytest.mark.parametrize(
    ("text", "value", "problem"),
    [("Head of IT", "Head of IT", ""), ("CTO", "CTO", ""), ("42", None, "malformed"),
     ("", None, "missing"), ("I'm the CTO", "CTO", ""),
     ("i am a platform engineer at our company", "platform engineer", ""),
     ("my role is vp of it", "VP of IT", "")],
)
def test_role(text: str, value: str | None, problem: str) -> None:
    checked = check_role(text)
    assert (checked.value, checked.problem) == (value, problem)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("now", "now"), ("this_quarter", "this_quarter"), ("This quarter", "this_quarter"),
        ("this year", "this_year"), ("exploring", "exploring"), ("ASAP please", "now"),
        ("immediately", "now"), ("in the next 3 months", "this_quarter"),
        ("within 12 months", "this_year"), ("just looking around", "exploring"),
        ("not sure yet", "exploring"), ("Q3", "this_quarter"), ("not now", "exploring"),
        # Placed relative to the day it is said (15 June 2026 here).
        ("next quarter", "this_year"), ("in August", "this_quarter"),
        ("by March", "this_year"), ("2026-07-01", "this_quarter"),
        ("June 2028", "exploring"), ("Q1", "this_year"), ("market research", "exploring"),
    ],
)
def test_timeline(text: str, value: str) -> None:
    assert check_timeline(text, date(2026, 6, 15)).value == value


def test_an_unknown_timeline_is_a_problem() -> None:
    assert check_timeline("purple").problem == "unknown"


@pytest.mark.parametrize(
    ("text", "value", "problem"),
    [
        ("40", 40, ""), ("about 1,200 VMs", 1200, ""), ("2k servers", 2000, ""),
        ("10-20", 20, ""), ("around fifty", 50, ""), ("dozens", 24, ""),
        ("a handful of services", 5, ""), ("0", None, "out_of_range"),
        ("lots", None, "unknown"), ("99999999999", None, "out_of_range"),
        ("we run 35 containers on 4 hosts", 35, ""),
    ],
)
def test_size(text: str, value: int | None, problem: str) -> None:
    checked = check_size(text)
    assert (checked.value, checked.problem) == (value, problem)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("under_10k", "under_10k"), ("over_250k", "over_250k"), ("$5k", "under_10k"),
        ("$40k", "10k_50k"), ("100,000 EUR", "50k_250k"), ("1M", "over_250k"),
        ("20-40k", "10k_50k"), ("2 million", "over_250k"), ("skip", "not_given"),
        ("I'd rather not say", "not_given"), ("no idea", "not_given"),
        ("not_given", "not_given"), ("maybe 10k a month", "50k_250k"),
        ("$3,000 per month", "10k_50k"), ("100k per year", "50k_250k"),
    ],
)
def test_budget(text: str, value: str) -> None:
    assert check_budget(text).value == value


def test_an_unreadable_budget_is_a_problem() -> None:
    assert check_budget("purple").problem == "unknown"
