"""The one-click "Was this helpful?" after an answer or a recommendation.

Two buttons ride on the answer message itself (no extra bot turn, so the conversation
rules and stories are unchanged). Each sends `/feedback{"helpful": "yes"|"no", "about":
"<subject>"}`, where the subject is an answer key (`ask_cost/general`) or
`recommendation/<verdict>`: nothing about the visitor, only about what we said. The
channels pass a payload on only while its button is the latest offer, so each answer can
be rated once. The user event in the tracker store is the record; the insight page counts
them (bot/insights/figures.py).

Standard library only.
"""

from __future__ import annotations

import json
import re
from typing import Any

FEEDBACK_INTENT = "feedback"
HELPFUL_ENTITY = "helpful"
ABOUT_ENTITY = "about"
HELPFUL = "yes"
NOT_HELPFUL = "no"
RECOMMENDATION_SUBJECT = "recommendation"

# Retrieval answers (`utter_ask_cost/general`) are rated; other responses (questions,
# greetings, form prompts) are not. `utter_ask_<slot>` form questions have no "/".
_RATED_RESPONSE = re.compile(r"^utter_(ask_[a-z0-9_]+/[a-z0-9_]+)$")

THUMBS_UP_TITLE = "👍 Helpful"
THUMBS_DOWN_TITLE = "👎 Not helpful"


def feedback_payload(helpful: str, about: str) -> str:
    """The message a thumbs button sends."""
    return "/" + FEEDBACK_INTENT + json.dumps({HELPFUL_ENTITY: helpful, ABOUT_ENTITY: about},
                                              separators=(",", ":"))


def feedback_buttons(about: str) -> list[dict[str, str]]:
    """The two buttons rating `about` (an answer key or `recommendation/<verdict>`)."""
    return [{"title": THUMBS_UP_TITLE, "payload": feedback_payload(HELPFUL, about)},
            {"title": THUMBS_DOWN_TITLE, "payload": feedback_payload(NOT_HELPFUL, about)}]


def recommendation_subject(verdict: str) -> str:
    """What a recommendation's thumbs rate: `recommendation/vm`, `.../hybrid`."""
    return f"{RECOMMENDATION_SUBJECT}/{verdict or 'none'}"


def rated_answer_key(response_name: str) -> str | None:
    """The answer key a response gets thumbs for (`utter_ask_cost/general` -> `ask_cost/general`).

    None for responses that are not answers.
    """
    match = _RATED_RESPONSE.match(response_name)
    return match.group(1) if match else None


def read_feedback(entities: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(helpful, about) from a feedback message's entities; None unless both are valid."""
    found = {e.get("entity"): e.get("value") for e in entities if isinstance(e, dict)}
    helpful, about = found.get(HELPFUL_ENTITY), found.get(ABOUT_ENTITY)
    if helpful not in (HELPFUL, NOT_HELPFUL) or not isinstance(about, str) or not about:
        return None
    return str(helpful), about[:120]
