"""Agreement with experts on real workloads (a measuring table, not a tuning target).

Two development sets: the workloads gathered from public threads
(`real_workloads.yml`, each with its address) and the six shared dev scenarios. Every
case must get a verdict its thread accepts; exact agreement is reported and held to a
floor so that a change of weights that loses agreement is noticed. A failing exact
match is never fixed by tuning a weight to that case.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.advisor.engine import recommend
from bot.advisor.profile import parse_profile
from bot.advisor.rules import HYBRID_KINDS, Rules, load_rules

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
GATHERED_PATH = HERE / "real_workloads.yml"
SHARED_PATH = Path(
    os.environ.get(
        "ADVISOR_SCENARIOS", PROJECT_ROOT / ".." / "shared" / "data" / "advisor_scenarios_dev.json"
    )
)
VERDICTS = {"vm", "container", "hybrid"}
# Floors for exact agreement: the figures reached when the set was gathered (see the
# report in the issue); raise them when the engine improves, never lower them quietly.
GATHERED_EXACT_AT_LEAST = 0.88
SHARED_EXACT_AT_LEAST = 5
MAX_SECONDS_PER_RECOMMENDATION = 0.001
SHAPES_AT_LEAST = 0.75
# Cases whose verdict falls outside what the thread accepts, with the reason. Listed so
# that the gap stays visible (strict: the mark fails once the engine agrees).
KNOWN_DISAGREEMENTS = {
    "replatform-windows-apps-in-containers": (
        "the profile has no field for 'legacy but containerisable': a Windows-only estate "
        "with nothing else pulling toward containers gets VMs, which this author rejects "
        "(the other legacy-Windows thread agrees with the engine)"
    ),
}


def _gathered() -> list[dict[str, Any]]:
    data = yaml.safe_load(GATHERED_PATH.read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = data["workloads"]
    return cases


def _shared() -> list[dict[str, Any]]:
    assert SHARED_PATH.is_file(), f"dev scenarios not found at {SHARED_PATH}"
    cases: list[dict[str, Any]] = json.loads(SHARED_PATH.read_text(encoding="utf-8"))
    return cases


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


def test_the_gathered_set_is_well_formed() -> None:
    cases = _gathered()
    assert len(cases) >= 40
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for case in cases:
        assert str(case["url"]).startswith(("https://", "http://")), case["id"]
        assert case["summary"].strip(), case["id"]
        assert case["expert"] in VERDICTS and case["expert"] in case["accept"], case["id"]
        assert set(case["accept"]) <= VERDICTS, case["id"]
        if "shape" in case:
            assert case["expert"] == "hybrid" and case["shape"] in HYBRID_KINDS, case["id"]
        parse_profile(case["profile"])  # every field and value is one the advisor knows


def _agreement(cases: list[dict[str, Any]], rules: Rules) -> Iterator[tuple[dict[str, Any], str]]:
    for case in cases:
        yield case, recommend(parse_profile(case["profile"]), rules).verdict


def _with_known_disagreements(cases: list[dict[str, Any]]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=str(case["id"]),
            marks=pytest.mark.xfail(strict=True, reason=KNOWN_DISAGREEMENTS[case["id"]]),
        )
        if case["id"] in KNOWN_DISAGREEMENTS
        else pytest.param(case, id=str(case["id"]))
        for case in cases
    ]


@pytest.mark.parametrize("case", _with_known_disagreements(_gathered()))
def test_gathered_workload_gets_an_accepted_verdict(case: dict[str, Any], rules: Rules) -> None:
    rec = recommend(parse_profile(case["profile"]), rules)
    assert rec.verdict in case["accept"], (rec.outcome, rec.balance, case["summary"])


@pytest.mark.parametrize("case", _shared(), ids=lambda c: str(c["id"]))
def test_shared_scenario_gets_an_accepted_verdict(case: dict[str, Any], rules: Rules) -> None:
    rec = recommend(parse_profile(case["profile"]), rules)
    assert rec.verdict in case["accept"], (rec.outcome, rec.balance)


def _report(name: str, cases: list[dict[str, Any]], rules: Rules) -> tuple[int, int]:
    exact = within = 0
    lines = []
    for case, verdict in _agreement(cases, rules):
        exact += verdict == case["expert"]
        within += verdict in case["accept"]
        if verdict != case["expert"]:
            lines.append(f"  {case['id']}: advisor {verdict}, expert {case['expert']}")
    print(f"\n{name}: exact {exact}/{len(cases)}, within accepted {within}/{len(cases)}")
    print("\n".join(lines))
    return exact, within


def test_agreement_on_the_gathered_set(rules: Rules) -> None:
    cases = _gathered()
    exact, within = _report("gathered", cases, rules)
    assert within >= len(cases) - len(KNOWN_DISAGREEMENTS)
    assert exact / len(cases) >= GATHERED_EXACT_AT_LEAST


def test_agreement_on_the_shared_scenarios(rules: Rules) -> None:
    cases = _shared()
    exact, within = _report("shared", cases, rules)
    assert within == len(cases)
    assert exact >= SHARED_EXACT_AT_LEAST


def test_hybrid_shapes_match_where_the_thread_names_one(rules: Rules) -> None:
    named = [c for c in _gathered() if "shape" in c]
    same = sum(
        recommend(parse_profile(c["profile"]), rules).hybrid_kind == c["shape"] for c in named
    )
    print(f"\nhybrid shapes: {same}/{len(named)} as the thread named them")
    assert same >= len(named) * SHAPES_AT_LEAST


def test_a_recommendation_takes_under_a_millisecond(rules: Rules) -> None:
    profiles = [parse_profile(c["profile"]) for c in _gathered()]
    recommend(profiles[0], rules)  # warm-up
    # The best of several rounds: other processes on a busy machine only ever add time.
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        for profile in profiles:
            recommend(profile, rules)
        timings.append((time.perf_counter() - started) / len(profiles))
    per_call = min(timings)
    print(f"\n{per_call * 1e6:.0f} µs per recommendation")
    assert per_call < MAX_SECONDS_PER_RECOMMENDATION
