"""The lead form's decisions: checks, explanations after two misses, giving up,
consent, the summary's edits, and building the lead."""

from __future__ import annotations

from typing import Any

import pytest

from bot.leads.form import (
    draft_from_slots,
    form_is_over,
    judge_answer,
    next_step_response,
    read_recommendation,
    summary_fields,
)
from bot.leads.model import CONSENT_VERSION


@pytest.mark.parametrize(
    ("slot", "value", "slots", "response"),
    [
        ("lead_name", "Ada Lovelace", {"lead_name": "Ada Lovelace", "lead_form_misses": 0}, None),
        ("lead_name", "no", {"lead_name": None, "lead_form_misses": 1}, "utter_lead_invalid_name"),
        ("lead_email", "ada@acme.io",
         {"lead_email": "ada@acme.io", "lead_email_free_mail": False, "lead_form_misses": 0}, None),
        ("lead_email", "ada@gmail.com",
         {"lead_email": "ada@gmail.com", "lead_email_free_mail": True, "lead_form_misses": 0},
         "utter_lead_free_mail_noted"),
        ("lead_email", "ada@mailinator.com", {"lead_email": None, "lead_form_misses": 1},
         "utter_lead_invalid_email_throwaway"),
        ("lead_email", "ada at acme", {"lead_email": None, "lead_form_misses": 1},
         "utter_lead_invalid_email_missing"),
        ("lead_timeline", "this_quarter", {"lead_timeline": "this_quarter",
                                           "lead_form_misses": 0}, None),
        ("lead_size", "about 40 VMs", {"lead_size": 40, "lead_form_misses": 0}, None),
        ("lead_budget", "not_given", {"lead_budget": "not_given", "lead_form_misses": 0}, None),
        ("lead_role", "ok", {"lead_role": None, "lead_form_misses": 1}, "utter_lead_invalid_role"),
    ],
)
def test_answers(slot: str, value: str, slots: dict[str, Any], response: str | None) -> None:
    verdict = judge_answer(slot, value, 0)
    assert verdict.slots == slots
    assert verdict.response == response


def test_two_misses_in_a_row_explain_and_four_end_the_form() -> None:
    first = judge_answer("lead_email", "nope@", 0)
    second = judge_answer("lead_email", "still wrong@", first.slots["lead_form_misses"])
    third = judge_answer("lead_email", "x@", second.slots["lead_form_misses"])
    fourth = judge_answer("lead_email", "y@", third.slots["lead_form_misses"])
    assert first.response == "utter_lead_invalid_email_malformed"
    assert second.response == "utter_lead_explain_email"
    assert third.response == "utter_lead_invalid_email_malformed"
    assert fourth.slots == {"lead_email": None, "lead_form_abandoned": True,
                            "lead_form_misses": 0}
    assert form_is_over(fourth.slots)


def test_a_good_answer_resets_the_misses() -> None:
    assert judge_answer("lead_size", "12", 3).slots["lead_form_misses"] == 0


@pytest.mark.parametrize("value", [True, "yes", "sure, go ahead", "I agree"])
def test_consent_given_records_time_and_version(value: Any) -> None:
    slots = judge_answer("lead_consent", value, 0).slots
    assert slots["lead_consent"] is True
    assert slots["lead_consent_version"] == CONSENT_VERSION
    assert slots["lead_consent_at"].endswith("+00:00")


@pytest.mark.parametrize("value", [False, "no", "no thanks", "nope, not now"])
def test_consent_refused_ends_the_form_with_nothing_kept(value: Any) -> None:
    slots = judge_answer("lead_consent", value, 0).slots
    assert slots == {"lead_consent": False, "lead_form_misses": 0}
    assert form_is_over(slots)


def test_an_unclear_consent_answer_is_asked_again_then_explained() -> None:
    first = judge_answer("lead_consent", "what do you mean", 0)
    assert first.response == "utter_lead_invalid_consent"
    assert judge_answer("lead_consent", "hmm", 1).response == "utter_lead_explain_consent"


@pytest.mark.parametrize(
    ("value", "slots"),
    [
        (True, {"lead_confirmed": True, "lead_form_misses": 0}),
        (False, {"lead_confirmed": False, "lead_form_misses": 0}),
        ("lead_company", {"lead_company": None, "lead_confirmed": None, "lead_form_misses": 0}),
        ("change the email please", {"lead_email": None, "lead_email_free_mail": None,
                                     "lead_confirmed": None, "lead_form_misses": 0}),
        ("the budget is wrong", {"lead_budget": None, "lead_confirmed": None,
                                 "lead_form_misses": 0}),
        ("yes", {"lead_confirmed": True, "lead_form_misses": 0}),
        ("cancel", {"lead_confirmed": False, "lead_form_misses": 0}),
    ],
)
def test_summary_answers(value: Any, slots: dict[str, Any]) -> None:
    assert judge_answer("lead_confirmed", value, 0).slots == slots


FILLED = {
    "lead_consent": True, "lead_consent_at": "2024-06-01T09:30:00+00:00",
    "lead_consent_version": CONSENT_VERSION, "lead_name": "Ada Lovelace",
    "lead_email": "ada@gmail.com", "lead_email_free_mail": True, "lead_company": "Analytical",
    "lead_role": "CTO", "lead_timeline": "this_quarter", "lead_size": 40.0,
    "lead_budget": "50k_250k", "lead_confirmed": True,
}


def test_draft_from_slots() -> None:
    draft = draft_from_slots(FILLED, "conv-9", {"isolation": "high"}, {"verdict": "vm"}, "s")
    assert draft.contact.email_is_free_mail
    assert draft.size == 40
    assert draft.consent.given_at.isoformat() == "2024-06-01T09:30:00+00:00"
    assert draft.conversation_id == "conv-9"
    assert draft.recommendation == {"verdict": "vm"}


def test_no_lead_without_consent() -> None:
    with pytest.raises(ValueError, match="consent"):
        draft_from_slots({**FILLED, "lead_consent": False}, "c", {}, {}, "")
    with pytest.raises(ValueError, match="lead_email"):
        draft_from_slots({**FILLED, "lead_email": None}, "c", {}, {}, "")


def test_summary_in_words() -> None:
    fields = summary_fields(FILLED)
    assert fields["timeline"] == "this quarter"
    assert fields["budget"] == "$50k - $250k"
    assert fields["size"] == "40"


@pytest.mark.parametrize(
    ("tier", "link", "response"),
    [("hot", "https://cal.example/x", "utter_lead_submitted_hot"),
     ("hot", "", "utter_lead_submitted_hot_no_link"), ("warm", "x", "utter_lead_submitted_warm"),
     ("cold", "", "utter_lead_submitted_cold"),
     ("unqualified", "", "utter_lead_submitted_unqualified")],
)
def test_next_step(tier: str, link: str, response: str) -> None:
    assert next_step_response(tier, link) == response


def test_recommendation_slot_as_dict_or_json() -> None:
    assert read_recommendation({"verdict": "vm"}) == {"verdict": "vm"}
    assert read_recommendation('{"verdict": "hybrid"}') == {"verdict": "hybrid"}
    assert read_recommendation("not json") == {}
    assert read_recommendation(None) == {}
