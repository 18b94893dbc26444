"""The engine against expert verdicts: the dev scenarios and a table from the criteria."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.advisor.engine import possible_outcomes, questions_that_could_change, recommend
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
    assert rec.pull_vm == pytest.approx(sum(f.toward_vm for f in rec.factors))
    assert rec.pull_container == pytest.approx(sum(f.toward_container for f in rec.factors))
    assert rec.score == pytest.approx(sum(f.points for f in rec.factors))
    # Both sides are strong, and the explanation says so.
    assert min(rec.pull_vm, rec.pull_container) >= rules.decision.strong_pull_at
    assert "both ways" in rec.balance
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
        "score",
        "assumed",
        "ruled_out",
        "profile",
        # added with engine v2
        "pull",
        "balance",
        "sides",
    ):
        assert key in data
    assert json.loads(json.dumps(data)) == data
    assert {"fact", "value", "contribution", "assumed", "toward_vm", "toward_container"} <= set(
        data["factors"][0]
    )
    assert data["score"] == pytest.approx(data["pull"]["vm"] - data["pull"]["container"])


def test_reports(rules: Rules) -> None:
    rec = recommend(parse_profile({"os_mix": "windows_and_linux", "startup": None}), rules)
    text = format_report(rec)
    assert text.startswith("Recommendation: Virtual machines")
    assert "(assumed)" in text and "+4.0" in text
    assert "Pull toward VMs: 4" in text and "Pull toward containers: 0" in text
    fields = chat_fields(rec, not_sure={"startup"})
    assert "instances can take minutes to start" in fields["notes"]
    assert fields["reasons"].startswith("- ")
    assert "Toward VMs (4)" in fields["pulls"] and fields["balance"] == rec.balance
    card = scorecard(rec)
    assert card["verdict"] == "vm" and "profile" not in card
    assert card["pull"] == {"vm": 4.0, "container": 0.0}
    assert card["sides"]["vm"] and card["sides"]["container"] == []
    assert "outweighs" in card["balance"]
    assert all(
        f["toward_vm"] or f["toward_container"] or not f["assumed"] for f in card["factors"]
    )


def test_possible_outcomes_settles_when_nothing_can_change(rules: Rules) -> None:
    bsd = WorkloadProfile(os_mix="other_kernel", density="low")
    assert possible_outcomes(bsd, ["startup", "team_containers"], rules) == frozenset({"vm"})
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


# The pattern behind the misses of engine v1: strong forces on both sides.
@pytest.mark.parametrize(
    ("profile", "kind"),
    [
        (
            {"isolation": "untrusted", "os_mix": "linux_only", "density": "high",
             "startup": "seconds", "team_containers": "strong"},
            "microvms",
        ),
        (
            {"os_mix": "windows_and_linux", "legacy": True, "density": "high",
             "team_containers": "strong", "workload_count": 60},
            "split",
        ),
        (
            {"isolation": "untrusted", "density": "high", "team_containers": "strong",
             "work_pattern": "batch"},
            "sandboxed_containers",
        ),
    ],
    ids=["strangers-code-dense", "mixed-legacy-dense", "ci-jobs-on-a-cluster"],
)  # fmt: skip
def test_strong_forces_both_ways_give_a_hybrid(
    profile: dict[str, Any], kind: str, rules: Rules
) -> None:
    rec = recommend(parse_profile(profile), rules)
    assert min(rec.pull_vm, rec.pull_container) >= rules.decision.strong_pull_at
    assert (rec.verdict, rec.hybrid_kind) == ("hybrid", kind)


def test_one_strong_side_wins_outright(rules: Rules) -> None:
    rec = recommend(parse_profile({"os_mix": "other_kernel", "density": "high",
                                   "team_containers": "strong", "startup": "subsecond",
                                   "workload_count": 100, "kernel_custom": True,
                                   "privileged": True}), rules)
    assert rec.pull_vm - rec.pull_container >= rules.decision.overwhelming_lead
    assert rec.verdict == "vm" and "far stronger" in rec.balance


@pytest.mark.parametrize(
    ("field", "value", "direction"),
    [
        ("traffic", "scale_to_zero", "container"),
        ("work_pattern", "event_driven", "container"),
        ("os_patching", "provider", "container"),
        ("privileged", True, "vm"),
        ("licences", "bring_own", "vm"),
        ("os_patching", "us", "vm"),
    ],
)
def test_new_factors_pull_their_way(field: str, value: Any, direction: str, rules: Rules) -> None:
    base = recommend(WorkloadProfile(), rules)
    rec = recommend(WorkloadProfile().replace(**{field: value}), rules)
    if direction == "vm":
        assert rec.pull_vm > base.pull_vm and rec.pull_container == base.pull_container
    else:
        assert rec.pull_container > base.pull_container and rec.pull_vm == base.pull_vm
    assert next(f for f in rec.factors if f.field == field).why


def test_bring_own_licences_and_state_keep_a_windows_database_on_vms(rules: Rules) -> None:
    rec = recommend(parse_profile({"os_mix": "windows_only", "stateful": True,
                                   "licences": "bring_own"}), rules)
    assert rec.verdict == "vm"
    assert any("licences" in reason for reason in rec.side_reasons("vm"))


def test_privileged_strangers_never_get_a_shared_kernel(rules: Rules) -> None:
    rec = recommend(parse_profile({"isolation": "untrusted", "privileged": True,
                                   "density": "high", "startup": "subsecond"}), rules)
    assert rec.outcome == "microvms"
    assert {"container", "containers_on_vms", "sandboxed_containers"} <= set(rec.ruled_out)


def test_questions_that_could_change_name_only_fields_that_matter(rules: Rules) -> None:
    bsd = WorkloadProfile(os_mix="other_kernel", kernel_custom=True, density="low")
    assert questions_that_could_change(bsd, rules) == ()

    open_linux = WorkloadProfile(os_mix="linux_only", density="high")
    questions = {q.field: q for q in questions_that_could_change(open_linux, rules)}
    current = recommend(open_linux, rules).outcome
    assert "isolation" in questions and "os_mix" not in questions  # answered
    for question in questions.values():
        assert current not in question.could_lead_to
        # Each named outcome really is reached by some answer to that field.
        assert question.could_lead_to
    # An answer the conversation skips could not have changed anything.
    for field in ("gpu",):
        if field not in questions:
            for value in (True, False):
                assert recommend(open_linux.replace(**{field: value}), rules).outcome == current


def test_questions_can_be_limited_to_the_forms_questions(rules: Rules) -> None:
    strangers = WorkloadProfile(isolation="untrusted", density="high")
    assert recommend(strangers, rules).verdict == "vm"
    questions = questions_that_could_change(strangers, rules, fields=["traffic", "isolation"])
    # isolation is answered, so only traffic is left; bursts would make both sides strong.
    assert [q.field for q in questions] == ["traffic"]
    assert "vm" not in questions[0].could_lead_to


def test_possible_outcomes_can_stop_at_the_second_outcome(rules: Rules) -> None:
    """`stop_at=2` says only "not settled" (issue 14: asked on every form turn)."""
    open_all = WorkloadProfile()
    fields = ["isolation", "os_mix", "density", "startup", "stateful", "legacy",
              "team_containers"]
    everything = possible_outcomes(open_all, fields, rules)
    assert everything is not None and len(everything) >= 2
    partial = possible_outcomes(open_all, fields, rules, stop_at=2)
    assert partial is not None and len(partial) == 2 and partial <= everything
    bsd = WorkloadProfile(os_mix="other_kernel", density="low")
    assert possible_outcomes(bsd, ["startup", "team_containers"], rules,
                             stop_at=2) == frozenset({"vm"})


def test_possible_outcomes_memo_answers_as_the_enumeration(rules: Rules) -> None:
    profile = WorkloadProfile(isolation="untrusted")
    fields = ["density", "startup"]
    first = possible_outcomes(profile, fields, rules)
    assert possible_outcomes(profile, fields, rules) == first
    assert possible_outcomes(profile, fields, rules, stop_at=1) is not None
    assert possible_outcomes(profile, fields, rules) == first  # not the partial set
