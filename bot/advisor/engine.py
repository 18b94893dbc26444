"""The recommendation engine: a workload profile in, an explained recommendation out.

Pure functions over frozen dataclasses; the weights, thresholds, constraints and texts
all come from `Rules` (see `rules.yml` for how a decision is made).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.advisor.profile import WorkloadProfile
from bot.advisor.rules import FACT_FIELDS, FACT_ORDER, FACT_VALUES, HYBRID_KINDS, Rules

MAX_REASONS = 3
# Guard for `possible_outcomes`: beyond this many combinations it stops enumerating.
MAX_COMBINATIONS = 20_000


@dataclass(frozen=True)
class Factor:
    """One fact's share of the decision.

    `points` is signed: positive pushes toward VMs, negative toward containers.
    """

    fact: str
    field: str
    value: str
    label: str
    points: float
    assumed: bool
    why: str


@dataclass(frozen=True)
class Alternative:
    """The closest other outcome and the changes that would make it win."""

    verdict: str
    hybrid_kind: str | None
    title: str
    when: tuple[str, ...]
    changes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Offering:
    """The product to suggest for the recommendation."""

    name: str
    summary: str


@dataclass(frozen=True)
class Recommendation:
    """An explained recommendation."""

    verdict: str
    hybrid_kind: str | None
    title: str
    confidence: float
    score: float
    factors: tuple[Factor, ...]
    reasons: tuple[str, ...]
    alternative: Alternative | None
    offering: Offering
    ruled_out: tuple[str, ...]
    profile: WorkloadProfile

    @property
    def outcome(self) -> str:
        """`vm`, `container` or the hybrid kind."""
        return self.hybrid_kind or self.verdict

    @property
    def assumed(self) -> tuple[Factor, ...]:
        """Factors whose answer was unknown and took the default."""
        return tuple(f for f in self.factors if f.assumed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the command line's and the chat's format)."""
        alternative = None
        if self.alternative is not None:
            alternative = {
                "verdict": self.alternative.verdict,
                "hybrid_kind": self.alternative.hybrid_kind,
                "title": self.alternative.title,
                "when": list(self.alternative.when),
                "changes": [{"fact": f, "value": v} for f, v in self.alternative.changes],
            }
        return {
            "verdict": self.verdict,
            "hybrid_kind": self.hybrid_kind,
            "title": self.title,
            "confidence": self.confidence,
            "score": self.score,
            "factors": [
                {
                    "fact": f.fact,
                    "field": f.field,
                    "value": f.value,
                    "label": f.label,
                    "contribution": f.points,
                    "assumed": f.assumed,
                }
                for f in self.factors
            ],
            "reasons": list(self.reasons),
            "alternative": alternative,
            "offering": {"name": self.offering.name, "summary": self.offering.summary},
            "assumed": [f.fact for f in self.assumed],
            "ruled_out": list(self.ruled_out),
            "profile": self.profile.to_dict(),
        }


@dataclass(frozen=True)
class _Decision:
    outcome: str
    score: float
    band: str  # where the score alone falls: vm | hybrid | container
    forced: bool  # plain containers won on points but were ruled out
    ruled_out: frozenset[str]
    constraint_whys: tuple[str, ...]
    kind_why: str
    specific_kind: bool


def recommend(profile: WorkloadProfile, rules: Rules) -> Recommendation:
    """Recommend VMs, containers or a hybrid for `profile`, with the reasons.

    Args:
        profile: The workload; unknown fields take the rules' defaults.
        rules: The decision rules (see `bot.advisor.rules.load_rules`).

    Returns:
        The recommendation: verdict, hybrid kind, confidence, signed factors, reasons,
        the closest alternative and the offering.
    """
    facts, assumed = profile_facts(profile, rules)
    decision = _decide(facts, rules)
    factors = tuple(
        Factor(
            fact=fact,
            field=FACT_FIELDS[fact],
            value=facts[fact],
            label=rules.factors[fact][facts[fact]].label,
            points=rules.factors[fact][facts[fact]].points,
            assumed=fact in assumed,
            why=rules.factors[fact][facts[fact]].why,
        )
        for fact in FACT_ORDER
    )
    verdict = decision.outcome if decision.outcome in ("vm", "container") else "hybrid"
    outcome = rules.outcomes[decision.outcome]
    return Recommendation(
        verdict=verdict,
        hybrid_kind=None if verdict != "hybrid" else decision.outcome,
        title=outcome.title,
        confidence=_confidence(decision, assumed, rules),
        score=decision.score,
        factors=factors,
        reasons=_reasons(decision, factors),
        alternative=_alternative(facts, decision, rules),
        offering=Offering(outcome.offering, outcome.offering_summary),
        ruled_out=tuple(o for o in ("container", *HYBRID_KINDS) if o in decision.ruled_out),
        profile=profile,
    )


