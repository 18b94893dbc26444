"""Load and check the advisor's decision rules (`rules.yml`).

The rules are data that a sales engineer can change; this module turns the YAML into
frozen dataclasses and rejects anything the engine could not use, with an error that
names the place in the file.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.advisor.profile import BOOL_FIELDS, ENUM_FIELDS
from bot.offerings import load_catalogue

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.yml")
RULES_VERSION = 2

HYBRID_KINDS = ("containers_on_vms", "sandboxed_containers", "microvms", "split")
OUTCOMES = ("vm", "container", *HYBRID_KINDS)
SIDES = ("vm", "container")

# Facts the rules can test and their values. Most are the profile's own fields; two are
# derived (estate from workload_count, compliance from the list of standards).
FACT_VALUES: Mapping[str, tuple[str, ...]] = {
    **{name: values for name, values in ENUM_FIELDS.items()},
    **{name: ("true", "false") for name in BOOL_FIELDS},
    "estate": ("small", "medium", "large"),
    "compliance": ("none", "other", "regulated"),
}
# The profile field each fact comes from.
FACT_FIELDS: Mapping[str, str] = {
    **{name: name for name in ENUM_FIELDS},
    **{name: name for name in BOOL_FIELDS},
    "estate": "workload_count",
    "compliance": "compliance",
}
# Report order of the facts.
FACT_ORDER = (
    "isolation",
    "os_mix",
    "kernel_custom",
    "density",
    "estate",
    "startup",
    "legacy",
    "stateful",
    "gpu",
    "compliance",
    "team_containers",
    "traffic",
    "privileged",
    "os_patching",
    "licences",
    "work_pattern",
)
# The explanations of where the verdict falls; each may use {vm} and {container}.
BALANCE_CASES = (
    "vm_ahead",
    "container_ahead",
    "close_call_vm",
    "close_call_container",
    "both_strong",
    "both_strong_vm_overwhelms",
    "both_strong_container_overwhelms",
    "containers_ruled_out",
    "no_hybrid_fits",
)


class RulesError(ValueError):
    """The rules file is missing, unreadable or inconsistent; the message says where."""


@dataclass(frozen=True)
class FactorValue:
    """How hard one value of one fact pulls toward each side, and its texts.

    Both pulls are 0 or more: a value can pull one way, both ways (GPUs) or not at all.
    """

    vm: float
    container: float
    label: str
    why: str

    @property
    def points(self) -> float:
        """The net pull, signed as before v2: positive toward VMs, negative toward containers."""
        return round(self.vm - self.container, 6)


@dataclass(frozen=True)
class Condition:
    """All listed facts must have one of the listed values (an empty condition holds)."""

    facts: Mapping[str, frozenset[str]]

    def holds(self, facts: Mapping[str, str]) -> bool:
        """True when every fact named by the condition has one of its values."""
        return all(facts[name] in values for name, values in self.facts.items())


@dataclass(frozen=True)
class Constraint:
    """Outcomes ruled out whenever `when` holds."""

    id: str
    when: Condition
    rules_out: frozenset[str]
    why: str


@dataclass(frozen=True)
class HybridKindRule:
    """A hybrid kind and the situation it fits."""

    kind: str
    when: Condition
    why: str

    @property
    def is_specific(self) -> bool:
        """True when the kind fits a particular situation rather than any workload."""
        return bool(self.when.facts)


@dataclass(frozen=True)
class Outcome:
    """What the visitor sees for an outcome, and the offering to suggest.

    The products are named in `bot/offerings.yml` (the one description of what we
    sell); an outcome lists their keys and says how it would use them.
    """

    title: str
    offering: str  # the products' names, from bot/offerings.yml
    offering_summary: str
    offering_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionRules:
    """Where the two pulls put the verdict (see `decision` in rules.yml)."""

    strong_pull_at: float
    overwhelming_lead: float
    clear_lead: float


@dataclass(frozen=True)
class ConfidenceRules:
    """Numbers that turn a decision into a confidence between 0 and 1."""

    one_side_ahead: float
    both_strong: float
    forced_hybrid: float
    specific_kind_bonus: float
    per_point_of_margin: float
    penalty_per_assumed_answer: float
    counted_when_assumed: frozenset[str]
    lowest: float
    highest: float


@dataclass(frozen=True)
class Rules:
    """The advisor's decision rules, checked and ready for the engine."""

    decision: DecisionRules
    defaults: Mapping[str, str]
    estate_small_at_most: int
    estate_large_at_least: int
    regulated_standards: frozenset[str]
    compliance_aliases: Mapping[str, str]
    factors: Mapping[str, Mapping[str, FactorValue]]
    constraints: tuple[Constraint, ...]
    hybrid_kinds: tuple[HybridKindRule, ...]
    outcomes: Mapping[str, Outcome]
    balance_texts: Mapping[str, str]
    confidence: ConfidenceRules
    # Alternatives reached by a smaller change of pulls than this are not worth mentioning.
    alternative_min_shift: float
    # Facts in the order their changes are preferred when shifts are equal.
    alternative_fact_order: tuple[str, ...]


