"""A broken rules file is refused with an error that says where the problem is."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.advisor.rules import DEFAULT_RULES_PATH, RulesError, load_rules, parse_rules

GOOD: dict[str, Any] = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))


def _broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    change(data)
    return data


def test_the_packaged_rules_load() -> None:
    rules = load_rules()
    assert rules.decision.overwhelming_lead >= rules.decision.clear_lead
    assert rules.factors["isolation"]["untrusted"].vm > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("decision"), "decision: must be a mapping"),
        (
            lambda d: d["factors"]["isolation"]["high"].update(vm="lots"),
            "factors.isolation.high.vm: must be a number",
        ),
        (
            lambda d: d["factors"]["density"]["high"].update(container=-2),
            "factors.density.high.container: must be 0 or more",
        ),
        (
            lambda d: d["factors"]["density"]["high"].update(points=-2),
            "factors.density.high.points: unknown",
        ),
        (
            lambda d: d["factors"]["traffic"]["bursty"].pop("why"),
            "factors.traffic.bursty.why: needed when a pull is not 0",
        ),
        (
            lambda d: d["balance"].update(both_strong="VMs {vms}"),
            "balance.both_strong: unknown placeholder {vms}",
        ),
        (lambda d: d["balance"].pop("vm_ahead"), "balance.vm_ahead: missing"),
        (lambda d: d["factors"]["density"].pop("high"), "factors.density.high: missing"),
        (lambda d: d["factors"].update(colour={}), "factors.colour: unknown"),
        (
            lambda d: d["factors"]["isolation"]["untrusted"].update(vm=0, container=3),
            "more isolation must never favour containers",
        ),
        (
            lambda d: d["defaults"].update(startup="hours"),
            "defaults.startup: 'hours' is not allowed; allowed: minutes, seconds, subsecond",
        ),
        (lambda d: d["constraints"][0].update(rules_out=["vm"]), "vm cannot be ruled out"),
        (
            lambda d: d["constraints"][0]["when"].update(isolation=["paranoid"]),
            "constraints[0].when.isolation: 'paranoid' is not allowed",
        ),
        (
            lambda d: d["hybrid_kinds"][0].update(kind="unikernels"),
            "hybrid_kinds[0].kind: 'unikernels' is not allowed",
        ),
        (lambda d: d["outcomes"].pop("split"), "outcomes.split: missing"),
        (
            lambda d: d["decision"].update(overwhelming_lead=0.5),
            "overwhelming_lead must not be lower than clear_lead",
        ),
        (
            lambda d: d["decision"].update(strong_pull_at=0),
            "decision.strong_pull_at: must be greater than 0",
        ),
        (
            lambda d: d["confidence"].update(highest=1.5),
            "confidence.highest: must be between 0 and 1",
        ),
        (lambda d: d.update(version=1), "version: must be 2"),
        (
            lambda d: d["alternatives"]["prefer_changes_to"].pop(),
            "alternatives.prefer_changes_to: must list each fact once",
        ),
    ],
)
def test_mistakes_are_reported_with_their_place(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(_broken(change))
    assert message in str(caught.value)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("decision: [unclosed\n", encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert str(path) in str(caught.value) and "not valid YAML" in str(caught.value)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the advisor rules"):
        load_rules(tmp_path / "absent.yml")


def test_an_edited_file_changes_the_decision(tmp_path: Path) -> None:
    from bot.advisor.engine import recommend
    from bot.advisor.profile import WorkloadProfile

    edited = _broken(lambda d: d["factors"]["stateful"]["true"].update(vm=0))
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(edited), encoding="utf-8")
    profile = WorkloadProfile(stateful=True, density="low")
    assert recommend(profile, load_rules()).verdict == "vm"
    assert recommend(profile, load_rules(path)).verdict != "vm"
