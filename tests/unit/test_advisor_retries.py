"""Answers the advisor form could not read: ask again, explain, then assume."""

from __future__ import annotations

import pytest

from bot.advisor.retries import (
    TRIES_BEFORE_EXPLAINING,
    Asking,
    asking_after,
    record_answer,
    record_miss,
)


def test_misses_are_counted_per_question_until_the_default_is_assumed() -> None:
    retries: dict[str, int] = {"density": 1}
    for expected in range(1, TRIES_BEFORE_EXPLAINING + 1):
        miss = record_miss(retries, "startup")
        assert (miss.retries["startup"], miss.assume_default) == (expected, False)
        retries = miss.retries
    last = record_miss(retries, "startup")
    assert last.assume_default and last.retries == {"density": 1}


def test_an_answer_clears_only_its_own_misses() -> None:
    assert record_answer({"density": 1, "startup": 2}, "startup") == {"density": 1}
    assert record_answer({}, "startup") == {}


@pytest.mark.parametrize(
    ("misses", "asking"),
    [(0, Asking(said_before=(), explained=False)),
     (1, Asking(said_before=("utter_advisor_retry",), explained=False)),
     (TRIES_BEFORE_EXPLAINING,
      Asking(said_before=("utter_advisor_offer_person",), explained=True))],
)
def test_the_question_is_asked_again_then_explained(misses: int, asking: Asking) -> None:
    assert asking_after(misses) == asking
