"""Lead qualification: a pure function of the lead and rules kept as data.

`score_lead(draft, recommendation, rules)` gives a score (0-100), a tier and the
reasons. The rules live in `scoring.yml` (beside the advisor's `rules.yml`) so that a
sales engineer can change weights and thresholds without touching code. In the manner of
venmo/business-rules: facts are named values, conditions are `all` / `any` trees.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.advisor.summary import verdict_of
from bot.leads.model import TIERS, LeadDraft, Qualification

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "scoring.yml"

Fact = str | int | bool

_OPERATORS = ("equal_to", "in", "less_than", "at_least", "contains_any")


class ScoringRulesError(ValueError):
    """The scoring rules file is malformed; the message says where."""


@dataclass(frozen=True)
class Band:
    at_least: int
    points: int
    reason: str


@dataclass(frozen=True)
class Criterion:
    """Points for one fact: either a value table or numeric bands."""

    name: str
    fact: str
    points: Mapping[str, int]
    bands: tuple[Band, ...]
    reason: str


@dataclass(frozen=True)
class Condition:
    """A leaf (`fact` `operator` `value`) or a group (`all` / `any` of conditions)."""

    combinator: str  # "leaf", "all" or "any"
    fact: str = ""
    operator: str = ""
    value: Any = None
    children: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Adjustment:
    name: str
    when: Condition
    points: int
    max_tier: str | None
    reason: str


@dataclass(frozen=True)
class ScoringRules:
    criteria: tuple[Criterion, ...]
    authority_levels: tuple[tuple[str, tuple[str, ...]], ...]
    adjustments: tuple[Adjustment, ...]
    tiers: tuple[tuple[str, int], ...]  # (tier, min_score), highest first
    labels: Mapping[str, str] = field(default_factory=dict)  # how values read in reasons
    # Tiers posted to the sales channel at once; empty when there is no channel to post to.
    sales_alert_tiers: frozenset[str] = frozenset()


def alerts_sales(qualification: Qualification, rules: ScoringRules) -> bool:
    """True when a lead so qualified must reach the sales channel at once."""
    return qualification.tier in rules.sales_alert_tiers


def score_lead(
    draft: LeadDraft, recommendation: Mapping[str, Any] | None, rules: ScoringRules
) -> Qualification:
    """Score a lead from its fit, timeline, authority and budget.

    Args:
        draft: The collected lead.
        recommendation: The advisor's recommendation (empty or None when there is none).
        rules: Rules from `load_scoring_rules()`.

    Returns:
        The score clamped to 0-100, the tier and one reason per criterion and per
        adjustment that applied, in rule order.
    """
    facts = lead_facts(draft, recommendation or {}, rules)
    score = 0
    reasons: list[str] = []
    for criterion in rules.criteria:
        points, reason = _criterion_points(criterion, facts, rules.labels)
        score += points
        reasons.append(f"{reason} (+{points})")
    cap_index = 0
    tier_order = [tier for tier, _ in rules.tiers]
    for adjustment in rules.adjustments:
        if not _holds(adjustment.when, facts):
            continue
        score += adjustment.points
        suffix = f" ({adjustment.points:+d})" if adjustment.points else ""
        if adjustment.max_tier is not None:
            cap_index = max(cap_index, tier_order.index(adjustment.max_tier))
            suffix += f" (at most {adjustment.max_tier})"
        reasons.append(adjustment.reason + suffix)
    score = max(0, min(100, score))
    tier = next(tier for tier, minimum in rules.tiers if score >= minimum)
    if tier_order.index(tier) < cap_index:
        tier = tier_order[cap_index]
    return Qualification(score=score, tier=tier, reasons=tuple(reasons))


def lead_facts(
    draft: LeadDraft, recommendation: Mapping[str, Any], rules: ScoringRules
) -> dict[str, Fact]:
    """The named facts the rules can test, derived from the lead."""
    role = draft.contact.role.lower()
    return {
        "recommendation": verdict_of(recommendation),
        "size": draft.size,
        "timeline": draft.timeline,
        "authority": authority_level(role, rules),
        "budget": draft.budget,
        "role": role,
        "free_mail": draft.contact.email_is_free_mail,
    }


def authority_level(role: str, rules: ScoringRules) -> str:
    """The first authority level whose keyword appears in `role` as whole words."""
    text = f" {_words(role)} "
    for level, keywords in rules.authority_levels:
        if any(f" {_words(keyword)} " in text for keyword in keywords):
            return level
    return rules.authority_levels[-1][0]


def _words(text: str) -> str:
    return " ".join(re.findall(r"[\w-]+", text.lower()))


def _criterion_points(
    criterion: Criterion, facts: Mapping[str, Fact], labels: Mapping[str, str]
) -> tuple[int, str]:
    value = facts[criterion.fact]
    label = labels.get(str(value), str(value).replace("_", " "))
    context = {"value": label, "role": facts["role"]}
    if criterion.bands:
        number = int(value)
        for band in criterion.bands:
            if number >= band.at_least:
                return band.points, band.reason.format(**context)
        return 0, f"{criterion.name}: {value}"
    return criterion.points.get(str(value), 0), criterion.reason.format(**context)


def _holds(condition: Condition, facts: Mapping[str, Fact]) -> bool:
    if condition.combinator == "all":
        return all(_holds(child, facts) for child in condition.children)
    if condition.combinator == "any":
        return any(_holds(child, facts) for child in condition.children)
    actual = facts[condition.fact]
    expected = condition.value
    if condition.operator == "equal_to":
        return bool(actual == expected)
    if condition.operator == "in":
        return actual in expected
    if condition.operator == "less_than":
        return int(actual) < int(expected)
    if condition.operator == "at_least":
        return int(actual) >= int(expected)
    # contains_any: a keyword appears in the text as whole words
    text = f" {_words(str(actual))} "
    return any(f" {_words(str(word))} " in text for word in expected)


# --- loading ---------------------------------------------------------------------------

_FACTS = ("recommendation", "size", "timeline", "authority", "budget", "role", "free_mail")


def load_scoring_rules(path: Path | None = None, sales_alerts: bool = False) -> ScoringRules:
    """Read and check the rules file (`scoring.yml` beside this module by default).

    Args:
        path: The rules file.
        sales_alerts: Keep the file's `sales_alert_tiers`; off unless the runtime has a
            sales channel, so that no alert is queued that nothing would ever post.

    Raises:
        ScoringRulesError: when the file is missing or malformed; the message says where.
    """
    path = path or DEFAULT_RULES_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScoringRulesError(f"cannot read scoring rules {path}: {exc}") from exc
    rules = parse_scoring_rules(raw, source=str(path))
    return rules if sales_alerts else replace(rules, sales_alert_tiers=frozenset())


def parse_scoring_rules(raw: Any, source: str = "scoring rules") -> ScoringRules:
    """Build `ScoringRules` from the parsed YAML document, checking every part."""
    if not isinstance(raw, dict):
        raise ScoringRulesError(f"{source}: expected a mapping at the top level")
    criteria = tuple(
        _parse_criterion(item, f"{source}: criteria[{i}]")
        for i, item in enumerate(_list(raw, "criteria", source))
    )
    levels_raw = raw.get("authority_levels")
    if not isinstance(levels_raw, dict) or not levels_raw:
        raise ScoringRulesError(f"{source}: authority_levels must be a non-empty mapping")
    levels = tuple(
        (str(level), tuple(str(word) for word in (words or ())))
        for level, words in levels_raw.items()
    )
    tiers = tuple(
        (str(item["tier"]), int(item["min_score"])) for item in _list(raw, "tiers", source)
    )
    if sorted(tier for tier, _ in tiers) != sorted(TIERS):
        raise ScoringRulesError(f"{source}: tiers must be exactly {', '.join(TIERS)}")
    if [m for _, m in tiers] != sorted((m for _, m in tiers), reverse=True) or tiers[-1][1] > 0:
        raise ScoringRulesError(
            f"{source}: tiers must go from the highest min_score down to 0"
        )
    adjustments = tuple(
        _parse_adjustment(item, f"{source}: adjustments[{i}]")
        for i, item in enumerate(raw.get("adjustments") or ())
    )
    labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
    alert_tiers = frozenset(str(tier) for tier in raw.get("sales_alert_tiers") or ())
    if not alert_tiers <= set(TIERS):
        raise ScoringRulesError(
            f"{source}: sales_alert_tiers must be among {', '.join(TIERS)}"
        )
    return ScoringRules(criteria, levels, adjustments, tiers, labels, alert_tiers)


def _list(raw: Mapping[str, Any], key: str, source: str) -> Sequence[Any]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise ScoringRulesError(f"{source}: {key} must be a non-empty list")
    return value


def _parse_criterion(item: Any, where: str) -> Criterion:
    if not isinstance(item, dict) or item.get("fact") not in _FACTS:
        raise ScoringRulesError(f"{where}: needs a fact, one of {', '.join(_FACTS)}")
    bands = tuple(
        Band(int(b["at_least"]), int(b["points"]), str(b["reason"]))
        for b in item.get("bands") or ()
    )
    points = {str(k).lower(): int(v) for k, v in (item.get("points") or {}).items()}
    if not bands and not points:
        raise ScoringRulesError(f"{where}: needs points or bands")
    if bands and [b.at_least for b in bands] != sorted((b.at_least for b in bands), reverse=True):
        raise ScoringRulesError(f"{where}: bands must go from the largest at_least down")
    return Criterion(
        name=str(item.get("name", item["fact"])),
        fact=str(item["fact"]),
        points=points,
        bands=bands,
        reason=str(item.get("reason", "{value}")),
    )


def _parse_adjustment(item: Any, where: str) -> Adjustment:
    if not isinstance(item, dict) or "when" not in item:
        raise ScoringRulesError(f"{where}: needs a when condition")
    max_tier = item.get("max_tier")
    if max_tier is not None and max_tier not in TIERS:
        raise ScoringRulesError(f"{where}: max_tier must be one of {', '.join(TIERS)}")
    return Adjustment(
        name=str(item.get("name", "")),
        when=_parse_condition(item["when"], where),
        points=int(item.get("points", 0)),
        max_tier=max_tier,
        reason=str(item.get("reason", item.get("name", ""))),
    )


def _parse_condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise ScoringRulesError(f"{where}: a condition must be a mapping")
    for combinator in ("all", "any"):
        if combinator in raw:
            children = raw[combinator]
            if not isinstance(children, list) or not children:
                raise ScoringRulesError(f"{where}: {combinator} needs a non-empty list")
            return Condition(
                combinator, children=tuple(_parse_condition(c, where) for c in children)
            )
    fact = raw.get("fact")
    operators = [op for op in _OPERATORS if op in raw]
    if fact not in _FACTS or len(operators) != 1:
        raise ScoringRulesError(
            f"{where}: a condition needs a fact ({', '.join(_FACTS)}) and one operator "
            f"({', '.join(_OPERATORS)})"
        )
    operator = operators[0]
    value = raw[operator]
    if operator in ("in", "contains_any") and not isinstance(value, list):
        raise ScoringRulesError(f"{where}: {operator} needs a list")
    if operator in ("in",):
        value = tuple(str(v).lower() for v in value)
    return Condition("leaf", fact=str(fact), operator=operator, value=value)
