"""Checks on the NLU training data, the FAQ rules and the FAQ answers themselves.

Pure file checks (PyYAML only, no Rasa import) so they run in well under a second. They
guard the intent contract, enough and distinct training examples, and the separation
between training data and the sets we measure on (the development set in
`../shared/data/` and our own held-out file).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "data" / "nlu"
RULES_DIR = ROOT / "data" / "rules"
DOMAIN = ROOT / "domain.yml"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
DEV_SET = ROOT.parent / "shared" / "data" / "real_questions_dev.yml"

TOPIC_INTENTS = (
    "ask_difference",
    "ask_vm_definition",
    "ask_container_definition",
    "ask_isolation_security",
    "ask_performance_density",
    "ask_os_support",
    "ask_portability",
    "ask_use_case_recommendation",
    "ask_both_together",
    "ask_cost",
)
CONVERSATION_INTENTS = (
    "out_of_scope",
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "help",
    "contact_sales",
)
CONTRACT_INTENTS = (*TOPIC_INTENTS, *CONVERSATION_INTENTS, "inform")
# The recommendation is a conversation (the advisor form), not a one-shot answer.
FAQ_INTENTS = tuple(i for i in TOPIC_INTENTS if i != "ask_use_case_recommendation")

MIN_TOPIC_EXAMPLES = 25
MIN_HELDOUT_EXAMPLES = 8
# Two lines this similar (difflib ratio after normalising) count as the same question.
NEAR_DUPLICATE_RATIO = 0.9

# `[text](entity)` and `[text]{"entity": ...}` annotations keep only their text.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_NON_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """Lowercase, drop entity markup and punctuation, collapse whitespace."""
    text = _ANNOTATION.sub(r"\1", text)
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def _examples(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (intent, example text) for every intent example in an NLU file."""
    for block in _load(path).get("nlu") or []:
        if "intent" not in block:
            continue  # synonyms, regexes and lookups are not examples
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield block["intent"], line[2:].strip()


def _training_examples() -> list[tuple[str, str, str]]:
    """(file name, intent, text) for every example under data/nlu/."""
    return [
        (path.name, intent, text)
        for path in sorted(NLU_DIR.glob("*.yml"))
        for intent, text in _examples(path)
    ]


def _is_near(a: str, b: str) -> bool:
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds rule out almost every pair before the real ratio.
    return (
        matcher.real_quick_ratio() >= NEAR_DUPLICATE_RATIO
        and matcher.quick_ratio() >= NEAR_DUPLICATE_RATIO
        and matcher.ratio() >= NEAR_DUPLICATE_RATIO
    )


@pytest.fixture(scope="module")
def training() -> list[tuple[str, str, str]]:
    examples = _training_examples()
    assert examples, f"no intent examples found under {NLU_DIR}"
    return examples


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return _load(DOMAIN)


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    return [
        rule for path in sorted(RULES_DIR.glob("*.yml")) for rule in _load(path).get("rules") or []
    ]


def test_normalise_ignores_case_punctuation_spacing_and_entity_markup() -> None:
    assert normalise("  What's   a VM?? ") == "what s a vm"
    assert normalise('we run [Linux](os_mix) and [win]{"entity": "os_mix"}') == (
        "we run linux and win"
    )


def test_near_duplicate_detection_catches_small_edits_only() -> None:
    assert _is_near("what is a hypervisor", "what is a hypervisor")
    assert _is_near("what is the hypervisor", "what is a hypervisor")
    assert not _is_near("what is a hypervisor", "what is a container image")


@pytest.mark.parametrize("intent", CONTRACT_INTENTS)
def test_contract_intent_is_in_the_domain(intent: str, domain: dict[str, Any]) -> None:
    names = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert intent in names


@pytest.mark.parametrize("intent", CONTRACT_INTENTS)
def test_contract_intent_has_training_examples(
    intent: str, training: list[tuple[str, str, str]]
) -> None:
    assert any(i == intent for _, i, _ in training), f"no examples for {intent} in {NLU_DIR}"


