"""What the advisor form does with answers it cannot read: ask again, explain, assume.

A question whose answer was not understood is asked again with a short apology. After
`TRIES_BEFORE_EXPLAINING` misses in a row a person is offered and the question is
explained, with buttons; one more miss and the question's default is assumed (and said),
so the form never loops. Pure: the form's validation action keeps the counts in a slot,
utters what `asking_after` says comes before the question, and sets the slot that picks
the question's explained variation; Rasa then utters the question itself
(`utter_ask_<field>`) without another call to the action server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TRIES_BEFORE_EXPLAINING = 2


@dataclass(frozen=True)
class Miss:
    """The counts after a miss, and whether the question's default is now assumed."""

    retries: dict[str, int]
    assume_default: bool


def record_miss(retries: Mapping[str, int], field: str) -> Miss:
    """One more answer to `field` that was not understood."""
    counts = dict(retries)
    counts[field] = counts.get(field, 0) + 1
    if counts[field] > TRIES_BEFORE_EXPLAINING:
        counts.pop(field)
        return Miss(counts, assume_default=True)
    return Miss(counts, assume_default=False)


def record_answer(retries: Mapping[str, int], field: str) -> dict[str, int]:
    """`field` was answered: its misses no longer count."""
    return {name: count for name, count in retries.items() if name != field}


@dataclass(frozen=True)
class Asking:
    """How a question is asked again after a miss."""

    # Responses said just before the question.
    said_before: tuple[str, ...]
    # Whether the question comes in its explained variation (`utter_ask_<field>` with
    # the `advisor_explain_question` condition in domain.yml).
    explained: bool


def asking_after(misses: int) -> Asking:
    """How a question is asked after `misses` misses in a row (0: as it is)."""
    if misses >= TRIES_BEFORE_EXPLAINING:
        return Asking(said_before=("utter_advisor_offer_person",), explained=True)
    return Asking(said_before=("utter_advisor_retry",) if misses else (), explained=False)
