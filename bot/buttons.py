"""Buttons of a Rasa bot message, in the one shape every reader of the tracker uses.

The channels (what the widget renders, which payloads were offered) and the handoff's
transcript both read `buttons` and `quick_replies` from `BotUttered` events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def normalise_buttons(raw: Any) -> list[dict[str, str]]:
    """Buttons (or quick replies) as `[{"title", "payload"}]` with string values only."""
    buttons: list[dict[str, str]] = []
    if not isinstance(raw, list):
        return buttons
    for button in raw:
        if not isinstance(button, Mapping):
            continue
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and isinstance(payload, str):
            buttons.append({"title": title, "payload": payload})
    return buttons