def load_rules(path: Path | str | None = None) -> Rules:
    """Read and check the rules file.

    Args:
        path: The YAML file; the packaged `rules.yml` when omitted.

    Returns:
        The checked rules.

    Raises:
        RulesError: The file cannot be read or parsed, or breaks a rule of the format;
            the message names the file and the place in it.
    """
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the advisor rules: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_rules(data)
    except RulesError as exc:
        raise RulesError(f"{path}: {exc}") from exc


def parse_rules(data: Any) -> Rules:
    """Check an already-parsed rules document and build `Rules` from it.

    Raises:
        RulesError: The message starts with the dotted place of the problem.
    """
    root = _mapping(data, "the document")
    if root.get("version") != RULES_VERSION:
        raise RulesError(f"version: must be {RULES_VERSION}")
    decision = _parse_decision(root.get("decision"))
    factors = _parse_factors(root.get("factors"))
    defaults = _parse_defaults(root.get("defaults"))
    estate = _mapping(root.get("estate"), "estate")
    small = _whole(estate.get("small_at_most"), "estate.small_at_most")
    large = _whole(estate.get("large_at_least"), "estate.large_at_least")
    if large <= small:
        raise RulesError("estate: large_at_least must be greater than small_at_most")
    compliance = _mapping(root.get("compliance"), "compliance")
    regulated = frozenset(
        _text(item, f"compliance.regulated[{i}]").lower()
        for i, item in enumerate(_sequence(compliance.get("regulated"), "compliance.regulated"))
    )
    aliases = {
        _text(key, "compliance.aliases").lower(): _text(value, f"compliance.aliases.{key}").lower()
        for key, value in _mapping(compliance.get("aliases", {}), "compliance.aliases").items()
    }

    alternatives = _mapping(root.get("alternatives"), "alternatives")
    return Rules(
        decision=decision,
        defaults=defaults,
        estate_small_at_most=small,
        estate_large_at_least=large,
        regulated_standards=regulated,
        compliance_aliases=aliases,
        factors=factors,
        constraints=_parse_constraints(root.get("constraints")),
        hybrid_kinds=_parse_hybrid_kinds(root.get("hybrid_kinds")),
        outcomes=_parse_outcomes(root.get("outcomes")),
        balance_texts=_parse_balance_texts(root.get("balance")),
        confidence=_parse_confidence(root.get("confidence")),
        alternative_min_shift=_number(
            alternatives.get("ignore_shifts_below"), "alternatives.ignore_shifts_below"
        ),
        alternative_fact_order=_parse_fact_order(alternatives.get("prefer_changes_to")),
    )


def _parse_decision(raw: Any) -> DecisionRules:
    section = _mapping(raw, "decision")

    def positive(key: str) -> float:
        value = _number(section.get(key), f"decision.{key}")
        if value <= 0:
            raise RulesError(f"decision.{key}: must be greater than 0, got {value}")
        return value

    rules = DecisionRules(
        strong_pull_at=positive("strong_pull_at"),
        overwhelming_lead=positive("overwhelming_lead"),
        clear_lead=positive("clear_lead"),
    )
    if rules.overwhelming_lead < rules.clear_lead:
        raise RulesError("decision: overwhelming_lead must not be lower than clear_lead")
    return rules


def _parse_factors(raw: Any) -> dict[str, dict[str, FactorValue]]:
    section = _mapping(raw, "factors")
    _only_known_keys(section, FACT_VALUES, "factors", "facts")
    factors: dict[str, dict[str, FactorValue]] = {}
    for fact, values in FACT_VALUES.items():
        where = f"factors.{fact}"
        entries = {
            _value_key(key): entry for key, entry in _mapping(section.get(fact), where).items()
        }
        _only_known_keys(entries, values, where, "values")
        factors[fact] = {}
        for value in values:
            if value not in entries:
                raise RulesError(f"{where}.{value}: missing (every value needs its pulls)")
            entry = _mapping(entries[value], f"{where}.{value}")
            _only_known_keys(entry, ("vm", "container", "label", "why"), f"{where}.{value}", "keys")
            pulls = {}
            for side in SIDES:
                pull = _number(entry.get(side, 0), f"{where}.{value}.{side}")
                if pull < 0:
                    raise RulesError(
                        f"{where}.{value}.{side}: must be 0 or more (a pull has a side, not a sign)"
                    )
                pulls[side] = pull
            label = _text(entry.get("label"), f"{where}.{value}.label")
            why = entry.get("why", "")
            if (pulls["vm"] or pulls["container"]) and not why:
                raise RulesError(f"{where}.{value}.why: needed when a pull is not 0")
            factors[fact][value] = FactorValue(
                pulls["vm"], pulls["container"], label, _text(why, f"{where}.{value}.why", True)
            )
    # A safety property the product promises: asking for more isolation never makes
    # plain containers more likely.
    ordered = [factors["isolation"][v] for v in FACT_VALUES["isolation"]]
    for weaker, stronger in itertools.pairwise(ordered):
        if stronger.vm < weaker.vm or stronger.container > weaker.container:
            raise RulesError(
                "factors.isolation: from low to untrusted the pull toward VMs must not "
                "shrink and the pull toward containers must not grow "
                "(more isolation must never favour containers)"
            )
    return factors


