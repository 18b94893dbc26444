"""The consent wording shown to visitors is the one whose version leads record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from bot.leads.model import CONSENT_TEXT_SHA256

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"


def _response(name: str) -> dict[str, object]:
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    variants: list[dict[str, object]] = domain["responses"][name]
    assert len(variants) == 1, "one wording only: a lead records which one it agreed to"
    return variants[0]


def test_the_consent_text_matches_the_recorded_version() -> None:
    text = str(_response("utter_ask_lead_consent")["text"])
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == CONSENT_TEXT_SHA256, (
        "utter_ask_lead_consent changed: bump CONSENT_VERSION and CONSENT_TEXT_SHA256 "
        "in bot/leads/model.py"
    )


def test_the_consent_text_says_what_is_stored_why_and_how_to_undo_it() -> None:
    response = _response("utter_ask_lead_consent")
    text = str(response["text"]).lower()
    for word in ("name", "email", "company", "role", "timeline", "budget", "summary"):
        assert word in text
    assert "crm" in text and "contact you" in text
    assert "forget me" in text
    buttons = response["buttons"]
    assert isinstance(buttons, list)
    payloads = [b["payload"] for b in buttons]
    assert payloads == ["/affirm", "/deny"]
