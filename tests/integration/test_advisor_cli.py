"""The `python -m bot recommend` contract, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _run(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "recommend", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )


def test_json_in_json_out() -> None:
    result = _run('{"isolation":"untrusted","density":"high","startup":"subsecond"}', "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "hybrid"
    assert data["hybrid_kind"] == "microvms"
    assert 0 < data["confidence"] < 1
    assert data["reasons"] and data["offering"]["name"]
    assert data["alternative"]["verdict"] in ("vm", "container", "hybrid")
    assert any(f["fact"] == "isolation" and f["contribution"] > 0 for f in data["factors"])
    # Added with engine v2: both pulls, what makes them up, and why the verdict is here.
    assert data["pull"]["vm"] > 0 and data["pull"]["container"] > 0
    assert data["sides"]["vm"] and data["sides"]["container"] and data["balance"]


def test_the_documented_example() -> None:
    result = _run('{"isolation":"untrusted","density":"high"}', "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] in ("vm", "hybrid")


def test_readable_report_without_json() -> None:
    result = _run('{"os_mix":"windows_and_linux"}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Recommendation: ")
    assert "Why:" in result.stdout and "Suggested offering:" in result.stdout


def test_empty_input_is_an_all_unknown_profile() -> None:
    result = _run("", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # Every fact is assumed: the eleven of v1 plus the five factors added in v2.
    assert len(data["assumed"]) == 16
    assert {"traffic", "privileged", "os_patching", "licences", "work_pattern"} <= set(
        data["assumed"]
    )


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        ("{not json", "not valid JSON"),
        (
            '{"isolation":"extreme"}',
            "isolation: 'extreme' is not allowed; allowed: low, medium, high, untrusted",
        ),
        ('{"colour":"blue"}', "colour: unknown field"),
        ('{"gpu":"yes"}', "gpu: 'yes' is not a boolean; allowed: true, false"),
        ('["isolation"]', "must be a JSON object"),
    ],
)
def test_bad_input_exits_2_and_names_the_problem(stdin: str, expected: str) -> None:
    result = _run(stdin, "--json")
    assert result.returncode == 2
    assert expected in result.stderr
    assert result.stdout == ""


def test_a_broken_rules_file_exits_1(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("version: 2\ndecision: {}\n", encoding="utf-8")
    result = _run("{}", "--json", "--rules", str(rules))
    assert result.returncode == 1
    assert "decision.strong_pull_at" in result.stderr


def test_new_factors_are_read_from_json() -> None:
    result = _run(
        '{"os_mix":"linux_only","traffic":"scale_to_zero","work_pattern":"event_driven"}',
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "container"
    assert data["profile"]["traffic"] == "scale_to_zero"
    bad = _run('{"traffic":"spiky"}', "--json")
    assert bad.returncode == 2
    assert "traffic: 'spiky' is not allowed; allowed: steady, bursty, scale_to_zero" in bad.stderr
