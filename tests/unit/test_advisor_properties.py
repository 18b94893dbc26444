"""Properties the advisor promises whatever the workload (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.advisor.engine import recommend
from bot.advisor.profile import (
    BOOL_FIELDS,
    ENUM_FIELDS,
    ISOLATION_LEVELS,
    WorkloadProfile,
)
from bot.advisor.rules import load_rules

RULES = load_rules()
RULES_RELOADED = load_rules()
# How far a verdict is from plain containers.
DISTANCE_FROM_CONTAINERS = {"container": 0, "hybrid": 1, "vm": 2}


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


profiles = st.builds(
    WorkloadProfile,
    **{name: _maybe(st.sampled_from(values)) for name, values in ENUM_FIELDS.items()},
    **{name: _maybe(st.booleans()) for name in BOOL_FIELDS},
    workload_count=_maybe(st.integers(min_value=0, max_value=5000)),
    compliance=_maybe(
        st.lists(
            st.sampled_from(["pci", "hipaa", "gdpr", "soc2", "pci-dss"]), max_size=2, unique=True
        ).map(tuple)
    ),
)


@settings(max_examples=400)
@given(
    profile=profiles, low=st.sampled_from(ISOLATION_LEVELS), high=st.sampled_from(ISOLATION_LEVELS)
)
def test_raising_isolation_never_moves_toward_plain_containers(
    profile: WorkloadProfile, low: str, high: str
) -> None:
    low, high = sorted((low, high), key=ISOLATION_LEVELS.index)
    before = recommend(profile.replace(isolation=low), RULES)
    after = recommend(profile.replace(isolation=high), RULES)
    assert DISTANCE_FROM_CONTAINERS[after.verdict] >= DISTANCE_FROM_CONTAINERS[before.verdict]


@settings(max_examples=300)
@given(profile=profiles, os_mix=st.sampled_from(["windows_and_linux", "other_kernel"]))
def test_mixed_or_other_kernels_never_get_plain_containers(
    profile: WorkloadProfile, os_mix: str
) -> None:
    assert recommend(profile.replace(os_mix=os_mix), RULES).verdict != "container"


@settings(max_examples=300)
@given(profile=profiles)
def test_a_custom_kernel_never_gets_plain_containers(profile: WorkloadProfile) -> None:
    assert recommend(profile.replace(kernel_custom=True), RULES).verdict != "container"


@settings(max_examples=300)
@given(profile=profiles)
def test_untrusted_code_never_gets_plain_containers(profile: WorkloadProfile) -> None:
    assert recommend(profile.replace(isolation="untrusted"), RULES).verdict != "container"


@settings(max_examples=200)
@given(profile=profiles)
def test_the_result_is_deterministic(profile: WorkloadProfile) -> None:
    first = recommend(profile, RULES)
    assert recommend(profile, RULES) == first
    assert recommend(profile, RULES_RELOADED).to_dict() == first.to_dict()


@settings(max_examples=300)
@given(profile=profiles)
def test_every_result_is_well_formed(profile: WorkloadProfile) -> None:
    rec = recommend(profile, RULES)
    assert 0.0 <= rec.confidence <= 1.0
    assert 1 <= len(rec.reasons) <= 3
    assert (rec.hybrid_kind is not None) == (rec.verdict == "hybrid")
    assert rec.outcome not in rec.ruled_out
    if rec.alternative is not None:
        assert (rec.alternative.verdict, rec.alternative.hybrid_kind) != (
            rec.verdict,
            rec.hybrid_kind,
        )
