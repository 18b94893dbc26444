"""The lead payload, the recommendation reader and the transcript summary."""

from __future__ import annotations

import json

import pytest

from bot.advisor.summary import (
    RecommendationShapeError,
    RecommendationSummary,
    verdict_of,
)
from bot.crm.base import payload_to_json
from bot.leads.model import Lead, Qualification, build_crm_payload
from bot.leads.transcript import summarise_conversation
from tests.support.leads_factory import GIVEN_AT, make_draft


def test_the_payload_carries_everything_sales_needs() -> None:
    lead = Lead("id-1", make_draft(), Qualification(70, "hot", ("a", "b")), GIVEN_AT)
    payload = build_crm_payload(lead)
    assert payload["idempotency_key"] == "lead-id-1"
    assert payload["contact"]["email"] == "ada@analytical.example.io"
    assert payload["consent"] == {"version": lead.draft.consent.version,
                                  "given_at": "2024-06-01T09:30:00+00:00"}
    assert payload["qualification"] == {"score": 70, "tier": "hot", "reasons": ["a", "b"]}
    assert payload["profile"]["workload"] == "web shop"
    assert payload["recommendation"]["verdict"] == "container"
    assert payload["transcript_summary"] == "Asked about: cost."
    assert json.loads(payload_to_json(payload)) == payload


def test_payload_json_keeps_unicode_and_is_stable() -> None:
    assert payload_to_json({"b": "ü🚀", "a": 1}) == '{"a":1,"b":"ü🚀"}'


def test_the_advisors_own_json_is_read_back_as_its_summary() -> None:
    from bot.advisor.engine import recommend
    from bot.advisor.profile import WorkloadProfile
    from bot.advisor.rules import load_rules

    advice = recommend(WorkloadProfile(), load_rules())
    summary = RecommendationSummary.from_dict(advice.to_dict())
    assert summary == advice.summary()
    assert verdict_of(advice.to_dict()) == advice.verdict
    assert RecommendationSummary.from_dict(summary.to_dict()) == summary


@pytest.mark.parametrize("recommendation", [{}, None])
def test_no_recommendation_reads_as_none(recommendation: dict[str, str] | None) -> None:
    assert verdict_of(recommendation) == "none"


@pytest.mark.parametrize(
    "recommendation",
    # Shapes the old reader guessed its way through: they now fail loudly.
    [{"outcome": "container"}, {"verdict": "containers"}, {"choice": "hybrid"},
     {"verdict": "vm", "hybrid_kind": "split"}],
)
def test_any_other_shape_is_refused(recommendation: dict[str, str]) -> None:
    with pytest.raises(RecommendationShapeError):
        verdict_of(recommendation)


def test_summary_names_topics_the_recommendation_and_recent_words() -> None:
    titles = {"ask_cost": "Costs", "ask_difference": "Differences", "contact_sales": "Sales"}
    summary = summarise_conversation(
        [("ask_difference", "how do they differ"), ("ask_cost", "what does it cost"),
         ("ask_cost", "and licences?"), ("contact_sales", "/contact_sales")],
        {"verdict": "hybrid", "hybrid_kind": "split"}, titles,
    )
    assert summary.startswith("Asked about: Differences; Costs.")
    assert "Advisor recommended: hybrid." in summary
    assert '"and licences?"' in summary
    assert "/contact_sales" not in summary
    assert "Sales" not in summary


def test_summary_is_cut_and_has_a_default() -> None:
    assert summarise_conversation([], {}, {}) == "Asked to talk to sales straight away."
    long = summarise_conversation([("x", "y" * 5000)], {}, {}, max_chars=100)
    assert len(long) == 100
