"""The advisor conversation through the REST webhook, against the real servers.

What `rasa test` stories cannot show: the actions really run - the opening message
prefills the form, answers are normalised, misses are explained, the result carries a
scorecard, and a correction re-recommends.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from bot.launcher import REST_WEBHOOK, Stack, http_json
from tests.support.servers import REST_AUTH, assistant  # noqa: F401

pytestmark = [pytest.mark.server, pytest.mark.timeout(900)]


class Visitor:
    """One conversation over the REST channel."""

    def __init__(self, servers: Stack) -> None:
        self.servers = servers
        self.sender = f"advisor-{uuid.uuid4().hex[:12]}"
        self.last: list[dict[str, Any]] = []

    def say(self, text: str) -> list[dict[str, Any]]:
        status, body = http_json(
            "POST",
            self.servers.url + REST_WEBHOOK,
            {"sender": self.sender, "message": text},
            timeout=90,
            headers=REST_AUTH,
        )
        assert status == 200, f"HTTP {status} {body}\n{self.servers.logs()}"
        assert isinstance(body, list)
        self.last = body
        return body

    def text(self) -> str:
        return "\n".join(str(m.get("text", "")) for m in self.last)

    def press(self, title: str) -> list[dict[str, Any]]:
        """Press the button called `title` in the bot's latest turn."""
        buttons = [b for m in self.last for b in m.get("buttons", [])]
        for button in buttons:
            if button["title"] == title:
                return self.say(button["payload"])
        raise AssertionError(f"no button {title!r} in {json.dumps(self.last)[:800]}")

    def scorecard(self) -> dict[str, Any]:
        cards = [m["custom"]["scorecard"] for m in self.last if "scorecard" in m.get("custom", {})]
        assert len(cards) == 1, json.dumps(self.last)[:800]
        card: dict[str, Any] = cards[0]
        return card


def test_prefilled_form_gives_an_explained_recommendation(assistant: Stack) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    visitor.say(
        "We run about 200 Linux microservices and some customers upload their own code, "
        "what should we use?"
    )
    said = visitor.text()
    assert "From what you've told me so far" in said
    assert "customers or third parties" in said and "Linux" in said
    # Isolation, OS and density are known: the next question is about start-up time.
    assert "How fast must new instances start" in said

    visitor.press("Under a second")
    assert "persistent data" in visitor.text()
    visitor.press("No, it's stateless")
    visitor.press("No")  # not a legacy application
    if "container experience" in visitor.text():
        visitor.press("Some")

    said = visitor.text()
    assert "My recommendation: **Hybrid: micro-VMs**" in said
    assert "What decided it:" in said and "Suggested offering:" in said
    payloads = [b["payload"] for m in visitor.last for b in m.get("buttons", [])]
    assert "/contact_sales" in payloads
    card = visitor.scorecard()
    assert (card["verdict"], card["hybrid_kind"]) == ("hybrid", "microvms")
    assert any(f["fact"] == "isolation" and f["contribution"] > 0 for f in card["factors"])


def test_interruption_misses_and_a_correction(assistant: Stack) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    visitor.say("/ask_use_case_recommendation")
    assert "Whose code will run" in visitor.text()

    visitor.say("What is a container?")
    said = visitor.text()
    assert "Whose code will run" in said  # answered, then the question again
    assert len(visitor.last) >= 2

    visitor.say("bananas")
    assert "didn't catch that" in visitor.text()
    visitor.say("bananas again")
    said = visitor.text()
    assert "talk to sales" in said  # a person is offered,
    assert "Let me put it another way" in said  # then the question explained, with buttons,
    assert "Whose code will run" not in said  # instead of asked plainly
    assert any(b["title"] == "Not sure" for m in visitor.last for b in m.get("buttons", []))
    visitor.press("Only our own code")

    visitor.press("Linux only")
    visitor.press("Many small services")
    visitor.press("Within seconds")
    visitor.press("No, it's stateless")
    visitor.press("No")
    visitor.press("We run containers in production")
    assert "My recommendation: **Containers**" in visitor.text()
    assert visitor.scorecard()["verdict"] == "container"

    visitor.say("Actually we also run Windows")
    said = visitor.text()
    assert "you run both Windows and Linux" in said
    card = visitor.scorecard()
    assert card["verdict"] != "container"
