"""The recommendation as the rest of the product sees it: one typed value, one shape.

The advisor's full result (`engine.Recommendation`) carries factors, pulls and the
profile; a lead, the CRM payload, the transcript and Slack need only what was
recommended. They all read it through `RecommendationSummary.from_dict`, which accepts
the advisor's own JSON (`Recommendation.to_dict()`, stored in the `recommendation` slot
and in the lead) and nothing else: a fixture or a payload of another shape fails loudly
instead of quietly reading as "no recommendation".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERDICTS = ("vm", "container", "hybrid")
# What a lead without a recommendation (the visitor went straight to sales) records.
NO_VERDICT = "none"


class RecommendationShapeError(ValueError):
    """A recommendation that is not the advisor's shape (`verdict` one of VERDICTS)."""


@dataclass(frozen=True)
class RecommendationSummary:
    """What was recommended: the verdict, the hybrid's kind, the title, how sure."""

    verdict: str
    hybrid_kind: str | None = None
    title: str = ""
    confidence: float | None = None
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise RecommendationShapeError(
                f"verdict must be one of {VERDICTS}, not {self.verdict!r}")
        if self.hybrid_kind is not None and self.verdict != "hybrid":
            raise RecommendationShapeError("only a hybrid verdict has a hybrid kind")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RecommendationSummary | None:
        """The summary of the advisor's JSON; None for no recommendation ({} or None).

        Raises:
            RecommendationShapeError: for anything else than the advisor's shape.
        """
        if not data:
            return None
        if "verdict" not in data:
            raise RecommendationShapeError(
                f"a recommendation needs a 'verdict'; got keys {sorted(data)}")
        confidence = data.get("confidence")
        return cls(
            verdict=str(data["verdict"]),
            hybrid_kind=data.get("hybrid_kind") or None,
            title=str(data.get("title") or ""),
            confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
            reasons=tuple(str(r) for r in data.get("reasons") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The same keys as the advisor's JSON, so that `from_dict` reads it back."""
        return {"verdict": self.verdict, "hybrid_kind": self.hybrid_kind, "title": self.title,
                "confidence": self.confidence, "reasons": list(self.reasons)}


def verdict_of(data: Mapping[str, Any] | None) -> str:
    """`vm`, `container`, `hybrid`, or `none` when nothing was recommended."""
    summary = RecommendationSummary.from_dict(data)
    return summary.verdict if summary else NO_VERDICT
