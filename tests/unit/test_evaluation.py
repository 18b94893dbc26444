import json
from pathlib import Path

from bot.cli import main
from bot.evaluation import read_intent_report

REPORT = {
    "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 3},
    "ask_cost": {"precision": 0.5, "recall": 1.0, "f1-score": 0.667, "support": 1},
    "accuracy": 0.75,
    "macro avg": {"precision": 0.75, "recall": 1.0, "f1-score": 0.8335, "support": 4},
    "weighted avg": {"precision": 0.875, "recall": 1.0, "f1-score": 0.917, "support": 4},
}


def test_reads_accuracy_macro_f1_and_weakest_intents(tmp_path: Path) -> None:
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps(REPORT))
    scores = read_intent_report(path)
    assert scores.accuracy == 0.75
    assert scores.macro_f1 == 0.8335
    assert scores.support == 4
    assert scores.worst[0] == ("ask_cost", 0.667)


def test_cli_fails_below_the_threshold(tmp_path: Path) -> None:
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps(REPORT))
    assert main(["nlu-report", str(path), "--min-accuracy", "0.7"]) == 0
    assert main(["nlu-report", str(path), "--min-accuracy", "0.8"]) == 1
