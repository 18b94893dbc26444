"""Checking and normalising what the visitor types into the lead form.

Every function takes the raw text and returns a `Checked` value: the normalised value, or
a problem code the conversation turns into a precise re-ask. Pure and standard library
only, so the table-driven tests run in milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")

# Disposable-address services: a lead with one of these cannot be reached, so we ask again.
THROWAWAY_DOMAINS = frozenset({
    "mailinator.com", "guerrillamail.com", "guerrillamail.net", "sharklasers.com",
    "10minutemail.com", "10minutemail.net", "tempmail.com", "temp-mail.org", "tempmail.net",
    "throwawaymail.com", "yopmail.com", "yopmail.net", "trashmail.com", "trashmail.de",
    "getnada.com", "dispostable.com", "maildrop.cc", "mailnesia.com", "fakeinbox.com",
    "mintemail.com", "mohmal.com", "emailondeck.com", "spamgourmet.com", "mytemp.email",
    "tempinbox.com", "burnermail.io", "discard.email", "mailcatch.com", "example.com",
    "example.org", "example.net", "test.com",
})

# Personal mailbox providers: accepted, but the lead is flagged (no company domain).
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
    "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com",
    "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "mail.ru", "yandex.com",
    "yandex.ru", "qq.com", "163.com", "126.com", "zoho.com", "fastmail.com", "tutanota.com",
})

# Deliberately simple and strict: one @, a dotted domain with a 2+ letter TLD, no spaces.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}$"
)
_EMAIL_IN_TEXT = re.compile(r"[^\s<>()\[\],;:\"]+@[^\s<>()\[\],;:\"]+")


@dataclass(frozen=True)
class Checked(Generic[T]):
    """The outcome of checking one answer: a value, or a problem code (never both)."""

    value: T | None = None
    problem: str = ""  # "" when the answer is fine
    flag: str = ""  # a note that does not block, e.g. "free_mail"

    @property
    def ok(self) -> bool:
        return not self.problem


def check_email(text: str) -> Checked[str]:
    """Find and check a business email address in `text`.

    Problems: `missing` (no address), `malformed`, `throwaway` (a disposable domain).
    Free-mail addresses pass with `flag="free_mail"`.
    """
    found = _EMAIL_IN_TEXT.findall(text or "")
    if not found:
        return Checked(problem="malformed" if "@" in (text or "") else "missing")
    address = found[0].strip(".'\"")
    local, _, domain = address.rpartition("@")
    if len(address) > 254 or len(local) > 64 or ".." in address or not _EMAIL.match(address):
        return Checked(problem="malformed")
    domain = domain.lower()
    normalised = f"{local}@{domain}"
    if domain in THROWAWAY_DOMAINS or any(domain.endswith("." + d) for d in THROWAWAY_DOMAINS):
        return Checked(problem="throwaway")
    if domain in FREE_MAIL_DOMAINS:
        return Checked(value=normalised, flag="free_mail")
    return Checked(value=normalised)


def check_name(text: str) -> Checked[str]:
    """A person's name: any script, collapsed whitespace, at least one letter."""
    value = _clean(text)
    if not value:
        return Checked(problem="missing")
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        return Checked(problem="malformed")
    if "@" in value or value.endswith("?"):
        return Checked(problem="malformed")
    return Checked(value=value)


def check_company(text: str) -> Checked[str]:
    """A company name: anything with a letter or digit in it (e.g. "3M", "Ørsted")."""
    value = _clean(text)
    if not value:
        return Checked(problem="missing")
    if not any(ch.isalnum() for ch in value) or value.endswith("?"):
        return Checked(problem="malformed")
    return Checked(value=value)


# "I'm the CTO", "my role is head of platform", "I work as a DevOps engineer at Acme".
_ROLE_LEAD_IN = re.compile(
    r"^(?:(?:hi|hello|well|so|ok|okay)[,!.]?\s+)?"
    r"(?:i'?m|i am|im|my (?:role|title|job(?: title)?|position) is|"
    r"i work as|i'?m working as|working as|i serve as|as)\s+(?:the\s+|a\s+|an\s+|our\s+)?",
    re.IGNORECASE)
_ROLE_TAIL = re.compile(r"\s+(?:at|for|with|in)\s+(?:our|my|the|this|a)\b.*$|\s+(?:here|there)$",
                        re.IGNORECASE)
