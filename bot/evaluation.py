"""Reads Rasa's NLU evaluation reports and turns them into a verdict.

`rasa test nlu` writes `intent_report.json` (scikit-learn's classification report) but
never fails; the test command uses `python -m bot nlu-report` to fail below a threshold.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Entries of scikit-learn's report that are averages, not intents.
_AGGREGATE_KEYS = frozenset({"accuracy", "macro avg", "weighted avg", "micro avg"})


@dataclass(frozen=True)
class IntentScores:
    accuracy: float
    macro_f1: float
    support: int
    worst: tuple[tuple[str, float], ...]  # (intent, f1), lowest first


def read_intent_report(path: Path) -> IntentScores:
    """Summarise an `intent_report.json` written by `rasa test nlu`."""
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    per_intent = {k: v for k, v in report.items() if k not in _AGGREGATE_KEYS}
    worst = sorted(((name, float(v["f1-score"])) for name, v in per_intent.items()),
                   key=lambda item: item[1])
    return IntentScores(
        accuracy=float(report["accuracy"]),
        macro_f1=float(report["macro avg"]["f1-score"]),
        support=int(report["macro avg"]["support"]),
        worst=tuple(worst[:5]),
    )


def _run(args: argparse.Namespace) -> int:
    scores = read_intent_report(Path(args.report))
    print(f"intent accuracy {scores.accuracy:.3f}, macro-F1 {scores.macro_f1:.3f} "
          f"on {scores.support} examples")
    print("weakest intents: " + ", ".join(f"{n} {f:.2f}" for n, f in scores.worst))
    if scores.accuracy < args.min_accuracy:
        print(f"FAIL: accuracy below {args.min_accuracy}")
        return 1
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("nlu-report", help="summarise a rasa test nlu report")
    parser.add_argument("report", help="path to intent_report.json")
    parser.add_argument("--min-accuracy", type=float, default=0.0,
                        help="exit with 1 when the accuracy is below this")
    parser.set_defaults(func=_run)
