"""Checks on the NLU training data, the FAQ rules and the knowledge base's answers.

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
GATHERED = ROOT / "tests" / "nlu" / "real_questions.yml"
DEV_SET = ROOT.parent / "shared" / "data" / "real_questions_dev.yml"
RESPONSES = ROOT / "data" / "responses" / "faq.yml"
OFFERINGS = ROOT / "bot" / "offerings.yml"

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
MIN_ANSWER_EXAMPLES = 12
MIN_SPECIFIC_ANSWERS = 60
GENERAL = "general"
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


def topic_of(label: str) -> str:
    """`ask_cost/esxi_free` -> `ask_cost`."""
    return label.split("/", 1)[0]


def _examples(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (label, example text) for every intent example in an NLU file.

    A retrieval intent's label carries its answer key: `ask_cost/esxi_free`. The gathered
    set's own format (a list of questions with their sources) is read too.
    """
    document = _load(path)
    for question in document.get("questions") or []:
        yield str(question["intent"]), str(question["text"]).strip()
    for block in document.get("nlu") or []:
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
    assert any(topic_of(i) == intent for _, i, _ in training), (
        f"no examples for {intent} in {NLU_DIR}")


@pytest.mark.parametrize("intent", TOPIC_INTENTS)
def test_topic_intent_has_enough_examples(
    intent: str, training: list[tuple[str, str, str]]
) -> None:
    count = sum(1 for _, i, _ in training if topic_of(i) == intent)
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


def test_training_data_does_not_copy_the_gathered_set(
    training: list[tuple[str, str, str]],
) -> None:
    found = _overlaps(training, GATHERED)
    assert not found, "training lines that copy tests/nlu/real_questions.yml:\n" + "\n".join(found)


def test_gathered_set_has_a_source_for_every_question() -> None:
    questions = _load(GATHERED)["questions"]
    assert len(questions) >= 150
    missing = [q["text"] for q in questions if not str(q.get("source", "")).startswith("http")]
    assert not missing, f"questions without a source address: {missing}"


def test_heldout_set_covers_every_intent_except_inform() -> None:
    counts = Counter(intent for intent, _ in _examples(HELDOUT))
    expected = set(CONTRACT_INTENTS) - {"inform"}
    assert set(counts) == expected
    thin = {i: n for i, n in counts.items() if n < MIN_HELDOUT_EXAMPLES}
    assert not thin, f"held-out intents with fewer than {MIN_HELDOUT_EXAMPLES} lines: {thin}"


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_faq_intent_has_a_rule_to_its_answer(intent: str, rules: list[dict[str, Any]]) -> None:
    # Rasa's retrieval action for the topic utters the answer the selector chose.
    answer = f"utter_{intent}"
    expected = [{"intent": intent}, {"action": answer}]
    assert any(rule.get("steps") == expected for rule in rules), (
        f"no rule maps {intent} straight to {answer}"
    )


@pytest.fixture(scope="module")
def answers() -> dict[str, list[dict[str, Any]]]:
    """The knowledge base's answers by key (`ask_cost/esxi_free`)."""
    responses = _load(RESPONSES)["responses"]
    return {name.removeprefix("utter_"): variants for name, variants in responses.items()}


@pytest.fixture(scope="module")
def offering_keys() -> set[str]:
    catalogue = _load(OFFERINGS)
    return {f"ask_offerings/{key}"
            for key in [*catalogue["offerings"], *(catalogue.get("faq") or {})]}


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _payloads(variant: dict[str, Any]) -> list[str]:
    return [button["payload"] for button in variant.get("buttons", [])]


def test_every_answer_key_has_an_answer_and_every_answer_has_examples(
    training: list[tuple[str, str, str]], answers: dict[str, Any], offering_keys: set[str]
) -> None:
    keys = {label for _, label, _ in training if "/" in label}
    assert keys - set(answers) - offering_keys == set(), "answer keys with no answer"
    assert set(answers) - keys == set(), "answers that no example leads to"
    assert offering_keys - keys == set(), "offerings that no example leads to"


def test_every_answer_has_enough_examples(training: list[tuple[str, str, str]]) -> None:
    counts = Counter(label for _, label, _ in training if "/" in label)
    thin = {key: n for key, n in counts.items() if n < MIN_ANSWER_EXAMPLES}
    assert not thin, f"answers with fewer than {MIN_ANSWER_EXAMPLES} examples: {thin}"


def test_the_knowledge_base_has_enough_specific_answers(answers: dict[str, Any]) -> None:
    specific = [key for key in answers if not key.endswith(f"/{GENERAL}")
                and not key.endswith("/my_workload")]
    # Our products' answers (bot/offerings.yml) come on top of these.
    assert len(specific) >= MIN_SPECIFIC_ANSWERS, f"{len(specific)} specific answers"


def test_specific_answers_are_short_titled_and_offer_more(answers: dict[str, Any]) -> None:
    for key, variants in answers.items():
        topic, name = key.split("/", 1)
        if name in (GENERAL, "my_workload"):
            continue
        for variant in variants:
            assert 2 <= len(_sentences(variant["text"])) <= 4, f"{key} is not 2-4 sentences"
            title = (variant.get("metadata") or {}).get("title", "")
            assert 0 < len(title) <= 40, f"{key} has no short button title"
            # A workload question's "more" is the questionnaire for the visitor's own.
            more = ("/ask_use_case_recommendation" if topic == "ask_use_case_recommendation"
                    else '/show_answer{{"answer_key": "' + f'{topic}/{GENERAL}' + '"}}')
            assert more in _payloads(variant), f"{key} offers no 'more' button"


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_topic_overview_offers_a_related_topic_and_a_recommendation(
    intent: str, answers: dict[str, Any]
) -> None:
    variants = answers.get(f"{intent}/{GENERAL}")
    assert variants, f"{intent}/{GENERAL} has no answer"
    for variant in variants:
        assert 3 <= len(_sentences(variant["text"])) <= 5
        payloads = _payloads(variant)
        assert "/ask_use_case_recommendation" in payloads
        related = re.findall(r'"answer_key": "(ask_[a-z_]+)/', " ".join(payloads))
        assert any(p in FAQ_INTENTS and p != intent for p in related), (
            f"{intent}/{GENERAL} offers no related FAQ topic: {payloads}"
        )


def test_no_button_sends_a_bare_retrieval_intent(domain: dict[str, Any],
                                                 answers: dict[str, Any]) -> None:
    # A payload such as /ask_cost skips NLU, so no answer would be chosen and the
    # retrieval action would say nothing: buttons name an answer with /show_answer.
    variants = [v for group in (domain["responses"], answers) for vs in group.values()
                for v in vs]
    bare = [p for v in variants for p in _payloads(v)
            if p.removeprefix("/").split("{")[0] in FAQ_INTENTS]
    assert not bare, f"buttons that send a bare retrieval intent: {bare}"