@pytest.mark.parametrize("intent", TOPIC_INTENTS)
def test_topic_intent_has_enough_examples(
    intent: str, training: list[tuple[str, str, str]]
) -> None:
    count = sum(1 for _, i, _ in training if i == intent)
    assert count >= MIN_TOPIC_EXAMPLES, f"{intent} has {count} examples"


def test_no_example_appears_twice(training: list[tuple[str, str, str]]) -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for file_name, intent, text in training:
        seen[normalise(text)].append(f"{file_name}:{intent}: {text}")
    repeated = {key: places for key, places in seen.items() if len(places) > 1}
    assert not repeated, "examples that appear more than once:\n" + "\n".join(
        " | ".join(places) for places in repeated.values()
    )


def _overlaps(training: list[tuple[str, str, str]], reference: Path) -> list[str]:
    lines = {normalise(text): text for _, text in _examples(reference)}
    found = []
    for file_name, intent, text in training:
        key = normalise(text)
        for ref_key, ref_text in lines.items():
            if _is_near(key, ref_key):
                found.append(f"{file_name}:{intent}: {text!r} ~ {ref_text!r}")
    return found


@pytest.fixture(scope="module")
def dev_set() -> Path:
    if not DEV_SET.is_file():
        pytest.fail(
            f"development set not found at {DEV_SET} (expected at "
            "../shared/data/real_questions_dev.yml relative to the project root)"
        )
    return DEV_SET


def test_training_data_does_not_copy_the_development_set(
    training: list[tuple[str, str, str]], dev_set: Path
) -> None:
    found = _overlaps(training, dev_set)
    assert not found, "training lines that copy the development set:\n" + "\n".join(found)


def test_heldout_set_does_not_copy_the_development_set(dev_set: Path) -> None:
    heldout = [("heldout.yml", intent, text) for intent, text in _examples(HELDOUT)]
    found = _overlaps(heldout, dev_set)
    assert not found, "held-out lines that copy the development set:\n" + "\n".join(found)


def test_training_data_does_not_copy_the_heldout_set(
    training: list[tuple[str, str, str]],
) -> None:
    found = _overlaps(training, HELDOUT)
    assert not found, "training lines that copy tests/nlu/heldout.yml:\n" + "\n".join(found)


def test_heldout_set_covers_every_intent_except_inform() -> None:
    counts = Counter(intent for intent, _ in _examples(HELDOUT))
    expected = set(CONTRACT_INTENTS) - {"inform"}
    assert set(counts) == expected
    thin = {i: n for i, n in counts.items() if n < MIN_HELDOUT_EXAMPLES}
    assert not thin, f"held-out intents with fewer than {MIN_HELDOUT_EXAMPLES} lines: {thin}"


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_faq_intent_has_a_rule_to_its_answer(intent: str, rules: list[dict[str, Any]]) -> None:
    answer = "utter_answer_" + intent.removeprefix("ask_")
    expected = [{"intent": intent}, {"action": answer}]
    assert any(rule.get("steps") == expected for rule in rules), (
        f"no rule maps {intent} straight to {answer}"
    )


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_faq_answer_offers_a_related_topic_and_a_recommendation(
    intent: str, domain: dict[str, Any]
) -> None:
    answer = "utter_answer_" + intent.removeprefix("ask_")
    variants = domain["responses"].get(answer)
    assert variants, f"{answer} is missing from domain.yml responses"
    for variant in variants:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", variant["text"].strip()) if s]
        assert 3 <= len(sentences) <= 5, f"{answer} has {len(sentences)} sentences"
        payloads = [button["payload"] for button in variant.get("buttons", [])]
        assert "/ask_use_case_recommendation" in payloads
        related = [p.removeprefix("/") for p in payloads if p.startswith("/ask_")]
        assert any(p in FAQ_INTENTS and p != intent for p in related), (
            f"{answer} offers no related FAQ topic: {payloads}"
        )
