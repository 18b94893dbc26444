"""How chat answers (buttons, entity values, free text) become profile values."""

from __future__ import annotations

from typing import Any

import pytest

from bot.advisor.answers import (
    NOT_SURE,
    apply_correction,
    count_from_text,
    describe_answers,
    normalise_answer,
    profile_from_answers,
    remaining_questions,
    understood_profile,
)
from bot.advisor.rules import load_rules

RULES = load_rules()
QUESTIONS = ["isolation", "os_mix", "density", "startup", "stateful", "legacy", "team_containers"]


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("isolation", "untrusted", "untrusted"),
        ("density", "about 200", "high"),
        ("stateful", "true", True),
        ("stateful", "yes, a production database", True),
        ("stateful", "we don't have a database", False),
        ("stateful", "no, it's stateless", False),
        ("legacy", "nope", False),
        ("density", "hundreds of containers", "high"),  # a number word: 200
        # Meaning is read by the NLU (tests/unit/test_answer_fields.py), not by keywords.
        ("team_containers", "a bit of docker", None),
        ("isolation", "bananas", None),
        ("isolation", "I don't know", NOT_SURE),
        ("os_mix", "RHEL + Ubuntu", "linux_only"),
        ("os_mix", "Win Server 2019", "windows_only"),
        ("os_mix", ["windows_only", "linux_only"], "windows_and_linux"),
        ("os_mix", ["linux_only", "linux_only"], "linux_only"),
        ("os_mix", "both", "windows_and_linux"),
        ("os_mix", "Linux, no Windows at all", "linux_only"),
        ("os_mix", "FreeBSD appliances", "other_kernel"),
        ("density", 2, "low"),
        ("team_containers", "no idea", NOT_SURE),
        ("compliance", "PCI-DSS", ["pci"]),
        ("compliance", ["pci", "hipaa", "pci"], ["pci", "hipaa"]),
        ("compliance", "none", []),
        ("workload_count", "about 200", 200),
        ("workload_count", "1,500", 1500),
        ("workload_count", "a dozen", 12),
    ],
)
def test_normalise_answer(field: str, raw: Any, expected: Any) -> None:
    assert normalise_answer(field, raw) == expected


def test_count_from_text_ignores_text_without_numbers() -> None:
    assert count_from_text("many") is None


def test_not_sure_answers_are_unknown_in_the_profile() -> None:
    profile, not_sure = profile_from_answers(
        {"isolation": NOT_SURE, "os_mix": ["linux_only"], "gpu": "true", "density": "bananas"}
    )
    assert profile.isolation is None and profile.density is None
    assert profile.os_mix == "linux_only" and profile.gpu is True
    assert not_sure == ("isolation",)


def test_also_adds_to_the_known_os_and_otherwise_replaces_it() -> None:
    answers = {"os_mix": ["windows_only"], "isolation": "medium"}
    before = {"os_mix": "linux_only", "isolation": "medium"}
    added, changed = apply_correction(answers, ["os_mix"], before, "Actually we also run Windows")
    assert added["os_mix"] == "windows_and_linux" and changed == ["os_mix"]
    replaced, _ = apply_correction(answers, ["os_mix"], before, "Sorry, it's Windows only")
    assert replaced["os_mix"] == "windows_only"


def test_a_nonsense_correction_keeps_the_earlier_answer() -> None:
    corrected, changed = apply_correction(
        {"density": "zzz"}, ["density"], {"density": "high"}, "hmm zzz"
    )
    assert corrected["density"] == "high" and changed == []


def test_questions_stop_once_the_outcome_is_settled() -> None:
    assert remaining_questions({}, QUESTIONS, RULES) == QUESTIONS
    settled = {"os_mix": ["other_kernel"], "kernel_custom": "true", "density": "low"}
    assert remaining_questions(settled, QUESTIONS, RULES) == []
    open_ones = remaining_questions({"isolation": "untrusted"}, QUESTIONS, RULES)
    assert open_ones == QUESTIONS[1:]


def test_describe_answers_in_plain_words() -> None:
    words = describe_answers({"os_mix": ["linux_only"], "workload_count": "40"}, RULES)
    assert words == ["everything runs on Linux", "about 40 workloads"]


def test_understood_profile_marks_said_not_sure_and_assumed() -> None:
    items = {item["field"]: item for item in understood_profile(
        {"isolation": "untrusted", "os_mix": ["linux_only"], "density": "not_sure"}, RULES)}
    assert items["isolation"]["source"] == "said"
    assert items["isolation"]["value"] == "untrusted"
    assert items["density"]["source"] == "not_sure"
    assert items["gpu"]["source"] == "assumed"
    # A click offers the other options, each with the payload that sets it.
    payloads = {o["value"]: o["payload"] for o in items["gpu"]["options"]}
    assert payloads["true"] == '/inform{"gpu": true}'
