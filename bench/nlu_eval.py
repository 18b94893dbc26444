"""How well a trained model understands real questions: topics and specific answers.

    python -m bench.nlu_eval [--model models/x.tar.gz] [--set NAME=PATH ...] [--misses]

Reads labelled questions from Rasa NLU files (`- intent: ask_cost` blocks, as the shared
dev set and `tests/nlu/heldout.yml`) or from our gathered-questions format
(`tests/nlu/real_questions.yml`: text, intent, answer, source), parses each with the model
in this process, and prints per set:
- intent accuracy and macro-F1, and per-intent precision, recall and F1;
- for questions labelled with a specific answer: top 1 (the answer the visitor would
  get: the selector's choice within the predicted topic) and top 2 (the two likeliest
  answers over all topics, which the fallback offers as buttons).

None of these sets may be training data; `tests/unit/test_training_data.py` checks that
no training example repeats one of their questions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETS = {
    "shared-dev": PROJECT_ROOT.parent / "shared" / "data" / "real_questions_dev.yml",
    "gathered": PROJECT_ROOT / "tests" / "nlu" / "real_questions.yml",
    "heldout": PROJECT_ROOT / "tests" / "nlu" / "heldout.yml",
}


@dataclass(frozen=True)
class LabelledQuestion:
    text: str
    intent: str
    answer: str | None = None  # a specific answer key, e.g. ask_cost/esxi_free
    also: str | None = None  # a second intent an expert would also accept


def load_questions(path: Path) -> list[LabelledQuestion]:
    """Questions from a Rasa NLU file or from the gathered-questions format."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "questions" in document:
        return [LabelledQuestion(str(q["text"]).strip(), str(q["intent"]),
                                 q.get("answer") or None, q.get("also") or None)
                for q in document["questions"]]
    questions = []
    for block in document.get("nlu") or []:
        if "intent" not in block:
            continue
        intent, _, answer = str(block["intent"]).partition("/")
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                questions.append(LabelledQuestion(line[2:].strip(), intent,
                                                  f"{intent}/{answer}" if answer else None))
    return questions


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    fallback: bool  # below the fallback threshold: the visitor gets choices
    answer: str | None  # the answer the visitor gets
    top_answers: tuple[str, ...]  # the likeliest answers over all topics


def prediction_from_parse(parse: dict[str, Any]) -> Prediction:
    intent = parse.get("intent") or {}
    name = str(intent.get("name"))
    selector = parse.get("response_selector") or {}
    given = ((selector.get(name) or {}).get("response") or {}).get("intent_response_key")
    ranking = (selector.get("default") or {}).get("ranking") or []
    # Below the fallback threshold the visitor gets choices, not an answer: the topic the
    # fallback replaced is what the classifier meant, and counts as its guess.
    fallback = name == "nlu_fallback"
    if fallback:
        ranked = [r for r in parse.get("intent_ranking") or [] if r.get("name") != name]
        if ranked:
            name = str(ranked[0]["name"])
            given = ((selector.get(name) or {}).get("response") or {}).get(
                "intent_response_key")
    return Prediction(name, float(intent.get("confidence") or 0.0), fallback, given,
                      tuple(str(r["intent_response_key"]) for r in ranking[:2]))


@dataclass
class SetReport:
    name: str
    total: int = 0
    correct: int = 0
    correct_lenient: int = 0
    fallbacks: int = 0
    with_answer: int = 0
    answer_top1: int = 0
    answer_top2: int = 0
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (gold, predicted)
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def per_intent(self) -> dict[str, tuple[float, float, float, int]]:
        gold_counts = Counter(g for g, _ in self.pairs)
        predicted_counts = Counter(p for _, p in self.pairs)
        hits = Counter(g for g, p in self.pairs if g == p)
        scores = {}
        for intent in sorted(gold_counts):
            precision = hits[intent] / predicted_counts[intent] if predicted_counts[intent] else 0.0
            recall = hits[intent] / gold_counts[intent]
            f1 = (2 * precision * recall / (precision + recall)) if precision + recall else 0.0
            scores[intent] = (precision, recall, f1, gold_counts[intent])
        return scores

    def macro_f1(self) -> float:
        scores = self.per_intent()
        return sum(s[2] for s in scores.values()) / len(scores) if scores else 0.0


