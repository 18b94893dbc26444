"""What to offer when the assistant is unsure what was asked: the two likeliest answers.

The first stage of understanding picks a topic and, within it, a specific answer. When the
topic is unsure, the second stage offers the two most likely specific answers as buttons
("Is ESXi still free?", "VMware after Broadcom") rather than a generic "did you mean":
one click gets the answer. Intents that are not answers (a recommendation, talking to
sales) compete on the same footing. When nothing is likely, the visitor hears what the
assistant can help with instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Readable titles of the topics (also used in the transcript summary sent with a lead).
TOPIC_TITLES: Mapping[str, str] = {
    "ask_difference": "How VMs and containers differ",
    "ask_vm_definition": "What a virtual machine is",
    "ask_container_definition": "What a container is",
    "ask_isolation_security": "Isolation and security",
    "ask_performance_density": "Performance and density",
    "ask_os_support": "Operating system support",
    "ask_portability": "Portability and migration",
    "ask_use_case_recommendation": "A recommendation for my workload",
    "ask_both_together": "Running both together",
    "ask_cost": "Costs and licensing",
    "ask_offerings": "Our platform's products",
    "contact_sales": "Talk to our solutions team",
    "help": "What can you do?",
}
# Intents that are not knowledge-base answers but can still be offered as a choice.
CHOICE_INTENTS = frozenset({"ask_use_case_recommendation", "contact_sales", "help"})
# The answer key that means "recommend for my workload" rather than a specific answer.
WORKLOAD_ANSWER_KEY = "ask_use_case_recommendation/my_workload"

# Below these, a guess is too weak to offer as a button. Answer probabilities are spread
# over ~80 answers, intent probabilities over ~25 intents, hence the two floors.
MIN_ANSWER_CONFIDENCE = 0.06
MIN_INTENT_CONFIDENCE = 0.10


@dataclass(frozen=True)
class Suggestion:
    title: str
    payload: str
    confidence: float


def show_answer_payload(answer_key: str) -> str:
    """The button payload that shows one answer: `/show_answer{"answer_key": "..."}`."""
    return "/show_answer" + json.dumps({"answer_key": answer_key})


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def suggest_answers(
    answer_ranking: Iterable[Mapping[str, object]],
    intent_ranking: Iterable[Mapping[str, object]],
    titles: Mapping[str, str] | None = None,
    limit: int = 2,
) -> Sequence[Suggestion]:
    """Up to `limit` likely choices, most likely first.

    Args:
        answer_ranking: The answer selector's ranking over all answers (dicts with
            `intent_response_key`, `confidence` and `title`).
        intent_ranking: Rasa's `intent_ranking` (dicts with `name` and `confidence`).
        titles: Button titles that override the ranking's (answers rendered from data
            outside the responses, such as our offerings).
        limit: How many suggestions to return at most.
    """
    titles = titles or {}
    suggestions: dict[str, Suggestion] = {}
    for entry in answer_ranking:
        key = str(entry.get("intent_response_key", ""))
        confidence = _number(entry.get("confidence"))
        if not key or confidence < MIN_ANSWER_CONFIDENCE:
            continue
        if key == WORKLOAD_ANSWER_KEY:
            payload, title = "/ask_use_case_recommendation", TOPIC_TITLES[
                "ask_use_case_recommendation"]
        else:
            payload = show_answer_payload(key)
            title = titles.get(key) or str(entry.get("title") or key)
        suggestions.setdefault(payload, Suggestion(title, payload, confidence))
    for entry in intent_ranking:
        name = str(entry.get("name", ""))
        confidence = _number(entry.get("confidence"))
        if name in CHOICE_INTENTS and confidence >= MIN_INTENT_CONFIDENCE:
            payload = f"/{name}"
            if payload not in suggestions:
                suggestions[payload] = Suggestion(TOPIC_TITLES[name], payload, confidence)
    ranked = sorted(suggestions.values(), key=lambda s: s.confidence, reverse=True)
    return ranked[:limit]


# After this many unclear messages in a row, a person is offered as well.
MISSES_BEFORE_OFFERING_PERSON = 2
# Events that happen between two unclear messages without answering anything.
_BETWEEN_MISSES = frozenset({"user", "bot", "rewind", "user_featurization", "slot"})


def misses_in_a_row(events: Sequence[Mapping[str, object]], miss_actions: Iterable[str]
                    ) -> int:
    """How many of the latest messages in a row were answered by one of `miss_actions`.

    The fallback takes an unclear message back (`UserUtteranceReverted`), so the count
    comes from the actions run: consecutive runs of the miss actions, with nothing but
    listening in between. The message being answered now is not counted.
    """
    misses = frozenset(miss_actions)
    count = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "action":
            name = event.get("name")
            if name in misses:
                count += 1
            elif name != "action_listen":
                break
        elif kind not in _BETWEEN_MISSES:
            break
    return count
