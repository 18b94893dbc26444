"""The retry policy: capped exponential backoff with jitter, Retry-After as a floor."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.leads.outbox import RetryPolicy

POLICY = RetryPolicy(max_attempts=5, base_seconds=2, cap_seconds=60, retry_after_cap_seconds=300)


@pytest.mark.parametrize(
    ("attempt", "delay"), [(1, 2), (2, 4), (3, 8), (4, 16), (5, 32), (6, 60), (20, 60)]
)
def test_delays_double_up_to_the_cap_with_equal_jitter(attempt: int, delay: float) -> None:
    rng = random.Random(attempt)
    samples = [POLICY.delay_after(attempt, rng=rng) for _ in range(200)]
    assert all(delay / 2 <= s <= delay for s in samples)
    assert max(samples) - min(samples) > delay / 4  # jitter actually spreads retries


@pytest.mark.parametrize(("retry_after", "floor"), [(90, 90), (1000, 300), (0, 0), (None, 0)])
def test_retry_after_is_a_floor_up_to_its_cap(retry_after: float | None, floor: float) -> None:
    delay = POLICY.delay_after(1, retry_after, random.Random(1))
    assert delay >= floor
    assert delay <= max(floor, 2)


def test_the_budget() -> None:
    assert not POLICY.budget_spent(4)
    assert POLICY.budget_spent(5)


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"base_seconds": -1}, {"base_seconds": 10, "cap_seconds": 5}]
)
def test_nonsense_policies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)
