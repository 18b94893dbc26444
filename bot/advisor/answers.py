"""Turn the visitor's answers (button payloads, entity values, free text) into profile values.

The chat fills one slot per profile field. Values arrive as canonical words from
buttons and synonyms (`untrusted`, `true`), as raw entity text (`Ubuntu 22.04`), as
lists (several OS entities in one message) or as a free-text answer to the question
being asked. Everything here is pure: the Rasa actions only pass slot values in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from bot.advisor.engine import possible_outcomes, profile_facts
from bot.advisor.profile import (
    BOOL_FIELDS,
    ENUM_FIELDS,
    FIELD_ORDER,
    MAX_WORKLOAD_COUNT,
    WorkloadProfile,
)
from bot.advisor.rules import FACT_FIELDS, FACT_ORDER, Rules

NOT_SURE = "not_sure"

_NOT_SURE = re.compile(
    r"\b(not sure|unsure|no idea|no clue|dunno|idk|don'?t know|do not know|not known|unknown|"
    r"skip|pass|can'?t say|hard to say|not_sure|whatever you think|you decide)\b"
)
_YES = re.compile(r"\b(yes|yeah|yep|yup|true|correct|definitely|we do|it does|of course|sure)\b")
_NO = re.compile(r"\b(no|nope|nah|false|not really|we don'?t|it doesn'?t|none|never|neither)\b")
# "no windows", "without a GPU": a negated mention is not a mention.
_NEGATION = r"\b(?:no|not|without|never|zero|don'?t (?:need|use|have|run))\s+(?:any\s+|a\s+|an\s+)?"

# What an answer means is read by meaning in the NLU pipeline (bot/rasa/nlu/answer_fields.py,
# with the option descriptions in answer_options.yml): it arrives here as an entity with
# a canonical value, or as a candidate for the question asked. What is left here are the
# rules that need no model: yes/no/not sure, OS and standard names, and numbers.

_OS_FAMILIES: Mapping[str, str] = {
    "windows": r"windows|\bwin ?(?:server|20\d\d|\d\d)\b|\.net framework|\biis\b|"
    r"active directory|hyper-v",
    "linux": r"linux|ubuntu|debian|rhel|red ?hat|centos|fedora|suse|sles|alpine|rocky|"
    r"alma(?:linux)?|amazon linux|oracle linux",
    "other": r"\bbsd\b|freebsd|openbsd|netbsd|unikernel|solaris|illumos|\baix\b|appliance|"
    r"pfsense|mac ?os|osx|something else|other kernel|another kernel|other os",
}
_BOTH = re.compile(r"\bboth\b|\bmix(?:ed)?\b|\bmixture\b|\band\b.*\band\b")

_COMPLIANCE: Mapping[str, str] = {
    "pci": r"pci|card ?holder|card data|card payments?|credit cards?",
    "hipaa": r"hipaa|hippa|health data|patient data|medical records|\bphi\b",
    "gdpr": r"gdpr",
    "soc2": r"soc ?2",
    "iso27001": r"iso ?27001",
    "fedramp": r"fed ?ramp",
}

_NUMBER_WORDS: Mapping[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "a dozen": 12, "dozen": 12, "twenty": 20,
    "fifty": 50, "a hundred": 100, "hundred": 100, "a thousand": 1000, "thousand": 1000,
}  # fmt: skip

# Workload counts per host that map a number to a density answer.
_DENSE_AT_LEAST = 20
_SPARSE_AT_MOST = 3


def normalise_answer(field: str, raw: Any) -> Any:
    """The profile value meant by `raw` for `field`, `NOT_SURE`, or None if not understood.

    Args:
        field: A profile field name.
        raw: A slot value: a canonical word, entity text, free text, a list of those,
            a bool or a number.
    """
    if raw is None:
        return None
    if isinstance(raw, (list, tuple)):
        return _normalise_many(field, list(raw))
    if isinstance(raw, bool):
        return raw if field in BOOL_FIELDS else None
    if isinstance(raw, (int, float)):
        if field == "workload_count" and 0 <= raw <= MAX_WORKLOAD_COUNT:
            return int(raw)
        if field == "density":
            return density_from_count(int(raw))
        return None
    text = str(raw).strip().lower()
    if not text:
        return None
    if text == NOT_SURE or _NOT_SURE.search(text):
        return NOT_SURE
    if field in ENUM_FIELDS and text in ENUM_FIELDS[field]:
        return text
    return _parse_text(field, text)


def _normalise_many(field: str, values: list[Any]) -> Any:
    if field == "compliance":
        names: list[str] = []
        for value in values:
            parsed = normalise_answer(field, value)
            if isinstance(parsed, list):
                names += [n for n in parsed if n not in names]
        return names
    parsed_values = [normalise_answer(field, value) for value in values]
    known = [value for value in parsed_values if value not in (None, NOT_SURE)]
    if not known:
        return NOT_SURE if NOT_SURE in parsed_values else None
    if field == "os_mix":
        return combine_os(known)
    # Several mentions of one field in a message: the last one is the answer.
    return known[-1]


def combine_os(values: Iterable[str]) -> str | None:
    """One `os_mix` value for several mentioned OS mixes (e.g. Windows and Linux)."""
    families: set[str] = set()
    for value in values:
        families |= {
            "linux_only": {"linux"},
            "windows_only": {"windows"},
            "windows_and_linux": {"windows", "linux"},
            "other_kernel": {"other"},
        }.get(value, set())
    return _os_from_families(families)


def _os_from_families(families: Collection[str]) -> str | None:
    if "other" in families:
        return "other_kernel"
    if {"windows", "linux"} <= set(families):
        return "windows_and_linux"
    if "windows" in families:
        return "windows_only"
    if "linux" in families:
        return "linux_only"
    return None


def _os_families(text: str) -> set[str]:
    families = set()
    for family, pattern in _OS_FAMILIES.items():
        if re.search(pattern, text) and not re.search(_NEGATION + f"(?:{pattern})", text):
            families.add(family)
    return families


def _parse_text(field: str, text: str) -> Any:
    if field == "os_mix":
        families = _os_families(text)
        if not families and _BOTH.search(text):
            # "both" answers the question "Windows, Linux or both?"
            families = {"windows", "linux"}
        return _os_from_families(families)
    if field in BOOL_FIELDS:
        return _parse_bool(field, text)
    if field == "compliance":
        if re.search(r"\b(none|no|nothing|not regulated|n/a)\b", text):
            return []
        return [name for name, pattern in _COMPLIANCE.items() if re.search(pattern, text)] or None
    if field == "workload_count":
        return count_from_text(text)
    if field == "density":
        # "about 30 per host": a bare number of workloads per host.
        count = count_from_text(text)
        if count is not None:
            return density_from_count(count)
    return None


def _parse_bool(field: str, text: str) -> bool | None:
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


def count_from_text(text: str) -> int | None:
    """The number of workloads in `text` ("about 200", "a dozen"), or None."""
    digits = re.search(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?![\w.])", text)
    if digits:
        count = int(digits.group(1).replace(",", ""))
        return count if count <= MAX_WORKLOAD_COUNT else None
    for words, count in _NUMBER_WORDS.items():
        if re.search(rf"\b{words}s?\b", text):
            return count * (2 if re.search(rf"\b{words}s\b", text) else 1)
    return None


def density_from_count(count: int) -> str:
    """A density answer for a number of workloads per host."""
    if count >= _DENSE_AT_LEAST:
        return "high"
    if count <= _SPARSE_AT_MOST:
        return "low"
    return "medium"


def profile_from_answers(answers: Mapping[str, Any]) -> tuple[WorkloadProfile, tuple[str, ...]]:
    """Build a profile from slot values.

    Args:
        answers: Slot name -> slot value for the profile fields (others are ignored).

    Returns:
        The profile (answers not understood count as unknown) and the fields the
        visitor answered "not sure".
    """
    values: dict[str, Any] = {}
    not_sure: list[str] = []
    for field in FIELD_ORDER:
        value = normalise_answer(field, answers.get(field))
        if value == NOT_SURE:
            not_sure.append(field)
        elif value is not None:
            values[field] = value
    return WorkloadProfile(**values), tuple(not_sure)


def corrected_os_mix(previous: str | None, mentioned: Any, text: str) -> Any:
    """The OS mix after a correction such as "actually we also run Windows".

    With "also", "too", "as well"... the new mention is added to what was known;
    otherwise it replaces it.
    """
    new = normalise_answer("os_mix", mentioned)
    additive = re.search(r"\b(also|too|as well|plus|in addition|additionally|both)\b", text.lower())
    if previous in ENUM_FIELDS["os_mix"] and isinstance(new, str) and new != NOT_SURE and additive:
        return combine_os([previous, new])
    return new


def apply_correction(
    answers: Mapping[str, Any],
    mentioned: Collection[str],
    previous_profile: Mapping[str, Any],
    text: str,
) -> tuple[dict[str, Any], list[str]]:
    """The answers after a correction made once the recommendation was given.

    Args:
        answers: Current slot values; the fields in `mentioned` were just set from the
            visitor's correction, the others keep their earlier answers.
        mentioned: Profile fields set by the correction message (from its entities).
        previous_profile: The profile the last recommendation used (its `to_dict()`).
        text: The correction message, e.g. "Actually we also run Windows".

    Returns:
        The corrected answers (canonical values for the mentioned fields) and the
        fields whose value really changed. An entity that makes no sense is read again
        from the whole message, and failing that the earlier answer is kept.
    """
    corrected = dict(answers)
    changed: list[str] = []
    for field in mentioned:
        previous = previous_profile.get(field)
        if field == "os_mix":
            value = corrected_os_mix(previous, answers[field], text)
        else:
            value = normalise_answer(field, answers[field])
        if value is None:
            value = normalise_answer(field, text)
        if value is None or value == NOT_SURE:
            value = previous
        corrected[field] = value
        if value is not None and value != previous:
            changed.append(field)
    return corrected, changed


def describe_answers(answers: Mapping[str, Any], rules: Rules) -> list[str]:
    """Plain-word descriptions of the understood answers, e.g. "everything runs on Linux"."""
    profile, _ = profile_from_answers(answers)
    facts, assumed = profile_facts(profile, rules)
    descriptions = []
    for fact in FACT_ORDER:
        if fact in assumed:
            continue
        if fact == "estate" and profile.workload_count is not None:
            descriptions.append(f"about {profile.workload_count} workloads")
        else:
            descriptions.append(rules.factors[fact][facts[fact]].label)
    return descriptions


def default_description(field: str, rules: Rules) -> str:
    """What the advisor assumes when `field` is unknown, in plain words."""
    fact = next(fact for fact, source in FACT_FIELDS.items() if source == field)
    return rules.factors[fact][rules.defaults[fact]].label


def remaining_questions(
    answers: Mapping[str, Any], questions: Iterable[str], rules: Rules
) -> list[str]:
    """The questions still worth asking, in order.

    Unanswered questions are dropped once no combination of their answers could change
    the recommendation (e.g. after "we run FreeBSD appliances" nothing else matters).

    Args:
        answers: Slot values so far (None = not answered yet).
        questions: The form's questions (profile fields) in asking order.
        rules: The decision rules.
    """
    questions = list(questions)
    open_fields = [q for q in questions if answers.get(q) is None]
    if not open_fields:
        return []
    profile, _ = profile_from_answers(answers)
    reachable = possible_outcomes(profile, open_fields, rules, stop_at=2)
    if reachable is not None and len(reachable) <= 1:
        return []
    return open_fields


# A candidate reading (bot/rasa/nlu/answer_fields.py) is taken as the answer to the question
# asked when it is this close to one option and this much closer than to the others.
CANDIDATE_MIN_SCORE = 0.45
CANDIDATE_MIN_MARGIN = 0.03
BY_WORDS_MIN_SCORE = 0.3


def answer_from_candidates(field: str, candidates: Any) -> Any:
    """The value the NLU's best reading gives `field`, if clear enough, else None.

    Args:
        field: The profile field being asked.
        candidates: The message's `answer_candidates`: field -> {value, score, margin}.
    """
    if not isinstance(candidates, Mapping):
        return None
    reading = candidates.get(field)
    if not isinstance(reading, Mapping):
        return None
    score, margin = float(reading.get("score", 0)), float(reading.get("margin", 0))
    # A quantity word answers a quantity question even when the sentence around it is
    # far from every description ("lots of small functions" when asked about density).
    floor = BY_WORDS_MIN_SCORE if reading.get("by_words") else CANDIDATE_MIN_SCORE
    if score < floor or margin < CANDIDATE_MIN_MARGIN:
        return None
    return normalise_answer(field, reading.get("value"))


# After the recommendation no question is being asked, so a reply that names no field
# ("no databases", "minutes r fine": too short to be an entity) is a correction only when
# its best reading is clear on its own and well ahead of every other field's.
CORRECTION_MIN_SCORE = 0.55
CORRECTION_MIN_MARGIN = 0.05
CORRECTION_LEAD = 0.2


def correction_from_candidates(candidates: Any, fields: Collection[str]) -> tuple[str, Any] | None:
    """The (field, value) a reply after the recommendation corrects, if it is clear.

    Args:
        candidates: The message's `answer_candidates`: field -> {value, score, margin}.
        fields: The profile fields a correction may change.
    """
    if not isinstance(candidates, Mapping):
        return None
    readings = sorted(
        ((float(reading.get("score", 0)), field, reading)
         for field, reading in candidates.items()
         if field in fields and isinstance(reading, Mapping)),
        key=lambda item: item[0], reverse=True)
    if not readings:
        return None
    score, field, reading = readings[0]
    if score < CORRECTION_MIN_SCORE or float(reading.get("margin", 0)) < CORRECTION_MIN_MARGIN:
        return None
    if len(readings) > 1 and score - readings[1][0] < CORRECTION_LEAD:
        return None
    value = normalise_answer(field, reading.get("value"))
    return None if value is None or value == NOT_SURE else (field, value)


def understood_profile(
    answers: Mapping[str, Any], rules: Rules
) -> list[dict[str, Any]]:
    """The profile as understood, for the scorecard's "What I understood".

    One item per fact, in report order: its field, the value, the plain-words label,
    where it came from (`said`, `not_sure` or `assumed`) and, for fields a click can
    change, the other options with the `/inform` payload that sets each.

    Args:
        answers: Slot values of the profile fields.
        rules: The decision rules (labels and defaults).
    """
    profile, not_sure = profile_from_answers(answers)
    facts, assumed = profile_facts(profile, rules)
    items: list[dict[str, Any]] = []
    for fact in FACT_ORDER:
        field = FACT_FIELDS[fact]
        source = "said" if fact not in assumed else (
            "not_sure" if field in not_sure else "assumed")
        item: dict[str, Any] = {
            "field": field,
            "value": facts[fact],
            "label": rules.factors[fact][facts[fact]].label,
            "source": source,
        }
        if field in ENUM_FIELDS or field in BOOL_FIELDS:
            item["options"] = [
                {"value": value, "label": factor.label,
                 "payload": "/inform" + json.dumps({field: _slot_value(field, value)})}
                for value, factor in rules.factors[fact].items()
            ]
        items.append(item)
    return items


def _slot_value(field: str, fact_value: str) -> Any:
    if field in BOOL_FIELDS:
        return fact_value == "true"
    return fact_value
