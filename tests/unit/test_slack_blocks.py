"""Block Kit layouts stay within Slack's limits and say what the widget shows."""

from __future__ import annotations

import json

from bot.slack.blocks import (
    MAX_ACTION_ELEMENTS,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_SECTION_TEXT,
    bar,
    diverging_bar,
    lead_summary_blocks,
    message_blocks,
    plain_text,
    scorecard_blocks,
    scorecard_fallback,
    text_blocks,
    to_mrkdwn,
)

# The advisor engine's scorecard (bot.advisor.report.scorecard): contributions are
# signed, negative toward containers and positive toward virtual machines.
CARD = {
    "verdict": "hybrid",
    "hybrid_kind": "containers_on_vms",
    "title": "Containers on dedicated VMs",
    "confidence": 0.8,
    "factors": [
        {"fact": "startup", "label": "Fast start-up matters", "contribution": -1.5,
         "assumed": False},
        {"fact": "kernel", "label": "Needs its own kernel", "contribution": 0.5,
         "assumed": True},
    ],
    "offering": {"name": "Nimbus Kubernetes", "summary": "on dedicated nodes"},
}


def test_mrkdwn_escapes_and_converts_links() -> None:
    assert to_mrkdwn("a <b> & [docs](https://ex.com/a?b=1) **bold**") == (
        "a &lt;b&gt; &amp; <https://ex.com/a?b=1|docs> *bold*"
    )
    # a javascript: link stays text
    assert "<javascript" not in to_mrkdwn("[x](javascript:alert(1))")
    assert plain_text("see [docs](https://ex.com)") == "see docs (https://ex.com)"


def test_buttons_capped_at_slacks_limits() -> None:
    buttons = [{"title": f"Option {i} " + "x" * 100, "payload": f"/choose{{\"n\": {i}}}"}
               for i in range(40)]
    buttons.append({"title": "too long a value", "payload": "/x" + "y" * 3000})
    blocks = message_blocks("Pick one", buttons)
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 1
    elements = actions[0]["elements"]
    assert len(elements) == MAX_ACTION_ELEMENTS
    assert all(len(e["text"]["text"]) <= MAX_BUTTON_TEXT for e in elements)
    assert len({e["action_id"] for e in elements}) == len(elements)
    assert elements[0]["value"] == '/choose{"n": 0}'


def test_long_text_is_split_into_sections_within_limits() -> None:
    text = "\n\n".join("p" * 1500 for _ in range(80))
    blocks = text_blocks(text)
    assert 1 < len(blocks) < MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in blocks)
    assert len(message_blocks(text, [{"title": "ok", "payload": "/ok"}])) <= MAX_BLOCKS


def test_scorecard_blocks_show_verdict_confidence_factors_and_offering() -> None:
    blocks = scorecard_blocks(CARD)
    dumped = json.dumps(blocks, ensure_ascii=False)
    assert blocks[0] == {"type": "header", "text": {
        "type": "plain_text", "text": "Recommendation: Containers on dedicated VMs"}}
    assert "80%" in dumped
    # the strongest factor first, its bar on the containers side of the middle line
    assert "`█████│░░░░░` \u22121.5  Fast start-up matters" in dumped
    assert "+0.5  Needs its own kernel _(assumed)_" in dumped
    assert "*Nimbus Kubernetes* - on dedicated nodes" in dumped
    assert scorecard_fallback(CARD) == (
        "Recommendation: Containers on dedicated VMs (80% confidence)"
    )


def test_scorecard_tolerates_missing_and_odd_fields() -> None:
    blocks = scorecard_blocks({"verdict": "container",
                               "factors": [{"contribution": "n/a"}, 3,
                                           {"label": "did not matter", "contribution": 0}],
                               "offering": "Plain string offering"})
    assert "did not matter" not in json.dumps(blocks)  # only factors that weighed in
    assert blocks[0]["text"]["text"] == "Recommendation: Containers"
    assert "Plain string offering" in json.dumps(blocks)
    assert scorecard_blocks({})[0]["type"] == "header"


def test_bars_are_proportional() -> None:
    assert bar(1.5, 1.5) == "█" * 10
    assert bar(-0.75, 1.5) == "█" * 5 + "░" * 5
    assert bar(0.01, 10) == "█" + "░" * 9  # a non-zero factor never disappears
    assert bar(0, 1) == "░" * 10
    assert diverging_bar(-1.5, 1.5) == "█████│░░░░░"
    assert diverging_bar(0.6, 1.5) == "░░░░░│██░░░"
    assert diverging_bar(0, 1.5) == "░░░░░│░░░░░"


def test_lead_summary_blocks() -> None:
    lead = {
        "lead_id": "L-1",
        "contact": {"name": "Ada <Lovelace>", "email": "ada@example.com", "company": "Acme",
                    "role": "CTO"},
        "qualification": {"score": 88, "tier": "hot", "reasons": ["budget over 50k"]},
        "timeline": "this_quarter",
        "size": 40,
        "budget": "50k_250k",
        "recommendation": {"verdict": "container"},
        "transcript_summary": "Wants to move a web shop.",
    }
    blocks = lead_summary_blocks(lead)
    dumped = json.dumps(blocks)
    assert blocks[0]["text"]["text"] == "Hot lead: Acme"
    assert "Ada &lt;Lovelace&gt;" in dumped and "ada@example.com" in dumped
    assert "This quarter" in dumped and "budget over 50k" in dumped
    assert len(blocks[1]["fields"]) <= 10
