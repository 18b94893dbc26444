"""A visitor talking to the real servers over the REST channel, and the slots it left.

Used by the conversation suite (tests/e2e/test_conversations_free_text.py): it sends
messages with the channel's bearer token and reads the conversation's slots back from
the SQLite tracker store the test servers write (`rest:<sender>`), so a dialogue can
assert what was understood without the Rasa HTTP API.
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

REST_WEBHOOK = "/webhooks/rest/webhook"
RATE_LIMIT_RETRIES = 30
RATE_LIMIT_WAIT = 2.0


class RestVisitor:
    """One conversation over the REST channel."""

    def __init__(self, url: str, token: str, tracker_db: Path | None = None) -> None:
        self.url = url
        self.token = token
        self.tracker_db = tracker_db
        self.sender = f"visitor-{uuid.uuid4().hex[:12]}"
        self.last: list[dict[str, Any]] = []

    def say(self, text: str) -> list[dict[str, Any]]:
        """Send `text`; return (and keep) the bot's messages."""
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        for _ in range(RATE_LIMIT_RETRIES):
            request = urllib.request.Request(
                self.url + REST_WEBHOOK, data=body, method="POST",
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {self.token}"})
            try:
                with urllib.request.urlopen(request, timeout=90) as response:
                    raw, status = response.read(), response.status
            except urllib.error.HTTPError as exc:
                raw, status = exc.read(), exc.code
            if status != 429:
                break
            # The channel's rate limit (bot/channels/guard.py) counts every dialogue
            # from this address: wait, as a person would.
            time.sleep(RATE_LIMIT_WAIT)
        assert status == 200, f"HTTP {status}: {raw[:300]!r}"
        messages = json.loads(raw) if raw else []
        assert isinstance(messages, list)
        self.last = messages
        return messages

    def text(self) -> str:
        """The bot's latest replies as one string."""
        return "\n".join(str(m.get("text", "")) for m in self.last)

    def buttons(self) -> list[dict[str, Any]]:
        return [b for m in self.last for b in m.get("buttons", [])]

    def press(self, title: str) -> list[dict[str, Any]]:
        """Press the button called `title` in the bot's latest turn."""
        for button in self.buttons():
            if button["title"] == title:
                return self.say(button["payload"])
        raise AssertionError(f"no button {title!r} in {json.dumps(self.last)[:800]}")

    def scorecard(self) -> dict[str, Any] | None:
        """The scorecard of the latest turn, if it has one."""
        cards = [m["custom"]["scorecard"] for m in self.last
                 if isinstance(m.get("custom"), dict) and "scorecard" in m["custom"]]
        return cards[-1] if cards else None

    def slots(self) -> dict[str, Any]:
        """The conversation's slots, replayed from the tracker store's slot events."""
        assert self.tracker_db is not None, "no tracker store to read"
        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute(
                "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id",
                (f"rest:{self.sender}",)).fetchall()
        slots: dict[str, Any] = {}
        for type_name, data in rows:
            event = json.loads(data)
            if type_name == "slot":
                slots[event["name"]] = event.get("value")
            elif type_name in ("reset_slots", "restart"):
                slots = {}
        return slots
