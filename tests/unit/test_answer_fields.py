"""Free-text workload answers read by meaning (bot/nlu/answer_fields.py).

Uses the real sentence encoder (a pinned package, hash-checked) and the real option
descriptions, so a change to either that misreads these answers fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.advisor.answers import answer_from_candidates
from bot.nlu.answer_fields import (
    AnswerReader,
    clauses,
    density_from_words,
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
    assert density_from_words(text) == expected
