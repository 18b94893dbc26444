"""What the advisor form does with answers it cannot read: ask again, explain, assume.

A question whose answer was not understood is asked again with a short apology. After
`TRIES_BEFORE_EXPLAINING` misses in a row it is explained, with buttons, and a person is
offered; one more miss and the question's default is assumed (and said), so the form
never loops. Pure: the form's actions keep the counts in a slot and utter the responses
named here.
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


def question_responses(field: str, misses: int) -> list[str]:
    """The responses that ask `field` after `misses` misses in a row."""
    if misses >= TRIES_BEFORE_EXPLAINING:
        return [f"utter_explain_{field}", "utter_advisor_offer_person"]
    return [*(["utter_advisor_retry"] if misses else []), f"utter_ask_{field}"]
