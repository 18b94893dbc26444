"""Lead scoring: a pure function of the lead and the rules in scoring.yml."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.leads.scoring import (
    DEFAULT_RULES_PATH,
    ScoringRulesError,
    authority_level,
    load_scoring_rules,
    parse_scoring_rules,
    score_lead,
)
from tests.support.leads_factory import make_draft

RULES = load_scoring_rules()


def score(recommendation: dict[str, Any] | None = None, **fields: Any) -> tuple[int, str]:
    draft = make_draft(**fields)
    result = score_lead(draft, recommendation or {}, RULES)
    return result.score, result.tier


@pytest.mark.parametrize(
    ("fields", "recommendation", "expected_tier"),
    [
        # a CTO with 120 servers buying now with a budget: hot
        ({"role": "CTO", "size": 120, "timeline": "now", "budget": "over_250k"},
         {"verdict": "hybrid"}, "hot"),
        ({"role": "Head of Platform", "size": 40, "timeline": "this_quarter",
          "budget": "50k_250k"}, {"verdict": "container"}, "hot"),
        # an architect with a mid-size estate this year: warm
        ({"role": "Solutions Architect", "size": 25, "timeline": "this_year",
          "budget": "10k_50k"}, {"verdict": "vm"}, "warm"),
        # an engineer with a few servers, exploring: cold
        ({"role": "DevOps engineer", "size": 6, "timeline": "exploring",
          "budget": "not_given"}, {}, "cold"),
        # a student is never a sales lead, however big the plan
        ({"role": "PhD student", "size": 1000, "timeline": "now",
          "budget": "over_250k"}, {"verdict": "hybrid"}, "unqualified"),
        # exploring caps at warm even for a large estate and a CIO
        ({"role": "CIO", "size": 900, "timeline": "exploring", "budget": "over_250k"},
         {"verdict": "hybrid"}, "warm"),
        # two workloads and no budget: at most cold
        ({"role": "CTO", "size": 2, "timeline": "now", "budget": "not_given"},
         {"verdict": "container"}, "cold"),
    ],
)
def test_tiers(fields: dict[str, Any], recommendation: dict[str, Any], expected_tier: str) -> None:
    assert score(recommendation, **fields)[1] == expected_tier


def test_score_adds_the_criteria_and_gives_one_reason_each() -> None:
    draft = make_draft(role="CTO", size=120, timeline="now", budget="over_250k")
    result = score_lead(draft, {"verdict": "hybrid"}, RULES)
    assert result.score == 100
    assert result.tier == "hot"
    assert [r.split(":")[0] for r in result.reasons] == [
        "fit", "size", "timeline", "authority", "budget"]
    assert "timeline: now (+30)" in result.reasons


def test_a_free_mail_address_costs_points_and_says_so() -> None:
    company = score_lead(make_draft(), {}, RULES)
    free = score_lead(make_draft(email_is_free_mail=True), {}, RULES)
    assert free.score == company.score - 5
    assert any("free-mail" in r for r in free.reasons)


def test_scores_stay_within_0_and_100() -> None:
    low = score_lead(make_draft(role="student", size=1, timeline="exploring",
                                budget="not_given", email_is_free_mail=True), {}, RULES)
    assert 0 <= low.score <= 100
    assert low.tier == "unqualified"


def test_the_recommendation_counts_towards_fit() -> None:
    without, _ = score({}, size=30)
    hybrid, _ = score({"verdict": "hybrid"}, size=30)
    assert hybrid > without


def test_the_criteria_add_up_to_100() -> None:
    total = sum(max([*c.points.values(), *(b.points for b in c.bands)]) for c in RULES.criteria)
    assert total == 100


@pytest.mark.parametrize(
    ("role", "level"),
    [("CTO", "decision_maker"), ("VP Engineering", "decision_maker"),
     ("co-founder", "decision_maker"), ("Cloud architect", "influencer"),
     ("Site reliability engineer (SRE)", "practitioner"), ("Teacher", "other"),
     ("Director of IT", "decision_maker"), ("headless CMS dev", "other")],
)
def test_authority_levels(role: str, level: str) -> None:
    assert authority_level(role.lower(), RULES) == level


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda d: d.pop("criteria"), "criteria must be a non-empty list"),
        (lambda d: d["criteria"][0].update(fact="shoe_size"), "needs a fact"),
        (lambda d: d["tiers"].pop(), "tiers must be exactly"),
        (lambda d: d["tiers"].reverse(), "highest min_score"),
        (lambda d: d["adjustments"][0].update(max_tier="lukewarm"), "max_tier"),
        (lambda d: d["adjustments"][0].update(when={"fact": "size"}), "one operator"),
    ],
)
def test_broken_rules_are_refused_with_a_pointer(break_it: Any, message: str) -> None:
    data = _raw()
    break_it(data)
    with pytest.raises(ScoringRulesError, match=message):
        parse_scoring_rules(data)


def test_changing_a_weight_in_the_data_changes_the_score() -> None:
    data = _raw()
    data["criteria"][2]["points"]["now"] = 0
    rules = parse_scoring_rules(data)
    draft = make_draft(timeline="now")
    assert score_lead(draft, {}, rules).score == score_lead(draft, {}, RULES).score - 30
