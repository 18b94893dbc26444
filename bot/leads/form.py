"""The lead form's decisions, kept out of the Rasa actions so they are plain and testable.

For each answer: which slots to set and which response to give. Two misses in a row on a
question bring an explanation instead of the same question again; four end the form
(nothing kept). Then the summary, and turning the slots into a `LeadDraft`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.leads.model import CONSENT_VERSION, Consent, Contact, LeadDraft, utc_now
from bot.leads.validation import (
    Checked,
    check_budget,
    check_company,
    check_email,
    check_name,
    check_role,
    check_size,
    check_timeline,
)

FORM_SLOTS = (
    "lead_consent", "lead_name", "lead_email", "lead_company", "lead_role",
    "lead_timeline", "lead_size", "lead_budget", "lead_confirmed",
)
HELPER_SLOTS = (
    "lead_consent_at", "lead_consent_version", "lead_email_free_mail", "lead_form_misses",
    "lead_form_abandoned",
)
EDITABLE = FORM_SLOTS[1:-1]

EXPLAIN_AFTER = 2  # misses in a row before the question is explained
GIVE_UP_AFTER = 4  # misses in a row before the form ends

TIMELINE_LABELS = {"now": "now", "this_quarter": "this quarter", "this_year": "this year",
                   "exploring": "just exploring"}
BUDGET_LABELS = {"under_10k": "under $10k", "10k_50k": "$10k - $50k",
                 "50k_250k": "$50k - $250k", "over_250k": "over $250k",
                 "not_given": "not given"}

_CHECKS: dict[str, Callable[[str], Checked[Any]]] = {
    "lead_name": check_name,
    "lead_email": check_email,
    "lead_company": check_company,
    "lead_role": check_role,
    "lead_timeline": check_timeline,
    "lead_size": check_size,
    "lead_budget": check_budget,
}

# Bare yes / no words are answers to a question we did not ask, not a name or a role.
_NOT_AN_ANSWER = frozenset({
    "yes", "no", "nope", "nah", "ok", "okay", "sure", "yep", "yeah", "hi", "hello", "hey",
    "skip", "cancel", "stop", "n/a", "none", "why", "what", "idk", "dunno",
})
_YES = ("yes", "y", "yeah", "yep", "sure", "ok", "okay", "agree", "i agree", "go ahead",
        "fine", "of course", "please do", "absolutely", "send", "send it", "correct",
        "that's right", "looks good", "all good")
_NO = ("no", "n", "nope", "nah", "no thanks", "don't", "do not", "disagree", "i don't agree",
       "rather not", "cancel", "stop", "never mind", "nevermind")
_FIELD_WORDS = (
    ("lead_email", ("email", "e-mail", "address", "mail")),
    ("lead_company", ("company", "organisation", "organization", "employer")),
    ("lead_role", ("role", "title", "job", "position")),
    ("lead_timeline", ("timeline", "timing", "when", "date", "start")),
    ("lead_size", ("size", "number", "servers", "workloads", "count", "how many")),
    ("lead_budget", ("budget", "money", "spend", "price")),
    ("lead_name", ("name",)),
)


@dataclass(frozen=True)
class Verdict:
    """What to do with one answer: slots to set and an optional response to utter."""

    slots: dict[str, Any] = field(default_factory=dict)
    response: str | None = None


def judge_answer(slot: str, value: Any, misses: float | None) -> Verdict:
    """Check the answer to `slot` and decide the slots and response.

    Args:
        slot: One of the lead form's slots.
        value: What the slot mapping extracted (text, an entity value, or a bool).
        misses: Misses in a row so far on this question (the `lead_form_misses` slot).
    """
    if slot == "lead_consent":
        return _judge_consent(value, misses)
    if slot == "lead_confirmed":
        return _judge_confirmation(value, misses)
    text = "" if value is None else str(value)
    if slot in ("lead_name", "lead_role", "lead_company") and _is_bare_word(text):
        return _miss(slot, "malformed", misses)
    checked = _CHECKS[slot](text)
    if not checked.ok:
        return _miss(slot, checked.problem, misses)
    slots: dict[str, Any] = {slot: checked.value, "lead_form_misses": 0}
    response = None
    if slot == "lead_email":
        slots["lead_email_free_mail"] = checked.flag == "free_mail"
        if checked.flag == "free_mail":
            response = "utter_lead_free_mail_noted"
    return Verdict(slots, response)


def _judge_consent(value: Any, misses: float | None, now: datetime | None = None) -> Verdict:
    answer = value if isinstance(value, bool) else _yes_or_no(str(value or ""))
    if answer is None:
        return _miss("lead_consent", "unclear", misses)
    if not answer:
        return Verdict({"lead_consent": False, "lead_form_misses": 0})
    return Verdict({
        "lead_consent": True,
        "lead_consent_at": (now or utc_now()).isoformat(),
        "lead_consent_version": CONSENT_VERSION,
        "lead_form_misses": 0,
    })


def _judge_confirmation(value: Any, misses: float | None) -> Verdict:
    if isinstance(value, bool):
        return Verdict({"lead_confirmed": value, "lead_form_misses": 0})
    text = str(value or "").strip()
    if text in EDITABLE:
        return _edit(text)
    yes_no = _yes_or_no(text)
    words = f" {' '.join(re.findall(r'[a-z-]+', text.lower()))} "
    for slot, keywords in _FIELD_WORDS:
        if any(f" {keyword} " in words for keyword in keywords):
            return _edit(slot)
    if yes_no is not None:
        return Verdict({"lead_confirmed": yes_no, "lead_form_misses": 0})
    return _miss("lead_confirmed", "unclear", misses)


def _edit(slot: str) -> Verdict:
    slots: dict[str, Any] = {slot: None, "lead_confirmed": None, "lead_form_misses": 0}
    if slot == "lead_email":
        slots["lead_email_free_mail"] = None
    return Verdict(slots)


def _miss(slot: str, problem: str, misses: float | None) -> Verdict:
    count = int(misses or 0) + 1
    short = slot.removeprefix("lead_")
    if count >= GIVE_UP_AFTER:
        return Verdict({slot: None, "lead_form_abandoned": True, "lead_form_misses": 0})
    if count % EXPLAIN_AFTER == 0:
        return Verdict({slot: None, "lead_form_misses": count}, f"utter_lead_explain_{short}")
    response = f"utter_lead_invalid_{short}"
    if slot == "lead_email":
        response += f"_{problem}"
    return Verdict({slot: None, "lead_form_misses": count}, response)


def _yes_or_no(text: str) -> bool | None:
    cleaned = " ".join(re.findall(r"[a-z']+", text.lower()))
    if cleaned in _NO or any(cleaned.startswith(n + " ") for n in ("no", "nope", "nah")):
        return False
    if cleaned in _YES or any(cleaned.startswith(y + " ") for y in ("yes", "sure", "ok")):
        return True
    return None


def _is_bare_word(text: str) -> bool:
    return text.strip().lower().strip(".!?") in _NOT_AN_ANSWER


def form_is_over(slots: Mapping[str, Any]) -> bool:
    """True when the form must end now: consent refused, or the visitor gave up."""
    return slots.get("lead_consent") is False or bool(slots.get("lead_form_abandoned"))


def summary_fields(slots: Mapping[str, Any]) -> dict[str, str]:
    """The summary's placeholders, in words."""
    return {
        "name": str(slots.get("lead_name") or ""),
        "email": str(slots.get("lead_email") or ""),
        "company": str(slots.get("lead_company") or ""),
        "role": str(slots.get("lead_role") or ""),
        "timeline": TIMELINE_LABELS.get(str(slots.get("lead_timeline")), "-"),
        "size": _number(slots.get("lead_size")),
        "budget": BUDGET_LABELS.get(str(slots.get("lead_budget")), "not given"),
    }


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "-" if value in (None, "") else str(value)


