"""Free-text workload answers read by meaning (bot/rasa/nlu/answer_fields.py).

Uses the real sentence encoder (a pinned package, hash-checked) and the real option
descriptions, so a change to either that misreads these answers fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.advisor.answers import answer_from_candidates, correction_from_candidates
from bot.advisor.profile import FIELD_ORDER
from bot.rasa.nlu.answer_fields import (
    AnswerReader,
    WordRules,
    clauses,
    load_options,
    read_message,
    shared_reader,
)


@pytest.fixture(scope="module")
def reader() -> AnswerReader:
    return shared_reader()


def answer_to(reader: AnswerReader, field: str, text: str) -> Any:
    """What the conversation takes as the answer to `field`'s question."""
    entities, candidates, _ = read_message(text, {"name": "inform", "confidence": 0.9}, [],
                                           reader)
    for entity in entities:
        if entity["entity"] == field:
            return entity["value"]
    return answer_from_candidates(field, candidates)


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("isolation", "customers upload their own code", "untrusted"),
        ("isolation", "it's multi-tenant", "untrusted"),
        ("isolation", "only our own code", "medium"),
        # Statements of how strong a separation is needed (each was read as "low").
        ("isolation", "we need strong isolation", "high"),
        ("isolation", "strong isolation needed", "high"),
        ("isolation", "isolation is critical for us", "high"),
        ("isolation", "basic isolation is enough", "medium"),
        ("isolation", "we don't need strong isolation", "low"),
        ("isolation", "we need strong isolation, its multi tenant", "untrusted"),
        # Legacy apps named with "legacy" or "old": "some legacy apps" sounds as much like
        # "all our apps are modern" as like "a number of legacy systems".
        ("legacy", "a couple of old legacy apps too", True),
        ("legacy", "some legacy apps", True),
        ("legacy", "no legacy", False),
        # One-word replies to "Whose code will run on these machines?".
        ("isolation", "ours", "medium"),
        ("isolation", "mine", "medium"),
        ("isolation", "theirs", "untrusted"),
        ("isolation", "our customers'", "untrusted"),
        ("isolation", "sensitive data, needs strict separation", "high"),
        ("density", "hundreds of containers on every node", "high"),
        ("density", "a few big apps", "low"),
        ("density", "a handful of services per box", "medium"),
        ("density", "lots", "high"),
        ("startup", "under a second", "subsecond"),
        ("startup", "within seconds", "seconds"),
        ("startup", "no need for fast start", "minutes"),
        ("stateful", "we don't have a database", False),
        ("legacy", "lift and shift", True),
        ("gpu", "we need CUDA", True),
        ("kernel_custom", "kernel modules", True),
        ("team_containers", "we run kubernetes in production", "strong"),
        ("team_containers", "our team knows containers well", "strong"),
        ("team_containers", "a bit of docker", "some"),
        ("team_containers", "never used containers", "none"),
        # Quantities and intensities, which embeddings blur (decided_by_words).
        ("startup", "a second or two", "seconds"),
        ("isolation", "our own code but sensitive", "high"),
        ("team_containers", "we use docker daily", "strong"),
        ("team_containers", "we use docker a lot in production", "strong"),
        ("density", "lots of small functions", "high"),
    ],
)
def test_an_answer_is_read_for_the_question_asked(
    reader: AnswerReader, field: str, text: str, expected: Any
) -> None:
    assert answer_to(reader, field, text) == expected


def test_an_answer_about_start_up_is_not_read_as_density(reader: AnswerReader) -> None:
    entities, _, _ = read_message("each should start within a few seconds", None, [
        {"entity": "density", "value": "low", "start": 28, "end": 31,
         "extractor": "CRFEntityExtractor"}], reader)
    assert [(e["entity"], e["value"]) for e in entities] == [("startup", "seconds")]


def test_details_in_an_opening_message_are_all_read(reader: AnswerReader) -> None:
    text = ("About 200 servers, mix of Windows and Linux, some old apps we can't "
            "repackage, a few databases on local disks.")
    entities, _, promoted = read_message(text, {"name": "ask_migration", "confidence": 0.6},
                                         [], reader)
    found = {(e["entity"], e["value"]) for e in entities}
    assert {("legacy", True), ("stateful", True), ("workload_count", 200)} <= found
    assert promoted == "inform"  # several details: a description, not a question


def test_a_question_keeps_its_topic(reader: AnswerReader) -> None:
    _, _, promoted = read_message("are containers good for databases?",
                                  {"name": "ask_use_case_recommendation", "confidence": 0.9},
                                  [], reader)
    assert promoted is None


def test_clauses_keep_their_spans() -> None:
    text = "all linux, but lots of jobs per host"
    pieces = [text[s:e].strip() for s, e, _ in clauses(text)]
    assert pieces == ["all linux", "lots of jobs per host"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30 containers per host", "high"), ("2 per server", "low"), ("a handful", "medium"),
     ("one big app", "low"), ("something", None)],
)
def test_density_from_quantities(text: str, expected: str | None) -> None:
    assert WordRules(load_options().decided_by_words).decide("density", text) == expected


