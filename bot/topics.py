"""The FAQ topics the assistant knows, with the short titles shown on buttons.

Used to offer "did you mean" choices when the assistant is unsure what was asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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
    "contact_sales": "Talk to our solutions team",
    "help": "What can you do?",
}

# Below this confidence a guess is too weak to offer as a button; the visitor is asked
# to rephrase instead. The FallbackClassifier already judged the top guess unsure, so
# this floor is lower than its threshold.
MIN_SUGGESTION_CONFIDENCE = 0.08


@dataclass(frozen=True)
class TopicSuggestion:
    intent: str
    title: str
    confidence: float


def suggest_topics(
    intent_ranking: Iterable[Mapping[str, object]],
    limit: int = 2,
    min_confidence: float = MIN_SUGGESTION_CONFIDENCE,
) -> Sequence[TopicSuggestion]:
    """Return up to `limit` known topics from an NLU intent ranking, most likely first.

    Args:
        intent_ranking: Rasa's `intent_ranking` list (dicts with `name` and `confidence`).
        limit: How many suggestions to return at most.
        min_confidence: Intents below this confidence are not suggested.
    """
    suggestions: list[TopicSuggestion] = []
    for entry in intent_ranking:
        name = str(entry.get("name", ""))
        raw_confidence = entry.get("confidence", 0.0)
        confidence = float(raw_confidence) if isinstance(raw_confidence, (int, float)) else 0.0
        if name in TOPIC_TITLES and confidence >= min_confidence:
            suggestions.append(TopicSuggestion(name, TOPIC_TITLES[name], confidence))
    suggestions.sort(key=lambda s: s.confidence, reverse=True)
    return suggestions[:limit]