def read_recommendation(raw: Any) -> dict[str, Any]:
    """The advisor's `recommendation` slot: a dict, or its JSON text; {} otherwise."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str) and raw.strip():
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return dict(value) if isinstance(value, Mapping) else {}
    return {}


def draft_from_slots(
    slots: Mapping[str, Any],
    conversation_id: str,
    profile: Mapping[str, Any],
    recommendation: Mapping[str, Any],
    transcript_summary: str,
) -> LeadDraft:
    """Build the lead from the form's slots.

    Raises:
        ValueError: when consent or a required answer is missing (the form ensures both).
    """
    if slots.get("lead_consent") is not True:
        raise ValueError("no consent: a lead cannot be built")
    given_at = datetime.fromisoformat(str(slots.get("lead_consent_at")))
    required = ("lead_name", "lead_email", "lead_company", "lead_role", "lead_timeline",
                "lead_size")
    missing = [s for s in required if slots.get(s) in (None, "")]
    if missing:
        raise ValueError(f"missing answers: {', '.join(missing)}")
    return LeadDraft(
        contact=Contact(
            name=str(slots["lead_name"]),
            email=str(slots["lead_email"]),
            company=str(slots["lead_company"]),
            role=str(slots["lead_role"]),
            email_is_free_mail=bool(slots.get("lead_email_free_mail")),
        ),
        consent=Consent(
            version=str(slots.get("lead_consent_version") or CONSENT_VERSION),
            given_at=given_at,
        ),
        timeline=str(slots["lead_timeline"]),
        size=int(float(slots["lead_size"])),
        budget=str(slots.get("lead_budget") or "not_given"),
        conversation_id=conversation_id,
        profile=dict(profile),
        recommendation=dict(recommendation),
        transcript_summary=transcript_summary,
    )


def next_step_response(tier: str, meeting_link: str) -> str:
    """The confirmation for the visitor: hot leads get the meeting link when there is one."""
    if tier == "hot":
        return "utter_lead_submitted_hot" if meeting_link else "utter_lead_submitted_hot_no_link"
    return f"utter_lead_submitted_{tier}"