# Titles written in capitals whatever the visitor typed.
_ROLE_ACRONYMS = frozenset({"cto", "ceo", "cio", "cfo", "coo", "ciso", "vp", "svp", "evp",
                            "it", "sre", "devops", "hr", "r&d", "qa", "ml", "ai"})


def normalise_role(text: str) -> str:
    """The job title in "I'm the CTO" ("CTO"), with acronyms in capitals."""
    value = _ROLE_LEAD_IN.sub("", _clean(text)).strip(" .!,")
    value = _ROLE_TAIL.sub("", value).strip(" .!,")
    return " ".join(w.upper() if w.lower() in _ROLE_ACRONYMS else w for w in value.split())


def check_role(text: str) -> Checked[str]:
    """A job title, without the sentence around it (scoring reads its level from the rules)."""
    value = normalise_role(text) or _clean(text)
    if not value:
        return Checked(problem="missing")
    if not any(unicodedata.category(ch).startswith("L") for ch in value) or value.endswith("?"):
        return Checked(problem="malformed")
    return Checked(value=value)


_TIMELINE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("exploring", ("exploring", "explore", "just looking", "no timeline", "no rush",
                   "research", "not sure", "someday", "no plans", "curious", "later",
                   "not now", "not yet", "no hurry")),
    ("this_year", ("next quarter", "next two quarters", "following quarter")),
    ("this_quarter", ("this quarter", "quarter", "next month", "next few months",
                      "3 months", "three months", "within 90 days", "90 days", "q1", "q2",
                      "q3", "q4", "weeks", "few weeks")),
    ("this_year", ("this year", "12 months", "twelve months", "6 months", "six months",
                   "next year", "within a year", "by year end", "end of the year",
                   "half year", "h2", "h1")),
    ("now", ("now", "asap", "immediately", "urgent", "today", "right away", "this week",
             "yesterday", "straight away")),
)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = re.compile(
    r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?:\s+(20\d\d))?\b")
# "may" is a month only after a preposition ("in May", "by end of May") or with a year.
_MAY_AS_MONTH = re.compile(
    r"\b(?:in|by|from|until|before|after|early|mid|late|of)\s+may\b|\bmay\s+20\d\d\b")
_ISO_DATE = re.compile(r"\b(20\d\d)-(\d{1,2})(?:-\d{1,2})?\b")
_QUARTER = re.compile(r"\bq([1-4])(?:\s*(20\d\d))?\b")


def timeline_from_months(months_ahead: int) -> str:
    """The timeline band of a start `months_ahead` months from now."""
    if months_ahead <= 0:
        return "now"
    if months_ahead <= 3:
        return "this_quarter"
    if months_ahead <= 12:
        return "this_year"
    return "exploring"


def _months_ahead(text: str, today: date) -> int | None:
    """How many months from `today` a month, ISO date or quarter in `text` is."""
    iso = _ISO_DATE.search(text)
    if iso:
        return (int(iso.group(1)) - today.year) * 12 + int(iso.group(2)) - today.month
    quarter = _QUARTER.search(text)
    if quarter:
        month = 3 * int(quarter.group(1)) - 2
        year = int(quarter.group(2)) if quarter.group(2) else today.year
        if not quarter.group(2) and month + 2 < today.month:
            year += 1  # "Q1" said in November is next year's
        return max((year - today.year) * 12 + month - today.month, 0)
    named = _MONTH.search(text)
    if named and (named.group(1) != "may" or _MAY_AS_MONTH.search(text)):
        month = _MONTHS.index(named.group(1)[:3]) + 1
        if named.group(2):
            return (int(named.group(2)) - today.year) * 12 + month - today.month
        return (month - today.month) % 12  # the next such month
    return None


