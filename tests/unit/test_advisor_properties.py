"""Properties the advisor promises whatever the workload (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.advisor.engine import DISTANCE_FROM_CONTAINERS, recommend
from bot.advisor.profile import (
    BOOL_FIELDS,
    ENUM_FIELDS,
    FIELD_ORDER,
    ISOLATION_LEVELS,
    WorkloadProfile,
    parse_profile,
)
from bot.advisor.rules import FACT_FIELDS, FACT_VALUES, load_rules

RULES = load_rules()
RULES_RELOADED = load_rules()

# A representative answer per fact value (derived facts need their own field values).
_FIELD_VALUE_FOR_FACT: dict[str, dict[str, Any]] = {
    "estate": {"small": 2, "medium": 10, "large": 100},
    "compliance": {"none": [], "other": ["gdpr"], "regulated": ["pci"]},
}


def _field_value(fact: str, value: str) -> Any:
    if fact in _FIELD_VALUE_FOR_FACT:
        return _FIELD_VALUE_FOR_FACT[fact][value]
    return {"true": True, "false": False}.get(value, value)


def _one_sided_changes() -> list[tuple[str, str, str, str]]:
    """(fact, from, to, side): changes that add pull toward `side` and none to the other.

    Read from the rules themselves, so a new factor or a changed weight is covered.
    """
    changes = []
    for fact, values in FACT_VALUES.items():
        for before in values:
            for after in values:
                if before == after:
                    continue
                a, b = RULES.factors[fact][before], RULES.factors[fact][after]
                if b.vm >= a.vm and b.container <= a.container and (b.vm, b.container) != (
                    a.vm,
                    a.container,
                ):
                    changes.append((fact, before, after, "vm"))
    return changes + [(f, after, before, "container") for f, before, after, _ in changes]


ONE_SIDED_CHANGES = _one_sided_changes()


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
    rec = recommend(profile.replace(isolation="untrusted"), RULES)
    assert rec.verdict != "container"
    # Nor plain containers dressed as a hybrid: the shape keeps a kernel boundary.
    assert rec.hybrid_kind not in ("containers_on_vms", "split")


@settings(max_examples=1500)
@given(profile=profiles, change=st.sampled_from(ONE_SIDED_CHANGES))
def test_a_force_toward_one_side_never_moves_the_verdict_toward_the_other(
    profile: WorkloadProfile, change: tuple[str, str, str, str]
) -> None:
    fact, before, after, side = change
    field = FACT_FIELDS[fact]
    old = recommend(profile.replace(**{field: _field_value(fact, before)}), RULES)
    new = recommend(profile.replace(**{field: _field_value(fact, after)}), RULES)
    moved = DISTANCE_FROM_CONTAINERS[new.verdict] - DISTANCE_FROM_CONTAINERS[old.verdict]
    if side == "vm":
        assert moved >= 0, (fact, before, after, old.outcome, new.outcome)
    else:
        assert moved <= 0, (fact, before, after, old.outcome, new.outcome)


@settings(max_examples=300)
@given(profile=profiles, seed=st.randoms(use_true_random=False))
def test_the_order_of_the_answers_does_not_matter(profile: WorkloadProfile, seed: Any) -> None:
    answers = list(profile.to_dict().items())
    seed.shuffle(answers)
    reordered = parse_profile(dict(answers))
    assert recommend(reordered, RULES).to_dict() == recommend(profile, RULES).to_dict()
    # Nor does the order in which they were given one at a time.
    built = WorkloadProfile()
    for field, value in answers:
        built = built.replace(**{field: value})
    assert recommend(built, RULES).to_dict() == recommend(profile, RULES).to_dict()


def test_every_one_sided_change_is_tested() -> None:
    # Every fact with more than one distinct pull has a one-sided change to try.
    facts = {fact for fact, *_ in ONE_SIDED_CHANGES}
    assert {"isolation", "os_mix", "density", "traffic", "privileged", "licences",
            "work_pattern", "os_patching"} <= facts  # fmt: skip
    assert set(FIELD_ORDER) >= {FACT_FIELDS[f] for f in facts}


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