def profile_facts(profile: WorkloadProfile, rules: Rules) -> tuple[dict[str, str], frozenset[str]]:
    """The facts the rules test, and the names of those that took a default.

    Returns:
        (facts, assumed): every fact in `FACT_VALUES` with a value; `assumed` lists
        the facts whose profile field was unknown.
    """
    facts: dict[str, str] = {}
    assumed: set[str] = set()
    for fact in FACT_VALUES:
        value = _fact_value(fact, profile, rules)
        if value is None:
            assumed.add(fact)
            value = rules.defaults[fact]
        facts[fact] = value
    return facts, frozenset(assumed)


def possible_outcomes(
    profile: WorkloadProfile, open_fields: Iterable[str], rules: Rules
) -> frozenset[str] | None:
    """The outcomes still reachable whatever the answers to `open_fields` turn out to be.

    Lets the conversation stop asking once no remaining answer can change the result.

    Args:
        profile: What is known so far.
        open_fields: Profile fields not answered yet (facts fed by one field each).
        rules: The decision rules.

    Returns:
        The set of reachable outcomes (`vm`, `container` or a hybrid kind), or None
        when there are too many combinations to check.
    """
    facts, _ = profile_facts(profile, rules)
    open_facts = [f for f in FACT_ORDER if FACT_FIELDS[f] in set(open_fields)]
    combinations = 1
    for fact in open_facts:
        combinations *= len(FACT_VALUES[fact])
    if combinations > MAX_COMBINATIONS:
        return None
    outcomes: set[str] = set()
    for values in itertools.product(*(FACT_VALUES[f] for f in open_facts)):
        trial = {**facts, **dict(zip(open_facts, values, strict=True))}
        outcomes.add(_decide(trial, rules).outcome)
    return frozenset(outcomes)


def _fact_value(fact: str, profile: WorkloadProfile, rules: Rules) -> str | None:
    if fact == "estate":
        count = profile.workload_count
        if count is None:
            return None
        if count <= rules.estate_small_at_most:
            return "small"
        if count >= rules.estate_large_at_least:
            return "large"
        return "medium"
    if fact == "compliance":
        names = profile.compliance
        if names is None:
            return None
        standards = {rules.compliance_aliases.get(name, name) for name in names} - {"none"}
        if not standards:
            return "none"
        return "regulated" if standards & rules.regulated_standards else "other"
    value = profile.get(fact)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decide(facts: Mapping[str, str], rules: Rules) -> _Decision:
    score = round(sum(rules.factors[f][v].points for f, v in facts.items()), 6)
    ruled_out: set[str] = set()
    constraint_whys: list[str] = []
    for constraint in rules.constraints:
        if constraint.when.holds(facts):
            ruled_out |= constraint.rules_out
            constraint_whys.append(constraint.why)

    if score >= rules.vm_at_or_above:
        band = "vm"
    elif score <= rules.container_at_or_below:
        band = "container"
    else:
        band = "hybrid"

    ruled = frozenset(ruled_out)
    whys = tuple(constraint_whys)
    if band == "vm":
        return _Decision("vm", score, band, False, ruled, whys, "", False)
    if band == "container" and "container" not in ruled_out:
        return _Decision("container", score, band, False, ruled, whys, "", False)
    forced = band == "container"
    for kind in rules.hybrid_kinds:
        if kind.kind not in ruled_out and kind.when.holds(facts):
            return _Decision(
                kind.kind, score, band, forced, ruled, whys, kind.why, kind.is_specific
            )
    # No hybrid fits: a VM is the answer of last resort.
    return _Decision("vm", score, band, forced, ruled, whys, "", False)