def check_timeline(text: str, today: date | None = None) -> Checked[str]:
    """One of `now`, `this_quarter`, `this_year`, `exploring` from a button or free text.

    A month ("in March"), a date ("2027-02-01") or a quarter ("Q2") is placed relative
    to `today`; "next quarter" is after this quarter, so within the year.
    """
    value = _clean(text).lower().replace("_", " ")
    if value in ("now", "this quarter", "this year", "exploring"):
        return Checked(value=value.replace(" ", "_"))
    months = _months_ahead(value, today or date.today())
    if months is not None:
        return Checked(value=timeline_from_months(months))
    padded = f" {' '.join(re.findall(r'[a-z0-9]+', value))} "
    for timeline, phrases in _TIMELINE_WORDS:
        if any(f" {phrase} " in padded for phrase in phrases):
            return Checked(value=timeline)
    return Checked(problem="unknown")


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "a dozen": 12, "dozen": 12, "a hundred": 100,
    "hundred": 100, "a thousand": 1000, "thousand": 1000, "dozens": 24, "hundreds": 200,
    "thousands": 2000, "a few": 3, "a couple": 2, "single": 1, "a handful": 5,
}
MAX_SIZE = 10_000_000


def check_size(text: str) -> Checked[int]:
    """The number of workloads or servers: "40", "about 1,200 VMs", "2k", "10-20", "dozens".

    A range counts as its upper end (the estate the visitor is planning for).
    """
    value = _clean(text).lower()
    numbers = re.findall(r"(\d[\d,. ]*\d|\d)\s*(k|m)?\b", value)
    if numbers:
        parsed: list[int] = []
        for digits, suffix in numbers:
            cleaned = re.sub(r"[,\s]", "", digits)
            try:
                number = float(cleaned)
            except ValueError:
                return Checked(problem="malformed")
            number *= {"k": 1_000, "m": 1_000_000}.get(suffix, 1)
            parsed.append(int(number))
        size = max(parsed)
    else:
        matches = [n for word, n in _NUMBER_WORDS.items() if re.search(rf"\b{word}\b", value)]
        if not matches:
            return Checked(problem="unknown")
        size = max(matches)
    if size < 1 or size > MAX_SIZE:
        return Checked(problem="out_of_range")
    return Checked(value=size)


_BUDGET_SKIP = ("skip", "not sure", "don't know", "dont know", "no idea", "prefer not",
                "rather not", "no budget", "none", "n/a", "na", "unknown", "no", "pass",
                "not given", "tbd", "undecided")


_PER_MONTH = re.compile(r"\b(?:a|per|each|every|/)\s*(?:month|mo)\b|\bmonthly\b|\bp\.?m\b|/mo\b")
_PER_YEAR = re.compile(
    r"\b(?:a|per|each|every|/)\s*(?:year|yr|annum)\b|\byearly\b|\bannual(?:ly)?\b")


def check_budget(text: str) -> Checked[str]:
    """A yearly budget band from a button, an amount ("$40k", "100,000 EUR") or a skip.

    An amount per month ("10k a month") is made yearly (x12) before it is banded.
    """
    value = _clean(text).lower().replace("_", " ")
    band_names = {"under 10k": "under_10k", "10k 50k": "10k_50k", "50k 250k": "50k_250k",
                  "over 250k": "over_250k", "not given": "not_given"}
    if value in band_names:
        return Checked(value=band_names[value])
    amounts = re.findall(r"(\d[\d,.]*)\s*(k|m|thousand|million)?", value)
    if amounts:
        digits, suffix = amounts[-1]  # the upper end of "20-40k"
        try:
            amount = float(digits.replace(",", ""))
        except ValueError:
            return Checked(problem="malformed")
        if not suffix and len(amounts) > 1:
            suffix = next((s for _, s in amounts if s), "")
        amount *= {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get(suffix, 1)
        if _PER_MONTH.search(value) and not _PER_YEAR.search(value):
            amount *= 12
        if amount < 10_000:
            return Checked(value="under_10k")
        if amount < 50_000:
            return Checked(value="10k_50k")
        if amount <= 250_000:
            return Checked(value="50k_250k")
        return Checked(value="over_250k")
    words = f" {' '.join(re.findall(r'[a-z/]+', value))} "
    if any(f" {phrase} " in words for phrase in _BUDGET_SKIP):
        return Checked(value="not_given")
    return Checked(problem="unknown")


def _clean(text: str | None) -> str:
    """NFC-normalise, drop control characters, collapse whitespace. Nothing else changes:
    quotes, angle brackets and the like are data, made safe where they are used."""
    value = unicodedata.normalize("NFC", text or "")
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Cc" or ch in "\t\n")
    return " ".join(value.split())
