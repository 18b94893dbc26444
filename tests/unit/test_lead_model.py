"""The lead payload, the recommendation reader and the transcript summary."""

from __future__ import annotations

import json

import pytest

from bot.leads.model import (
    Lead,
    Qualification,
    build_crm_payload,
    payload_to_json,
    recommendation_outcome,
)
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
    assert payload["recommendation"]["outcome"] == "container"
    assert payload["transcript_summary"] == "Asked about: cost."
    assert json.loads(payload_to_json(payload)) == payload


def test_payload_json_keeps_unicode_and_is_stable() -> None:
    assert payload_to_json({"b": "ü🚀", "a": 1}) == '{"a":1,"b":"ü🚀"}'


@pytest.mark.parametrize(
    ("recommendation", "outcome"),
    [({"outcome": "VM"}, "vm"), ({"recommendation": "containers"}, "container"),
     ({"choice": "hybrid (containers on VMs)"}, "hybrid"),
     ({"outcome": "virtual machines"}, "vm"), ({}, "none"), ({"outcome": ""}, "none")],
)
def test_recommendation_outcome(recommendation: dict[str, str], outcome: str) -> None:
    assert recommendation_outcome(recommendation) == outcome


def test_summary_names_topics_the_recommendation_and_recent_words() -> None:
    titles = {"ask_cost": "Costs", "ask_difference": "Differences", "contact_sales": "Sales"}
    summary = summarise_conversation(
        [("ask_difference", "how do they differ"), ("ask_cost", "what does it cost"),
         ("ask_cost", "and licences?"), ("contact_sales", "/contact_sales")],
        {"outcome": "hybrid"}, titles,
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