def _confidence(decision: _Decision, assumed: frozenset[str], rules: Rules) -> float:
    conf = rules.confidence
    vm_at, container_at = rules.vm_at_or_above, rules.container_at_or_below
    if decision.band == "vm":
        value = conf.at_threshold + conf.per_point_of_margin * (decision.score - vm_at)
    elif decision.band == "container" and not decision.forced:
        value = conf.at_threshold + conf.per_point_of_margin * (container_at - decision.score)
    elif decision.forced:
        # The deeper into container territory, the surer that a constraint decided it.
        value = conf.forced_hybrid + conf.per_point_of_margin * (container_at - decision.score)
    else:
        margin = min(decision.score - container_at, vm_at - decision.score)
        value = conf.balanced_hybrid + conf.per_point_of_margin * margin
    if decision.specific_kind:
        value += conf.specific_kind_bonus
    value -= conf.penalty_per_assumed_answer * len(assumed & conf.counted_when_assumed)
    return round(min(conf.highest, max(conf.lowest, value)), 2)


def _reasons(decision: _Decision, factors: tuple[Factor, ...]) -> tuple[str, ...]:
    reasons: list[str] = []
    given = [f for f in factors if f.why and not f.assumed]
    toward_vm = sorted((f for f in given if f.points > 0), key=lambda f: -f.points)
    toward_container = sorted((f for f in given if f.points < 0), key=lambda f: f.points)

    if decision.outcome == "container":
        reasons += [f.why for f in toward_container]
    elif decision.outcome == "vm":
        reasons += [f.why for f in toward_vm]
        reasons += list(decision.constraint_whys)
    else:
        # A hybrid: say which kind and why, then what pulled each way.
        reasons.append(decision.kind_why)
        if decision.forced:
            reasons += list(decision.constraint_whys)
        reasons += [f.why for f in toward_vm[:1]]
        reasons += [f.why for f in toward_container[:1]]
    if not reasons:
        # Everything was assumed: explain with the assumptions rather than say nothing.
        reasons += [f.why for f in factors if f.why]
    unique = list(dict.fromkeys(r for r in reasons if r))
    return tuple(unique[:MAX_REASONS])


def _alternative(facts: Mapping[str, str], decision: _Decision, rules: Rules) -> Alternative | None:
    """The outcome reached by the smallest change of one answer, with what would change.

    Slight changes (below `rules.alternative_min_shift` points) are skipped: "VMs would
    win if you needed GPUs" on a knife-edge score explains nothing.
    """
    candidates: list[tuple[float, int, int, str, str, str]] = []
    for fact_index, fact in enumerate(rules.alternative_fact_order):
        current = rules.factors[fact][facts[fact]].points
        for value_index, value in enumerate(FACT_VALUES[fact]):
            if value == facts[fact]:
                continue
            outcome = _decide({**facts, fact: value}, rules).outcome
            if outcome == decision.outcome:
                continue
            shift = abs(rules.factors[fact][value].points - current)
            if shift < rules.alternative_min_shift:
                continue
            candidates.append((shift, fact_index, value_index, fact, value, outcome))
    if not candidates:
        return None
    candidates.sort()
    best_outcome = candidates[0][5]
    changes: list[tuple[str, str]] = []
    for *_, fact, value, outcome in candidates:
        if outcome == best_outcome and fact not in {f for f, _ in changes}:
            changes.append((fact, value))
        if len(changes) == 2:
            break
    verdict = best_outcome if best_outcome in ("vm", "container") else "hybrid"
    return Alternative(
        verdict=verdict,
        hybrid_kind=None if verdict != "hybrid" else best_outcome,
        title=rules.outcomes[best_outcome].title,
        when=tuple(rules.factors[f][v].label for f, v in changes),
        changes=tuple(changes),
    )
