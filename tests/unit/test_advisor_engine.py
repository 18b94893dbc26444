"""The engine against expert verdicts: the dev scenarios and a table from the criteria."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.advisor.engine import possible_outcomes, recommend
from bot.advisor.profile import ProfileError, WorkloadProfile, parse_profile
from bot.advisor.report import chat_fields, format_report, scorecard
from bot.advisor.rules import Rules, load_rules

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The expert scenarios live beside the project (a development set, never copied in).
SCENARIOS_PATH = Path(
    os.environ.get(
        "ADVISOR_SCENARIOS", PROJECT_ROOT / ".." / "shared" / "data" / "advisor_scenarios_dev.json"
    )
)


def _scenarios() -> list[dict[str, Any]]:
    assert SCENARIOS_PATH.is_file(), f"dev scenarios not found at {SCENARIOS_PATH}"
    scenarios: list[dict[str, Any]] = json.loads(SCENARIOS_PATH.read_text(encoding="utf-8"))
    return scenarios


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda s: str(s["id"]))
def test_dev_scenario_gets_an_accepted_verdict(scenario: dict[str, Any], rules: Rules) -> None:
    rec = recommend(parse_profile(scenario["profile"]), rules)
    assert rec.verdict in scenario["accept"], (rec.verdict, rec.reasons)


# Derived from the criteria table (shared/reference/decision-criteria.md): each row's
# direction, plus the combinations the experts single out. (profile, accepted verdicts,
# expected hybrid kind or None when any/none.)
CRITERIA_TABLE: list[tuple[str, dict[str, Any], set[str], str | None]] = [
    ("untrusted code alone", {"isolation": "untrusted"}, {"vm"}, None),
    (
        "untrusted, dense, sub-second start",
        {
            "isolation": "untrusted",
            "os_mix": "linux_only",
            "density": "high",
            "startup": "subsecond",
        },
        {"hybrid"},
        "microvms",
    ),
    (
        "untrusted, dense, seconds",
        {"isolation": "untrusted", "density": "high", "startup": "seconds"},
        {"hybrid", "vm"},
        None,
    ),
    (
        "untrusted, dense, strong team",
        {"isolation": "untrusted", "density": "high", "team_containers": "strong"},
        {"vm", "hybrid"},
        None,
    ),
    (
        "untrusted on Windows",
        {
            "isolation": "untrusted",
            "os_mix": "windows_only",
            "density": "high",
            "startup": "subsecond",
        },
        {"vm"},
        None,
    ),
    (
        "CI on external pull requests",
        {"isolation": "untrusted", "density": "medium", "startup": "seconds"},
        {"vm", "hybrid"},
        None,
    ),
    ("PCI card data", {"compliance": ["pci"]}, {"vm"}, None),
    (
        "HIPAA, dense, strong team",
        {"compliance": ["HIPAA"], "density": "high", "team_containers": "strong"},
        {"vm", "hybrid"},
        None,
    ),
    (
        "GDPR only is no platform constraint",
        {"compliance": ["gdpr"], "density": "high"},
        {"container"},
        None,
    ),
    ("Windows and Linux", {"os_mix": "windows_and_linux"}, {"vm", "hybrid"}, None),
    (
        "Windows and Linux, cloud-native Linux side",
        {"os_mix": "windows_and_linux", "density": "high", "team_containers": "strong"},
        {"vm", "hybrid"},
        None,
    ),
    ("BSD appliance", {"os_mix": "other_kernel"}, {"vm"}, None),
    (
        "BSD even when dense",
        {
            "os_mix": "other_kernel",
            "density": "high",
            "team_containers": "strong",
            "startup": "subsecond",
        },
        {"vm", "hybrid"},
        None,
    ),
    ("kernel modules", {"kernel_custom": True}, {"vm"}, None),
    ("Windows-only estate", {"os_mix": "windows_only"}, {"vm"}, None),
    ("legacy lift-and-shift", {"legacy": True}, {"vm"}, None),
    (
        "legacy beside many services",
        {"legacy": True, "density": "high", "team_containers": "strong", "workload_count": 60},
        {"hybrid", "vm"},
        None,
    ),
    ("production database", {"stateful": True, "density": "low"}, {"vm"}, None),
    (
        "many small services, skilled team",
        {
            "os_mix": "linux_only",
            "density": "high",
            "team_containers": "strong",
            "workload_count": 80,
        },
        {"container"},
        None,
    ),
    (
        "bursty, scale to zero",
        {"os_mix": "linux_only", "startup": "subsecond"},
        {"container"},
        None,
    ),
    (
        "CUDA inference in containers",
        {"gpu": True, "team_containers": "strong"},
        {"container"},
        None,
    ),
    (
        "containerisable, no container experience",
        {"density": "high", "team_containers": "none"},
        {"hybrid"},
        "containers_on_vms",
    ),
    (
        "small estate, no container experience",
        {"team_containers": "none", "workload_count": 2},
        {"vm"},
        None,
    ),
    (
        "strong separation, dense",
        {"isolation": "high", "density": "high"},
        {"hybrid"},
        "sandboxed_containers",
    ),
    (
        "low-risk Linux with some skills",
        {"isolation": "low", "os_mix": "linux_only", "team_containers": "some"},
        {"container"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("profile", "accepted", "kind"),
    [case[1:] for case in CRITERIA_TABLE],
    ids=[case[0] for case in CRITERIA_TABLE],
)
def test_criteria_table(
    profile: dict[str, Any], accepted: set[str], kind: str | None, rules: Rules
) -> None:
    rec = recommend(parse_profile(profile), rules)
    assert rec.verdict in accepted, (rec.verdict, rec.hybrid_kind, rec.score)
    if kind is not None:
        assert rec.hybrid_kind == kind


def test_a_recommendation_is_explained(rules: Rules) -> None:
    rec = recommend(
        parse_profile({"isolation": "untrusted", "density": "high", "startup": "subsecond"}), rules
    )
    assert (rec.verdict, rec.hybrid_kind) == ("hybrid", "microvms")
    assert 0 < rec.confidence < 1
    assert 1 <= len(rec.reasons) <= 3
    assert "Micro-VMs" in rec.reasons[0]
    by_fact = {f.fact: f for f in rec.factors}
    assert by_fact["isolation"].points > 0 > by_fact["density"].points
    assert by_fact["team_containers"].assumed and not by_fact["isolation"].assumed
    assert rec.score == pytest.approx(sum(f.points for f in rec.factors))
    assert "container" in rec.ruled_out
    assert rec.offering.name == rules.outcomes["microvms"].offering
    assert rec.alternative is not None
    assert (rec.alternative.verdict, rec.alternative.hybrid_kind) != ("hybrid", "microvms")
    assert rec.alternative.when


def test_the_alternative_names_what_would_change_the_outcome(rules: Rules) -> None:
    rec = recommend(parse_profile({"isolation": "untrusted", "density": "high"}), rules)
    assert rec.verdict == "vm"
    assert rec.alternative is not None
    changed = rec.profile.replace(
        **{rules_fact: _as_field(value) for rules_fact, value in rec.alternative.changes[:1]}
    )
    again = recommend(changed, rules)
    assert (again.verdict, again.hybrid_kind) == (
        rec.alternative.verdict,
        rec.alternative.hybrid_kind,
    )


def _as_field(value: str) -> Any:
    return {"true": True, "false": False}.get(value, value)


def test_confidence_drops_when_answers_are_assumed(rules: Rules) -> None:
    full = {
        "isolation": "medium",
        "os_mix": "linux_only",
        "density": "high",
        "startup": "seconds",
        "stateful": False,
        "legacy": False,
        "team_containers": "some",
    }
    sparse = {"density": "high", "startup": "seconds"}
    assert recommend(parse_profile(full), rules).verdict == "container"
    assert recommend(parse_profile(sparse), rules).verdict == "container"
    assert (
        recommend(parse_profile(full), rules).confidence
        > recommend(parse_profile(sparse), rules).confidence
    )


def test_compliance_aliases_are_understood(rules: Rules) -> None:
    rec = recommend(parse_profile({"compliance": ["PCI-DSS"]}), rules)
    assert {f.fact: f.value for f in rec.factors}["compliance"] == "regulated"


def test_json_contract_keys(rules: Rules) -> None:
    data = recommend(parse_profile({"isolation": "untrusted"}), rules).to_dict()
    for key in (
        "verdict",
        "hybrid_kind",
        "confidence",
        "factors",
        "reasons",
        "alternative",
        "offering",
    ):
        assert key in data
    assert json.loads(json.dumps(data)) == data
    assert {"fact", "value", "contribution", "assumed"} <= set(data["factors"][0])


def test_reports(rules: Rules) -> None:
    rec = recommend(parse_profile({"os_mix": "windows_and_linux", "startup": None}), rules)
    text = format_report(rec)
    assert text.startswith("Recommendation: Virtual machines")
    assert "(assumed)" in text and "+4.0" in text
    fields = chat_fields(rec, not_sure={"startup"})
    assert "instances can take minutes to start" in fields["notes"]
    assert fields["reasons"].startswith("- ")
    card = scorecard(rec)
    assert card["verdict"] == "vm" and "profile" not in card
    assert all(f["contribution"] != 0 or not f["assumed"] for f in card["factors"])


def test_possible_outcomes_settles_when_nothing_can_change(rules: Rules) -> None:
    bsd = WorkloadProfile(os_mix="other_kernel", density="low")
    assert possible_outcomes(bsd, ["startup", "team_containers"], rules) == {"vm"}
    open_linux = WorkloadProfile(os_mix="linux_only")
    reachable = possible_outcomes(open_linux, ["isolation", "density", "startup"], rules)
    assert reachable is not None and {"vm", "container"} <= reachable


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"isolation": "extreme"}, "isolation"),
        ({"os_mix": "mac"}, "os_mix"),
        ({"gpu": "yes"}, "gpu"),
        ({"workload_count": -1}, "workload_count"),
        ({"workload_count": True}, "workload_count"),
        ({"compliance": "pci"}, "compliance"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_profiles_name_the_field_and_allowed_values(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(data)
    assert caught.value.field == field
    assert "allowed" in str(caught.value)