def _parse_defaults(raw: Any) -> dict[str, str]:
    section = _mapping(raw, "defaults")
    _only_known_keys(section, FACT_VALUES, "defaults", "facts")
    defaults: dict[str, str] = {}
    for fact, values in FACT_VALUES.items():
        if fact not in section:
            raise RulesError(f"defaults.{fact}: missing (needed when the answer is unknown)")
        value = _value_key(section[fact])
        if value not in values:
            raise RulesError(
                f"defaults.{fact}: {section[fact]!r} is not allowed; allowed: {', '.join(values)}"
            )
        defaults[fact] = value
    return defaults


def _parse_condition(raw: Any, where: str) -> Condition:
    section = _mapping(raw, where)
    _only_known_keys(section, FACT_VALUES, where, "facts")
    facts: dict[str, frozenset[str]] = {}
    for fact, values in section.items():
        listed = [_value_key(v) for v in _sequence(values, f"{where}.{fact}")]
        if not listed:
            raise RulesError(f"{where}.{fact}: list at least one value")
        for value in listed:
            if value not in FACT_VALUES[fact]:
                raise RulesError(
                    f"{where}.{fact}: {value!r} is not allowed; "
                    f"allowed: {', '.join(FACT_VALUES[fact])}"
                )
        facts[fact] = frozenset(listed)
    return Condition(facts)


def _parse_constraints(raw: Any) -> tuple[Constraint, ...]:
    constraints: list[Constraint] = []
    seen: set[str] = set()
    for i, item in enumerate(_sequence(raw, "constraints")):
        where = f"constraints[{i}]"
        entry = _mapping(item, where)
        ident = _text(entry.get("id"), f"{where}.id")
        if ident in seen:
            raise RulesError(f"{where}.id: {ident!r} is used twice")
        seen.add(ident)
        ruled_out = [
            _text(o, f"{where}.rules_out")
            for o in _sequence(entry.get("rules_out"), f"{where}.rules_out")
        ]
        for outcome in ruled_out:
            if outcome == "vm":
                raise RulesError(
                    f"{where}.rules_out: vm cannot be ruled out (it is the last resort)"
                )
            if outcome not in OUTCOMES:
                raise RulesError(
                    f"{where}.rules_out: {outcome!r} is not an outcome; "
                    f"allowed: {', '.join(OUTCOMES[1:])}"
                )
        constraints.append(
            Constraint(
                id=ident,
                when=_parse_condition(entry.get("when"), f"{where}.when"),
                rules_out=frozenset(ruled_out),
                why=_text(entry.get("why"), f"{where}.why"),
            )
        )
    return tuple(constraints)


def _parse_hybrid_kinds(raw: Any) -> tuple[HybridKindRule, ...]:
    kinds: list[HybridKindRule] = []
    for i, item in enumerate(_sequence(raw, "hybrid_kinds")):
        where = f"hybrid_kinds[{i}]"
        entry = _mapping(item, where)
        kind = _text(entry.get("kind"), f"{where}.kind")
        if kind not in HYBRID_KINDS:
            raise RulesError(
                f"{where}.kind: {kind!r} is not allowed; allowed: {', '.join(HYBRID_KINDS)}"
            )
        kinds.append(
            HybridKindRule(
                kind=kind,
                when=_parse_condition(entry.get("when", {}), f"{where}.when"),
                why=_text(entry.get("why"), f"{where}.why"),
            )
        )
    if not kinds:
        raise RulesError("hybrid_kinds: list at least one kind")
    return tuple(kinds)


def _parse_fact_order(raw: Any) -> tuple[str, ...]:
    where = "alternatives.prefer_changes_to"
    listed = [_text(item, where) for item in _sequence(raw, where)]
    if sorted(listed) != sorted(FACT_VALUES):
        raise RulesError(f"{where}: must list each fact once: {', '.join(FACT_VALUES)}")
    return tuple(listed)


