"""Block Kit layouts for Slack: text, buttons, the advisor's scorecard, a lead summary and
the hot-lead alert of the sales channel.

Pure functions from plain data to the JSON Slack expects, within Slack's documented
limits (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks per
message, 25 elements per actions block, 75 characters per button label, 2000 per
button value, 3000 per section text, 150 per header and 10 fields per section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.advisor.summary import NO_VERDICT, verdict_of

MAX_BLOCKS = 50
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
# `text` of chat.postMessage is the notification and screen-reader fallback.
MAX_FALLBACK_TEXT = 3000
BAR_CELLS = 10

_MD_LINK = re.compile(r"\[([^\]\n|<>]{1,200})\]\(((?:https?://|mailto:)[^)\s|<>]{1,2000})\)")
_MD_BOLD = re.compile(r"\*\*([^*\n]{1,200})\*\*")
_VERDICTS = {
    "vm": "Virtual machines",
    "container": "Containers",
    "hybrid": "Hybrid: containers and virtual machines",
}


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn gives a meaning to."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Our response markup (`[label](url)`, `**bold**`) as Slack mrkdwn, escaped."""
    escaped = escape(text)
    escaped = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", escaped)
    return _MD_BOLD.sub(r"*\1*", escaped)


def plain_text(text: str) -> str:
    """The text without our markup, for notification fallbacks."""
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return truncate(_MD_BOLD.sub(r"\1", text), MAX_FALLBACK_TEXT)


def humanise(value: object) -> str:
    """`containers_on_vms` -> `Containers on vms`."""
    text = re.sub(r"[_-]+", " ", str(value)).strip()
    return text[:1].upper() + text[1:]


