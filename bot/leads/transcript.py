"""A short summary of the conversation for the sales engineer (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.advisor.summary import NO_VERDICT, verdict_of

MAX_SUMMARY_CHARS = 600


def summarise_conversation(
    user_turns: Sequence[tuple[str, str]],
    recommendation: Mapping[str, Any],
    topic_titles: Mapping[str, str],
    max_chars: int = MAX_SUMMARY_CHARS,
) -> str:
    """Summarise what the visitor asked before the lead form.

    Args:
        user_turns: (intent, text) of the visitor's messages before the consent question.
        recommendation: The advisor's recommendation, empty if none.
        topic_titles: Readable titles of intents (FAQ topics).
        max_chars: The summary is cut to this length.
    """
    # FAQ topics only: "talk to sales" or "help" say nothing about the project.
    topics = list(dict.fromkeys(
        topic_titles[intent] for intent, _ in user_turns
        if intent in topic_titles and intent.startswith("ask_")
    ))
    parts = []
    if topics:
        parts.append("Asked about: " + "; ".join(topics) + ".")
    outcome = verdict_of(recommendation)
    if outcome != NO_VERDICT:
        parts.append(f"Advisor recommended: {outcome}.")
    quotes = [text.strip() for _, text in user_turns if text and not text.startswith("/")]
    if quotes:
        parts.append("Visitor said: " + " | ".join(f'"{q}"' for q in quotes[-3:]))
    summary = " ".join(parts) or "Asked to talk to sales straight away."
    return summary if len(summary) <= max_chars else summary[: max_chars - 1] + "…"
