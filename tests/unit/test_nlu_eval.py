"""The understanding report: how questions are read, scored and counted."""

from pathlib import Path
from typing import Any

from bench.nlu_eval import (
    LabelledQuestion,
    load_questions,
    prediction_from_parse,
    score,
)


def test_reads_rasa_nlu_files_and_the_gathered_format(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text('nlu:\n- intent: ask_cost/esxi_free\n  examples: |\n    - is esxi free?\n'
                   '- intent: greet\n  examples: |\n    - hi\n')
    gathered = tmp_path / "gathered.yml"
    gathered.write_text("questions:\n- text: why so big?\n  intent: ask_container_definition\n"
                        "  answer: ask_container_definition/image_size\n  also: ask_cost\n"
                        "  source: https://example.org/q/1\n")
    assert load_questions(nlu) == [
        LabelledQuestion("is esxi free?", "ask_cost", "ask_cost/esxi_free"),
        LabelledQuestion("hi", "greet")]
    assert load_questions(gathered) == [LabelledQuestion(
        "why so big?", "ask_container_definition", "ask_container_definition/image_size",
        "ask_cost")]


def _parse(intent: str, chosen: str | None, ranking: list[str],
           intent_ranking: list[str] | None = None) -> dict[str, Any]:
    selector: dict[str, Any] = {
        "default": {"ranking": [{"intent_response_key": k} for k in ranking]}}
    if chosen:
        selector[chosen.split("/")[0]] = {"response": {"intent_response_key": chosen}}
    return {"intent": {"name": intent, "confidence": 0.9}, "response_selector": selector,
            "intent_ranking": [{"name": n} for n in intent_ranking or [intent]]}


def test_a_fallback_counts_the_classifiers_guess_and_is_counted() -> None:
    parse = _parse("nlu_fallback", "ask_cost/esxi_free", ["ask_cost/esxi_free"],
                   ["nlu_fallback", "ask_cost"])
    predicted = prediction_from_parse(parse)
    assert predicted.fallback and predicted.intent == "ask_cost"
    assert predicted.answer == "ask_cost/esxi_free"


def test_scores_topics_answers_top_two_and_second_labels() -> None:
    questions = [LabelledQuestion("a", "ask_cost", "ask_cost/esxi_free"),
                 LabelledQuestion("b", "ask_cost", "ask_cost/vmware_broadcom", "ask_portability"),
                 LabelledQuestion("c", "ask_portability")]
    predictions = [
        prediction_from_parse(_parse("ask_cost", "ask_cost/esxi_free", ["ask_cost/esxi_free"])),
        prediction_from_parse(_parse("ask_portability", None,
                                     ["ask_portability/vm_migration",
                                      "ask_cost/vmware_broadcom"])),
        prediction_from_parse(_parse("ask_cost", "ask_cost/general", ["ask_cost/general"])),
    ]
    report = score("set", questions, predictions)
    assert (report.correct, report.correct_lenient, report.total) == (1, 2, 3)
    assert (report.answer_top1, report.answer_top2, report.with_answer) == (1, 2, 2)
    assert report.per_intent()["ask_cost"] == (0.5, 0.5, 0.5, 2)