def score(name: str, questions: Sequence[LabelledQuestion],
          predictions: Sequence[Prediction]) -> SetReport:
    report = SetReport(name)
    for question, predicted in zip(questions, predictions, strict=True):
        report.total += 1
        report.pairs.append((question.intent, predicted.intent))
        hit = predicted.intent == question.intent
        report.correct += hit
        report.correct_lenient += hit or predicted.intent == question.also
        report.fallbacks += predicted.fallback
        if not hit:
            report.misses.append(f"{question.intent} -> {predicted.intent}: {question.text[:100]}")
        if question.answer:
            report.with_answer += 1
            report.answer_top1 += predicted.answer == question.answer
            report.answer_top2 += question.answer in predicted.top_answers
            if predicted.answer != question.answer and hit:
                report.misses.append(
                    f"  answer {question.answer} -> {predicted.answer}: {question.text[:90]}")
    return report


def print_report(report: SetReport, show_misses: bool) -> None:
    print(f"\n== {report.name}: {report.total} questions")
    print(f"intent accuracy {report.accuracy:.3f} ({report.correct}/{report.total}), "
          f"macro-F1 {report.macro_f1():.3f}, accepting a second label "
          f"{report.correct_lenient / max(report.total, 1):.3f}, "
          f"below the fallback threshold {report.fallbacks}")
    if report.with_answer:
        print(f"specific answer: top 1 {report.answer_top1 / report.with_answer:.3f} "
              f"({report.answer_top1}/{report.with_answer}), top 2 "
              f"{report.answer_top2 / report.with_answer:.3f} "
              f"({report.answer_top2}/{report.with_answer})")
    print(f"{'intent':34s} {'prec':>5s} {'rec':>5s} {'f1':>5s} {'n':>4s}")
    for intent, (precision, recall, f1, support) in report.per_intent().items():
        print(f"{intent:34s} {precision:5.2f} {recall:5.2f} {f1:5.2f} {support:4d}")
    if show_misses:
        print("misses:")
        for line in report.misses:
            print("  " + line)


def latest_model() -> Path:
    models = sorted((PROJECT_ROOT / "models").glob("config-*.tar.gz"),
                    key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit("no trained model in models/: run `make train` first")
    return models[-1]


async def predict_sets(model: Path, sets: dict[str, list[str]]) -> dict[str, list[Prediction]]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    predictions: dict[str, list[Prediction]] = {}
    for name, texts in sets.items():
        predictions[name] = [prediction_from_parse(await agent.parse_message(text))
                             for text in texts]
    return predictions


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a trained model (default: the newest)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=PATH",
                        help="a labelled set (default: shared-dev, gathered, heldout)")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--min-accuracy", action="append", default=[], metavar="NAME=X",
                        help="exit with 1 when a set's intent accuracy is below X")
    args = parser.parse_args(argv)
    sets = dict(item.split("=", 1) for item in args.set) if args.set else {
        name: str(path) for name, path in DEFAULT_SETS.items() if path.exists()}
    model = args.model or latest_model()
    print(f"model {model}")
    figures, failed = {}, False
    floors = {name: float(x) for name, x in (item.split("=", 1) for item in args.min_accuracy)}
    questions = {name: load_questions(Path(path)) for name, path in sets.items()}
    predictions = asyncio.run(predict_sets(
        model, {name: [q.text for q in labelled] for name, labelled in questions.items()}))
    for name in sets:
        report = score(name, questions[name], predictions[name])
        print_report(report, args.misses)
        figures[name] = {"accuracy": report.accuracy, "macro_f1": report.macro_f1(),
                         "total": report.total, "answer_top1": report.answer_top1,
                         "answer_top2": report.answer_top2, "with_answer": report.with_answer}
        if name in floors and report.accuracy < floors[name]:
            print(f"FAIL: {name} intent accuracy {report.accuracy:.3f} < {floors[name]}")
            failed = True
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
