"""Readable forms of a recommendation: a text report, chat message parts, a scorecard."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.advisor.engine import Alternative, Recommendation

FACT_NAMES = {
    "isolation": "isolation",
    "os_mix": "operating systems",
    "kernel_custom": "custom kernel",
    "density": "density",
    "estate": "number of workloads",
    "startup": "start-up time",
    "legacy": "legacy lift-and-shift",
    "stateful": "local state",
    "gpu": "GPUs",
    "compliance": "compliance",
    "team_containers": "team's container skills",
    "traffic": "traffic shape",
    "privileged": "privileged access",
    "os_patching": "OS patching",
    "licences": "licences",
    "work_pattern": "kind of work",
}


OUTCOME_NAMES = {
    "vm": "VMs",
    "container": "plain containers",
    "containers_on_vms": "containers on VMs",
    "sandboxed_containers": "sandboxed containers",
    "microvms": "micro-VMs",
    "split": "a split estate",
}


def confidence_words(confidence: float) -> str:
    """The confidence as a percentage with a word, e.g. `72% (fairly sure)`."""
    if confidence >= 0.75:
        word = "sure"
    elif confidence >= 0.55:
        word = "fairly sure"
    else:
        word = "a close call"
    return f"{round(confidence * 100)}% ({word})"


def alternative_sentence(alternative: Alternative | None) -> str:
    """`<title> would win if <condition> (or if <condition>).`, or an empty string."""
    if alternative is None or not alternative.when:
        return ""
    return f"{alternative.title} would win instead if " + ", or if ".join(alternative.when) + "."


def format_report(rec: Recommendation) -> str:
    """A plain-text report for the command line: verdict, reasons, every factor."""
    lines = [
        f"Recommendation: {rec.title}",
        f"  verdict: {rec.verdict}"
        + (f", hybrid kind: {rec.hybrid_kind}" if rec.hybrid_kind else ""),
        f"  confidence: {confidence_words(rec.confidence)}",
        "",
        "Why:",
        *(f"  - {reason}" for reason in rec.reasons),
        "",
        f"Pull toward VMs: {rec.pull_vm:g}",
        *(f"  - {reason}" for reason in rec.side_reasons("vm")),
        f"Pull toward containers: {rec.pull_container:g}",
        *(f"  - {reason}" for reason in rec.side_reasons("container")),
        rec.balance,
        "",
        "Factors (VMs / containers; net + toward VMs, - toward containers):",
    ]
    by_weight = sorted(rec.factors, key=lambda f: (-(f.toward_vm + f.toward_container), f.assumed))
    for factor in by_weight:
        note = "  (assumed)" if factor.assumed else ""
        lines.append(
            f"  {factor.toward_vm:4.1f} / {factor.toward_container:4.1f}  {factor.points:+5.1f}  "
            f"{FACT_NAMES[factor.fact]}: {factor.label}{note}"
        )
    if rec.ruled_out:
        lines += ["", "Ruled out: " + ", ".join(OUTCOME_NAMES[o] for o in rec.ruled_out)]
    alternative = alternative_sentence(rec.alternative)
    if alternative:
        lines += ["", "Main alternative: " + alternative]
    lines += ["", f"Suggested offering: {rec.offering.name}", f"  {rec.offering.summary}"]
    return "\n".join(lines) + "\n"


def chat_fields(rec: Recommendation, not_sure: Collection[str] = ()) -> dict[str, str]:
    """Values for the chat's result response (`utter_advisor_result`).

    Args:
        rec: The recommendation.
        not_sure: Profile fields the visitor answered "not sure" to; their assumed
            values are spelled out so the visitor can correct them.

    Returns:
        `title`, `confidence`, `reasons` (a bulleted list), `notes` (assumptions and
        the alternative), `offering`, and from engine v2 `pulls` (what pulls each way)
        and `balance` (why the verdict falls where it does).
    """
    assumed = [f.label for f in rec.assumed if f.field in not_sure]
    notes = []
    if assumed:
        notes.append("Where you weren't sure I assumed that " + "; ".join(assumed) + ".")
    alternative = alternative_sentence(rec.alternative)
    if alternative:
        notes.append(alternative)
    return {
        "title": rec.title,
        "confidence": confidence_words(rec.confidence),
        "reasons": "\n".join(f"- {reason}" for reason in rec.reasons),
        "notes": " ".join(notes),
        "offering": f"{rec.offering.name}: {rec.offering.summary}",
        "pulls": "\n".join(
            f"- {name} ({pull:g}): " + ("; ".join(reasons[:2]) or "nothing")
            for name, pull, reasons in (
                ("Toward VMs", rec.pull_vm, rec.side_reasons("vm")),
                ("Toward containers", rec.pull_container, rec.side_reasons("container")),
            )
        ),
        "balance": rec.balance,
    }


def scorecard(rec: Recommendation) -> dict[str, Any]:
    """The data the web widget draws as a scorecard.

    The verdict, the confidence, the two pulls with what makes each up (`pull`,
    `sides`), why the verdict falls where it does (`balance`) and the factors that
    weighed in (each with its pull toward each side and the signed `contribution`
    that older renderers draw as one bar).
    """
    data = rec.to_dict()
    data.pop("profile")
    data["factors"] = [
        f for f in data["factors"] if f["toward_vm"] or f["toward_container"] or not f["assumed"]
    ]
    return data