def text_blocks(text: str) -> list[dict[str, Any]]:
    """Section blocks for `text`, split on paragraphs to respect the section limit."""
    blocks: list[dict[str, Any]] = []
    current = ""
    for paragraph in to_mrkdwn(text.strip()).split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= MAX_SECTION_TEXT:
            current = candidate
            continue
        if current:
            blocks.append(_section(current))
        current = truncate(paragraph, MAX_SECTION_TEXT)
    if current:
        blocks.append(_section(current))
    return blocks[: MAX_BLOCKS - 1]


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def button_elements(buttons: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Button elements for Rasa buttons, at most 25; a payload too long is left out."""
    elements: list[dict[str, Any]] = []
    for button in buttons:
        title, payload = button.get("title"), button.get("payload")
        if not isinstance(title, str) or not isinstance(payload, str):
            continue
        if not payload or len(payload) > MAX_BUTTON_VALUE:
            continue
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": truncate(title, MAX_BUTTON_TEXT),
                         "emoji": True},
                "value": payload,
                "action_id": f"rasa_button_{len(elements)}",
            }
        )
        if len(elements) == MAX_ACTION_ELEMENTS:
            break
    return elements


def message_blocks(text: str, buttons: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Blocks for a bot message: its text, then its buttons in one actions block."""
    blocks = text_blocks(text) if text.strip() else []
    elements = button_elements(buttons)
    if elements:
        blocks = blocks[: MAX_BLOCKS - 1]
        blocks.append({"type": "actions", "block_id": "rasa_buttons", "elements": elements})
    return blocks


def bar(value: float, largest: float, cells: int = BAR_CELLS) -> str:
    """A text bar of `cells` cells, filled in proportion to |value| / largest."""
    filled = round(abs(value) / largest * cells) if largest > 0 else 0
    filled = max(1 if value else 0, min(cells, filled))
    return "█" * filled + "░" * (cells - filled)


def diverging_bar(value: float, largest: float, half: int = BAR_CELLS // 2) -> str:
    """A bar around a middle line: negative values grow left, positive ones right."""
    left = bar(min(value, 0.0), largest, half)[::-1] if value < 0 else "░" * half
    right = bar(value, largest, half) if value > 0 else "░" * half
    return f"{left}│{right}"


def _signed(value: float) -> str:
    rounded = round(value, 1)
    sign = "+" if rounded > 0 else "\u2212" if rounded < 0 else ""  # a true minus sign
    return f"{sign}{abs(rounded):.1f}"


def verdict_title(card: Mapping[str, Any]) -> str:
    """The verdict as words: the card's own `title`, else a name for `verdict`."""
    if card.get("title"):
        return str(card["title"])
    verdict_key = str(card.get("verdict") or "").lower()
    return _VERDICTS.get(verdict_key) or humanise(card.get("verdict") or "Recommendation")


def _offering(card: Mapping[str, Any]) -> tuple[str, str]:
    offering = card.get("offering")
    if isinstance(offering, Mapping):
        return str(offering.get("name") or ""), str(offering.get("summary") or "")
    return (str(offering), "") if offering else ("", "")


def scorecard_blocks(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The advisor's scorecard as a header, the confidence, one bar per factor, the offering.

    Factor contributions are signed as the advisor engine signs them: negative leans
    toward containers (the bar grows left of the middle line), positive toward virtual
    machines (right).

    Args:
        card: `{"verdict", "title", "hybrid_kind", "confidence", "factors": [{"fact",
            "label", "contribution", "assumed"}], "offering": {"name", "summary"}}`;
            every key is optional.
    """
    blocks: list[dict[str, Any]] = [
        {"type": "header",
         "text": {"type": "plain_text",
                  "text": truncate(f"Recommendation: {verdict_title(card)}", MAX_HEADER_TEXT)}}
    ]
    fields: list[dict[str, str]] = []
    confidence = card.get("confidence")
    if isinstance(confidence, (int, float)):
        percent = round(max(0.0, min(1.0, float(confidence))) * 100)
        fields.append({"type": "mrkdwn",
                       "text": f"*Confidence*\n`{bar(percent, 100)}` {percent}%"})
    if card.get("hybrid_kind") and not card.get("title"):
        fields.append({"type": "mrkdwn",
                       "text": f"*Setup*\n{escape(humanise(card['hybrid_kind']))}"})
    if fields:
        blocks.append({"type": "section", "fields": fields[:MAX_FIELDS]})

    factors = [f for f in card.get("factors") or [] if isinstance(f, Mapping)]
    # Only what weighed in decided it, strongest first.
    ranked = sorted(((f, v) for f in factors if (v := _number(f.get("contribution")))),
                    key=lambda item: -abs(item[1]))[:8]
    if ranked:
        largest = max(abs(v) for _, v in ranked) or 1.0
        lines = ["*What decided it*  (◀ containers │ virtual machines ▶)"]
        for factor, value in ranked:
            label = escape(str(factor.get("label")
                               or humanise(factor.get("fact") or factor.get("name") or "")))
            assumed = " _(assumed)_" if factor.get("assumed") else ""
            lines.append(f"`{diverging_bar(value, largest)}` {_signed(value)}  {label}{assumed}")
        blocks.append(_section(truncate("\n".join(lines), MAX_SECTION_TEXT)))
    name, summary = _offering(card)
    if name:
        text = f"Suggested offering: *{escape(name)}*"
        if summary:
            text += f" - {escape(summary)}"
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": truncate(text, MAX_FIELD_TEXT)}]})
    return blocks


def scorecard_fallback(card: Mapping[str, Any]) -> str:
    """One line for notifications: the verdict and the confidence."""
    verdict = verdict_title(card)
    confidence = card.get("confidence")
    if isinstance(confidence, (int, float)):
        return f"Recommendation: {verdict} ({round(float(confidence) * 100)}% confidence)"
    return f"Recommendation: {verdict}"


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def lead_summary_blocks(
    lead: Mapping[str, Any], conversation: bool = True
) -> list[dict[str, Any]]:
    """A lead (`bot.leads.model.build_crm_payload`) laid out for the sales channel.

    Args:
        lead: The lead document.
        conversation: Include the summary of the conversation.
    """
    contact = lead.get("contact") or {}
    qualification = lead.get("qualification") or {}
    recommendation = lead.get("recommendation") or {}
    company = str(contact.get("company") or "unknown company")
    tier = str(qualification.get("tier") or "")
    header = f"{tier.capitalize() + ' lead' if tier else 'New lead'}: {company}"
    field_values = [
        ("Name", contact.get("name")),
        ("Role", contact.get("role")),
        ("Email", contact.get("email")),
        ("Score", qualification.get("score")),
        ("Timeline", humanise(lead["timeline"]) if lead.get("timeline") else None),
        ("Team size", lead.get("size")),
        ("Budget", humanise(lead["budget"]) if lead.get("budget") else None),
        ("Recommendation", _verdict_words(recommendation)),
    ]
    fields = [
        {"type": "mrkdwn", "text": truncate(f"*{name}*\n{escape(str(value))}", MAX_FIELD_TEXT)}
        for name, value in field_values
        if value not in (None, "")
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": truncate(header, MAX_HEADER_TEXT)}},
        {"type": "section", "fields": fields[:MAX_FIELDS]},
    ]
    reasons = [escape(str(r)) for r in qualification.get("reasons") or []][:10]
    if reasons:
        blocks.append(_section(truncate("*Why it scored*\n" + "\n".join(f"• {r}" for r in reasons),
                                        MAX_SECTION_TEXT)))
    summary = lead.get("transcript_summary")
    if summary and conversation:
        blocks.append(_section(truncate(f"*Conversation*\n{escape(str(summary))}",
                                        MAX_SECTION_TEXT)))
    if lead.get("lead_id"):
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"Lead {escape(str(lead['lead_id']))}"}]})
    return blocks


def _verdict_words(recommendation: Mapping[str, Any]) -> str | None:
    verdict = verdict_of(recommendation)
    return None if verdict == NO_VERDICT else verdict_title({"verdict": verdict})


# The alert's buttons; the Slack channel routes clicks on them to the leads package.
SALES_TAKE_ACTION = "sales_lead_take"
SALES_TRANSCRIPT_ACTION = "sales_lead_transcript"


def sales_alert_text(lead: Mapping[str, Any]) -> str:
    """The notification line of a lead alert (no email address: it shows in previews)."""
    contact = lead.get("contact") or {}
    qualification = lead.get("qualification") or {}
    company = contact.get("company") or "unknown company"
    return truncate(
        f"{str(qualification.get('tier') or 'new').capitalize()} lead from {company}"
        f" (score {qualification.get('score', '?')})",
        300,
    )


def sales_alert_blocks(
    lead: Mapping[str, Any],
    crm_url: str | None = None,
    taken_by: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The hot-lead alert: the lead, its CRM link, and the buttons or who took it.

    The conversation is behind "Open transcript" (shown to the clicker only) rather than
    in the message, which stays in the channel.

    Args:
        lead: The lead document (`bot.leads.model.build_crm_payload`).
        crm_url: The CRM contact, once the CRM holds the lead.
        taken_by: `{"user_id", "name", "taken_at"}` once someone took the lead.
    """
    blocks = lead_summary_blocks(lead, conversation=False)[: MAX_BLOCKS - 3]
    if crm_url:
        blocks.append(_section(f"<{crm_url}|Open the contact in the CRM>"))
    lead_id = str(lead.get("lead_id") or "")
    elements: list[dict[str, Any]] = []
    if taken_by:
        user = escape(str(taken_by.get("user_id") or ""))
        at = str(taken_by.get("taken_at") or "")[:16].replace("T", " ")
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f":raising_hand: Taken by <@{user}> at {at} UTC"}]})
    else:
        elements.append({"type": "button", "style": "primary", "action_id": SALES_TAKE_ACTION,
                         "text": {"type": "plain_text", "text": "I'll take it"},
                         "value": lead_id})
    elements.append({"type": "button", "action_id": SALES_TRANSCRIPT_ACTION,
                     "text": {"type": "plain_text", "text": "Open transcript"},
                     "value": lead_id})
    blocks.append({"type": "actions", "block_id": "sales_alert", "elements": elements})
    return blocks