@pytest.mark.parametrize(
    ("field", "text", "value", "expected"),
    [("startup", "a second or two", "subsecond", "seconds"),
     ("startup", "under a second", "seconds", "subsecond"),
     ("startup", "under a minute is fine", "minutes", "seconds"),
     ("team_containers", "we use docker daily", "some", "strong"),
     ("team_containers", "tried it on our laptops", "strong", "some"),
     ("team_containers", "the team is new to docker", "strong", "none"),
     ("isolation", "our own code but sensitive", "medium", "high"),
     # Sensitive data does not make customers' code any less untrusted.
     ("isolation", "strangers' scripts and sensitive data", "untrusted", None),
     ("isolation", "customers' code and sensitive data", "untrusted", "untrusted"),
     # "Isolation" alone sounds like "isolation does not matter much"; the level decides.
     ("isolation", "we need strong isolation", "low", "high"),
     ("isolation", "basic isolation is enough", "low", "medium"),
     ("isolation", "it's a multi-tenant platform", "high", "untrusted")],
)
def test_words_decide_quantities_and_intensities(field: str, text: str, value: str,
                                                 expected: str | None) -> None:
    assert WordRules(load_options().decided_by_words).decide(field, text, value) == expected


@pytest.mark.parametrize("text", ["the team is new to docker", "new to kubernetes",
                                  "our team never used docker"])
def test_a_team_new_to_containers_has_no_experience(text: str, reader: AnswerReader
                                                    ) -> None:
    # The embedding puts "new to docker" next to "knows docker well".
    entities, candidates, _ = read_message(text, {"name": "inform", "confidence": 0.5}, [],
                                           reader)
    assert candidates["team_containers"]["value"] == "none"
    assert ("team_containers", "strong") not in {(e["entity"], e["value"]) for e in entities}


def test_apps_of_our_own_are_about_whose_code_runs_not_legacy(reader: AnswerReader) -> None:
    entities, _, _ = read_message(
        "we store patient records so HIPAA applies, apps are our own, on red hat",
        {"name": "inform", "confidence": 0.9}, [], reader)
    found = {(e["entity"], e["value"]) for e in entities}
    assert ("isolation", "medium") in found
    assert not any(field == "legacy" for field, _ in found)


def test_a_greeting_before_a_question_keeps_it_a_question(reader: AnswerReader) -> None:
    entities, _, promoted = read_message(
        "hi, can you recommend something for our apps",
        {"name": "ask_use_case_recommendation", "confidence": 0.8}, [], reader)
    assert not [e for e in entities if e["entity"] == "legacy"]
    assert promoted is None


def test_a_question_mark_anywhere_keeps_a_message_a_question(reader: AnswerReader) -> None:
    # "Windows" alone would make a statement an answer (os_mix), starting the questionnaire.
    _, _, promoted = read_message(
        "I was wondering, can I run windows inside a container? thanks",
        {"name": "ask_os_support", "confidence": 0.4},
        [{"entity": "os_mix", "value": "windows_only", "start": 28, "end": 35,
          "extractor": "RegexEntityExtractor"}], reader)
    assert promoted is None


def _os_entities(text: str, *names: tuple[str, str]) -> list[dict[str, Any]]:
    """The regex extractor's os_mix entities for the words `names` in `text`."""
    return [{"entity": "os_mix", "value": value, "start": text.index(word),
             "end": text.index(word) + len(word), "extractor": "RegexEntityExtractor"}
            for word, value in names]


def test_a_short_statement_naming_systems_is_an_answer(reader: AnswerReader) -> None:
    # It sounds like the OS-support topic, but names the visitor's own systems.
    text = "windows server 2019 and some linux"
    _, _, promoted = read_message(
        text, {"name": "ask_os_support", "confidence": 0.61},
        _os_entities(text, ("windows", "windows_only"), ("linux", "linux_only")), reader)
    assert promoted == "inform"


def test_a_statement_about_containers_on_a_system_keeps_its_topic(reader: AnswerReader
                                                                  ) -> None:
    text = "windows containers on linux hosts"
    _, _, promoted = read_message(
        text, {"name": "ask_os_support", "confidence": 0.92},
        _os_entities(text, ("windows", "windows_only"), ("linux", "linux_only")), reader)
    assert promoted is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Too short to be entities, clear enough to say which answer they change.
        ("no databases", ("stateful", False)),
        ("minutes r fine", ("startup", "minutes")),
        ("its stateless", ("stateful", False)),
        ("seconds", ("startup", "seconds")),
        # Not corrections: no field, or no clear one.
        ("thanks!", None),
        ("cool, makes sense", None),
        ("what about cost?", None),
        ("hmm not sure", None),
        ("isolation isn't a big deal", None),
    ],
)
def test_a_short_reply_after_the_recommendation_corrects_only_a_clear_field(
    reader: AnswerReader, text: str, expected: tuple[str, Any] | None
) -> None:
    _, candidates, _ = read_message(text, {"name": "inform", "confidence": 0.9}, [], reader)
    assert correction_from_candidates(candidates, FIELD_ORDER) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The request names the choice and "our app": nothing about the workload.
        ("help me pick vms vs containers for our app", {}),
        ("help with choosing for our web shop", {}),
        # What follows a request, or a quantity said in it, still describes it.
        ("help me choose, we run 200 linux microservices and customers upload code",
         {"density": "high", "isolation": "untrusted"}),
        ("recommend: lots of small services, all our own code",
         {"density": "high", "isolation": "medium"}),
    ],
)
def test_a_request_for_advice_is_not_read_as_a_description(
    reader: AnswerReader, text: str, expected: dict[str, Any]
) -> None:
    entities, _, _ = read_message(text, {"name": "ask_use_case_recommendation",
                                         "confidence": 0.9}, [], reader)
    read = {e["entity"]: e["value"] for e in entities if e["entity"] in reader.fields}
    assert read == expected
