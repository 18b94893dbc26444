"""The recommendation engine: a workload profile in, an explained recommendation out.

Pure functions over frozen dataclasses; the pulls, thresholds, constraints and texts all
come from `Rules` (see `rules.yml` for how a decision is made).

Version 2 keeps two sums instead of one score: how hard the workload pulls toward VMs
and how hard toward containers. One side clearly ahead wins; strong pulls on both sides
give a hybrid whose shape follows from which forces are present. A single signed score
could not say "both": one strong VM force drowned a strong density force.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.advisor.profile import FIELD_ORDER, WorkloadProfile
from bot.advisor.rules import FACT_FIELDS, FACT_ORDER, FACT_VALUES, HYBRID_KINDS, Rules
from bot.advisor.summary import RecommendationSummary

MAX_REASONS = 3
MAX_REASONS_PER_SIDE = 3
# Guard for `possible_outcomes`: beyond this many combinations it stops enumerating.
MAX_COMBINATIONS = 20_000
# How far each verdict is from plain containers (used to compare verdicts).
DISTANCE_FROM_CONTAINERS = {"container": 0, "hybrid": 1, "vm": 2}


@dataclass(frozen=True)
class Factor:
    """One fact's share of the decision: its pull toward each side.

    `points` is the net pull, signed as before v2: positive toward VMs, negative toward
    containers (kept for the scorecard's bars and older readers).
    """

    fact: str
    field: str
    value: str
    label: str
    toward_vm: float
    toward_container: float
    assumed: bool
    why: str

    @property
    def points(self) -> float:
        """The net pull: positive toward VMs, negative toward containers."""
        return round(self.toward_vm - self.toward_container, 6)


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
class OpenQuestion:
    """An unanswered profile field whose answer could change the outcome."""

    field: str
    could_lead_to: tuple[str, ...]  # outcomes (vm, container or a hybrid kind)


@dataclass(frozen=True)
class Recommendation:
    """An explained recommendation."""

    verdict: str
    hybrid_kind: str | None
    title: str
    confidence: float
    pull_vm: float
    pull_container: float
    balance: str
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
    def score(self) -> float:
        """The net pull (VMs minus containers), the single score of engine v1."""
        return round(self.pull_vm - self.pull_container, 6)

    @property
    def assumed(self) -> tuple[Factor, ...]:
        """Factors whose answer was unknown and took the default."""
        return tuple(f for f in self.factors if f.assumed)

    def side_reasons(self, side: str) -> tuple[str, ...]:
        """What pulls toward `side` (`vm` or `container`), strongest first."""
        pulls = [
            (f.toward_vm if side == "vm" else f.toward_container, index, f.why)
            for index, f in enumerate(self.factors)
            if f.why and (f.toward_vm if side == "vm" else f.toward_container) > 0
        ]
        pulls.sort(key=lambda item: (-item[0], item[1]))
        return tuple(why for _, _, why in pulls)

    def summary(self) -> RecommendationSummary:
        """What the leads, the CRM and Slack keep of it (they read it from `to_dict()`)."""
        return RecommendationSummary(self.verdict, self.hybrid_kind, self.title,
                                     self.confidence, self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the command line's and the chat's format).

        The keys of engine v1 keep their meaning; `pull`, `balance`, `sides` and the
        factors' `toward_vm` / `toward_container` were added with v2.
        """
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
            "pull": {"vm": self.pull_vm, "container": self.pull_container},
            "balance": self.balance,
            "sides": {
                "vm": list(self.side_reasons("vm")[:MAX_REASONS_PER_SIDE]),
                "container": list(self.side_reasons("container")[:MAX_REASONS_PER_SIDE]),
            },
            "factors": [
                {
                    "fact": f.fact,
                    "field": f.field,
                    "value": f.value,
                    "label": f.label,
                    "contribution": f.points,
                    "toward_vm": f.toward_vm,
                    "toward_container": f.toward_container,
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
    pull_vm: float
    pull_container: float
    balance_case: str  # a key of rules.balance_texts
    forced: bool  # plain containers won but were ruled out, or no hybrid fitted
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
        The recommendation: verdict, hybrid kind, confidence, the two pulls and what
        makes them up, reasons, the closest alternative and the offering.
    """
    facts, assumed = profile_facts(profile, rules)
    decision = _decide(facts, rules)
    factors = tuple(
        Factor(
            fact=fact,
            field=FACT_FIELDS[fact],
            value=facts[fact],
            label=rules.factors[fact][facts[fact]].label,
            toward_vm=rules.factors[fact][facts[fact]].vm,
            toward_container=rules.factors[fact][facts[fact]].container,
            assumed=fact in assumed,
            why=rules.factors[fact][facts[fact]].why,
        )
        for fact in FACT_ORDER
    )
    verdict = _verdict_of(decision.outcome)
    outcome = rules.outcomes[decision.outcome]
    return Recommendation(
        verdict=verdict,
        hybrid_kind=None if verdict != "hybrid" else decision.outcome,
        title=outcome.title,
        confidence=_confidence(decision, assumed, rules),
        pull_vm=decision.pull_vm,
        pull_container=decision.pull_container,
        balance=rules.balance_texts[decision.balance_case].format(
            vm=_number(decision.pull_vm), container=_number(decision.pull_container)
        ),
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
    profile: WorkloadProfile, open_fields: Iterable[str], rules: Rules,
    stop_at: int | None = None,
) -> frozenset[str] | None:
    """The outcomes still reachable whatever the answers to `open_fields` turn out to be.

    Lets the conversation stop asking once no remaining answer can change the result.

    Args:
        profile: What is known so far.
        open_fields: Profile fields not answered yet (facts fed by one field each).
        rules: The decision rules.
        stop_at: Stop enumerating once this many outcomes are found (the set is then
            partial): `stop_at=2` answers "is the outcome settled?" without trying
            every combination, which matters while most questions are still open.

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
    # A form turn asks this several times for the same answers (rasa-sdk calls
    # required_slots three times per validation), and each answer costs thousands of
    # decisions; the result depends only on the facts, the open facts and the rules.
    key = (id(rules), tuple(sorted(facts.items())), tuple(open_facts), stop_at)
    cached = _OUTCOMES.get(key)
    if cached is not None and cached[0] is rules:
        _OUTCOMES.move_to_end(key)
        return cached[1]
    outcomes: set[str] = set()
    for values in itertools.product(*(FACT_VALUES[f] for f in open_facts)):
        trial = {**facts, **dict(zip(open_facts, values, strict=True))}
        outcomes.add(_decide(trial, rules, detailed=False).outcome)
        if stop_at is not None and len(outcomes) >= stop_at:
            break
    result = frozenset(outcomes)
    _OUTCOMES[key] = (rules, result)
    while len(_OUTCOMES) > _OUTCOMES_SIZE:
        _OUTCOMES.popitem(last=False)
    return result


# possible_outcomes' memo: (id of the rules, facts, open facts, stop_at) -> (the rules,
# outcomes). The rules are kept in the value so that a reused id never answers for
# other rules.
_OUTCOMES_SIZE = 4096
_OUTCOMES: OrderedDict[
    tuple[int, tuple[tuple[str, str], ...], tuple[str, ...], int | None],
    tuple[Rules, frozenset[str]],
] = OrderedDict()


def questions_that_could_change(
    profile: WorkloadProfile, rules: Rules, fields: Iterable[str] | None = None
) -> tuple[OpenQuestion, ...]:
    """The unanswered fields whose answer alone could change the outcome, in report order.

    Each field is tried on its own with every value while the other unknowns keep their
    defaults, so the conversation can ask only what matters (and skip the rest).

    Args:
        profile: What is known so far.
        rules: The decision rules.
        fields: The fields to consider (default: every profile field); answered ones
            are skipped.

    Returns:
        One `OpenQuestion` per field that could change the outcome, with the outcomes
        its answers would lead to (never including the current one).
    """
    candidates = FIELD_ORDER if fields is None else tuple(fields)
    facts, _ = profile_facts(profile, rules)
    decision = _decide(facts, rules)
    current = decision.outcome
    questions: list[OpenQuestion] = []
    for field in FIELD_ORDER:
        if field not in candidates or profile.get(field) is not None:
            continue
        reachable: list[str] = []
        for fact in (f for f in FACT_ORDER if FACT_FIELDS[f] == field):
            for value in FACT_VALUES[fact]:
                outcome = _with_changed_fact(facts, fact, value, decision, rules).outcome
                if outcome != current and outcome not in reachable:
                    reachable.append(outcome)
        if reachable:
            questions.append(OpenQuestion(field, tuple(reachable)))
    return tuple(questions)


def _verdict_of(outcome: str) -> str:
    return outcome if outcome in ("vm", "container") else "hybrid"


def _number(value: float) -> str:
    return f"{value:g}"


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


def _pulls(facts: Mapping[str, str], rules: Rules) -> tuple[float, float]:
    # Summed in the fixed fact order so that the result never depends on the order in
    # which the answers arrived.
    vm = sum(rules.factors[f][facts[f]].vm for f in FACT_ORDER)
    container = sum(rules.factors[f][facts[f]].container for f in FACT_ORDER)
    return round(vm, 6), round(container, 6)


def _decide(
    facts: Mapping[str, str],
    rules: Rules,
    pulls: tuple[float, float] | None = None,
    detailed: bool = True,
) -> _Decision:
    # `pulls` lets callers that change one fact pass the updated sums instead of
    # adding everything up again, and `detailed=False` skips what only the explanation
    # needs: the alternatives try every value of every fact, so this keeps a
    # recommendation well under a millisecond.
    vm, container = pulls if pulls is not None else _pulls(facts, rules)
    side, case = _side_of(vm, container, rules)
    if side == "vm" and not detailed:
        # VMs are never ruled out, so the outcome is settled without the constraints.
        return _Decision("vm", vm, container, case, False, frozenset(), (), "", False)
    ruled_out: set[str] = set()
    constraint_whys: list[str] = []
    for constraint in rules.constraints:
        if constraint.when.holds(facts):
            ruled_out |= constraint.rules_out
            constraint_whys.append(constraint.why)
    ruled = frozenset(ruled_out)
    whys = tuple(constraint_whys)

    if side == "vm":
        return _Decision("vm", vm, container, case, False, ruled, whys, "", False)
    if side == "container" and "container" not in ruled:
        return _Decision("container", vm, container, case, False, ruled, whys, "", False)
    forced = side == "container"
    if forced:
        case = "containers_ruled_out"
    for kind in rules.hybrid_kinds:
        if kind.kind not in ruled and kind.when.holds(facts):
            return _Decision(
                kind.kind, vm, container, case, forced, ruled, whys, kind.why, kind.is_specific
            )
    # No hybrid fits: a VM is the answer of last resort.
    return _Decision("vm", vm, container, "no_hybrid_fits", True, ruled, whys, "", False)


def _side_of(vm: float, container: float, rules: Rules) -> tuple[str, str]:
    """Where the two pulls put the verdict: (`vm` | `container` | `hybrid`, balance case).

    Monotone by construction: more pull toward one side never moves the answer toward
    the other (a property test checks it).
    """
    decision = rules.decision
    lead = vm - container
    if vm >= decision.strong_pull_at and container >= decision.strong_pull_at:
        if lead >= decision.overwhelming_lead:
            return "vm", "both_strong_vm_overwhelms"
        if -lead >= decision.overwhelming_lead:
            return "container", "both_strong_container_overwhelms"
        return "hybrid", "both_strong"
    # A tie goes to VMs: the answer that is never wrong on isolation.
    if lead >= 0:
        return "vm", "vm_ahead" if lead >= decision.clear_lead else "close_call_vm"
    return "container", "container_ahead" if -lead >= decision.clear_lead else (
        "close_call_container"
    )


def _confidence(decision: _Decision, assumed: frozenset[str], rules: Rules) -> float:
    conf = rules.confidence
    margin_lead = abs(decision.pull_vm - decision.pull_container)
    if decision.forced:
        # The further containers led, the surer that the constraint decided it.
        value = conf.forced_hybrid + conf.per_point_of_margin * max(
            0.0, decision.pull_container - decision.pull_vm - rules.decision.clear_lead
        )
    elif decision.balance_case == "both_strong":
        weaker = min(decision.pull_vm, decision.pull_container)
        value = conf.both_strong + conf.per_point_of_margin * (
            weaker - rules.decision.strong_pull_at
        )
    else:
        value = conf.one_side_ahead + conf.per_point_of_margin * margin_lead
    if decision.specific_kind:
        value += conf.specific_kind_bonus
    value -= conf.penalty_per_assumed_answer * len(assumed & conf.counted_when_assumed)
    return round(min(conf.highest, max(conf.lowest, value)), 2)


def _reasons(decision: _Decision, factors: tuple[Factor, ...]) -> tuple[str, ...]:
    reasons: list[str] = []
    given = [f for f in factors if f.why and not f.assumed]
    toward_vm = sorted((f for f in given if f.toward_vm > 0), key=lambda f: -f.toward_vm)
    toward_container = sorted(
        (f for f in given if f.toward_container > 0), key=lambda f: -f.toward_container
    )

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


def _with_changed_fact(
    facts: Mapping[str, str], fact: str, value: str, decision: _Decision, rules: Rules
) -> _Decision:
    current, other = rules.factors[fact][facts[fact]], rules.factors[fact][value]
    pulls = (
        round(decision.pull_vm - current.vm + other.vm, 6),
        round(decision.pull_container - current.container + other.container, 6),
    )
    return _decide({**facts, fact: value}, rules, pulls, detailed=False)


def _alternative(facts: Mapping[str, str], decision: _Decision, rules: Rules) -> Alternative | None:
    """The outcome reached by the smallest change of one answer, with what would change.

    Slight changes (moving the pulls by less than `rules.alternative_min_shift` in all)
    are skipped: "VMs would win if you needed GPUs" on a knife-edge explains nothing.
    """
    candidates: list[tuple[float, int, int, str, str, str]] = []
    for fact_index, fact in enumerate(rules.alternative_fact_order):
        current = rules.factors[fact][facts[fact]]
        for value_index, value in enumerate(FACT_VALUES[fact]):
            if value == facts[fact]:
                continue
            other = rules.factors[fact][value]
            shift = abs(other.vm - current.vm) + abs(other.container - current.container)
            if shift < rules.alternative_min_shift:
                continue
            outcome = _with_changed_fact(facts, fact, value, decision, rules).outcome
            if outcome == decision.outcome:
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
    verdict = _verdict_of(best_outcome)
    return Alternative(
        verdict=verdict,
        hybrid_kind=None if verdict != "hybrid" else best_outcome,
        title=rules.outcomes[best_outcome].title,
        when=tuple(rules.factors[f][v].label for f, v in changes),
        changes=tuple(changes),
    )