def _parse_outcomes(raw: Any) -> dict[str, Outcome]:
    section = _mapping(raw, "outcomes")
    _only_known_keys(section, OUTCOMES, "outcomes", "outcomes")
    outcomes: dict[str, Outcome] = {}
    for name in OUTCOMES:
        where = f"outcomes.{name}"
        if name not in section:
            raise RulesError(f"{where}: missing")
        entry = _mapping(section[name], where)
        keys = entry.get("offerings")
        if not isinstance(keys, list) or not keys:
            raise RulesError(f"{where}.offerings: list the products (keys of bot/offerings.yml)")
        products = load_catalogue().offerings
        unknown = [key for key in keys if key not in products]
        if unknown:
            raise RulesError(f"{where}.offerings: {unknown} are not in bot/offerings.yml "
                             f"(known: {', '.join(products)})")
        outcomes[name] = Outcome(
            title=_text(entry.get("title"), f"{where}.title"),
            offering=" plus ".join(products[key].name for key in keys),
            offering_summary=_text(entry.get("offering_summary"), f"{where}.offering_summary"),
            offering_keys=tuple(keys),
        )
    return outcomes


def _parse_balance_texts(raw: Any) -> dict[str, str]:
    section = _mapping(raw, "balance")
    _only_known_keys(section, BALANCE_CASES, "balance", "cases")
    texts: dict[str, str] = {}
    for case in BALANCE_CASES:
        where = f"balance.{case}"
        if case not in section:
            raise RulesError(f"{where}: missing")
        text = _text(section[case], where)
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            raise RulesError(f"{where}: not a valid text with placeholders: {exc}") from exc
        unknown = names - set(SIDES)
        if unknown:
            raise RulesError(
                f"{where}: unknown placeholder {{{sorted(unknown)[0]}}}; allowed: {{vm}}, "
                "{container}"
            )
        texts[case] = text
    return texts


def _parse_confidence(raw: Any) -> ConfidenceRules:
    section = _mapping(raw, "confidence")

    def share(key: str) -> float:
        value = _number(section.get(key), f"confidence.{key}")
        if not 0 <= value <= 1:
            raise RulesError(f"confidence.{key}: must be between 0 and 1, got {value}")
        return value

    counted = _sequence(section.get("counted_when_assumed", []), "confidence.counted_when_assumed")
    for fact in counted:
        if fact not in FACT_VALUES:
            raise RulesError(
                f"confidence.counted_when_assumed: {fact!r} is not a fact; "
                f"allowed: {', '.join(FACT_VALUES)}"
            )
    rules = ConfidenceRules(
        one_side_ahead=share("one_side_ahead"),
        both_strong=share("both_strong"),
        forced_hybrid=share("forced_hybrid"),
        specific_kind_bonus=share("specific_kind_bonus"),
        per_point_of_margin=share("per_point_of_margin"),
        penalty_per_assumed_answer=share("penalty_per_assumed_answer"),
        counted_when_assumed=frozenset(str(f) for f in counted),
        lowest=share("lowest"),
        highest=share("highest"),
    )
    if rules.lowest > rules.highest:
        raise RulesError("confidence: lowest must not exceed highest")
    return rules


# --- small typed readers: each names the place of the problem ---


def _value_key(raw: Any) -> str:
    # YAML reads `true`/`false` as booleans; facts use the words.
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _mapping(raw: Any, where: str) -> Mapping[Any, Any]:
    if not isinstance(raw, Mapping):
        found = "nothing" if raw is None else type(raw).__name__
        raise RulesError(f"{where}: must be a mapping (key: value lines), found {found}")
    return raw


def _sequence(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        found = "nothing" if raw is None else type(raw).__name__
        raise RulesError(f"{where}: must be a list, found {found}")
    return raw


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise RulesError(f"{where}: must be a number, found {raw!r}")
    return float(raw)


def _whole(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise RulesError(f"{where}: must be a whole number of 0 or more, found {raw!r}")
    return raw


def _text(raw: Any, where: str, allow_empty: bool = False) -> str:
    if not isinstance(raw, str) or (not allow_empty and not raw.strip()):
        raise RulesError(f"{where}: must be a non-empty text, found {raw!r}")
    return raw.strip()


def _only_known_keys(
    section: Mapping[Any, Any], known: Mapping[str, Any] | tuple[str, ...], where: str, kind: str
) -> None:
    for key in section:
        name = _value_key(key)
        if name not in known:
            raise RulesError(f"{where}.{name}: unknown; allowed {kind}: {', '.join(known)}")
