"""In-memory CRM and sales channel for tests: scripted answers, and a record of what they got."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.crm.base import DELIVERED, REJECTED, RETRY, DeliveryResult


@dataclass
class FakeCrmClient:
    """Answers with the scripted results in turn (then `delivered`), keeping one record
    per idempotency key, as a well-behaved CRM would, and dropping it on `erase`.

    Attributes:
        sent: Every (idempotency key, payload) it was given, in order.
        records: The leads it holds, by idempotency key.
    """

    script: list[DeliveryResult] = field(default_factory=list)
    name: str = "fake"
    sent: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    records: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def answering(cls, results: Iterable[DeliveryResult]) -> FakeCrmClient:
        return cls(script=list(results))

    def erase(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        self.sent.append((idempotency_key, payload))
        result = self.script.pop(0) if self.script else DeliveryResult(DELIVERED, 204, "ok")
        if result.outcome == DELIVERED:
            lead_id = payload.get("lead_id")
            for key in [k for k, v in self.records.items() if v.get("lead_id") == lead_id]:
                del self.records[key]
        return result

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        self.sent.append((idempotency_key, payload))
        result = self.script.pop(0) if self.script else DeliveryResult(DELIVERED, 201, "ok")
        if result.outcome == DELIVERED:
            self.records.setdefault(idempotency_key, payload)
        return result


@dataclass
class FakeSalesChannel:
    """An in-memory sales channel that keeps one message per alert key, as the Slack
    adapter does by finding its earlier post; it can lose the answer of its next post
    (posted, reported as a timeout), the window that adapter must survive.

    Attributes:
        messages: What each message shows now, by message reference.
        told: Every (user id, text) shown to one member only.
    """

    name: str = "fake_sales_channel"
    lose_next_answer: bool = False
    posts: int = 0
    messages: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    told: list[tuple[str, str]] = field(default_factory=list)

    def show_alert(self, document: Mapping[str, Any], alert_key: str, message: str | None,
                   may_be_posted: bool) -> DeliveryResult:
        if message is None and may_be_posted:
            message = self.by_key.get(alert_key)
        if message is not None:
            if message not in self.messages:
                return DeliveryResult(REJECTED, 200, "message_not_found")
            self.messages[message] = document
            return DeliveryResult(DELIVERED, 200, "updated", reference=message)
        self.posts += 1
        message = f"CFAKE:{self.posts}"
        self.messages[message] = document
        self.by_key[alert_key] = message
        if self.lose_next_answer:
            self.lose_next_answer = False
            return DeliveryResult(RETRY, None, "timed out (but posted)")
        return DeliveryResult(DELIVERED, 200, "posted", reference=message)

    def delete_alert(self, document: Mapping[str, Any]) -> DeliveryResult:
        message = document.get("message_reference") or self.by_key.get(
            str(document.get("alert_key")))
        self.messages.pop(str(message), None)
        return DeliveryResult(DELIVERED, 200, "deleted")

    def tell(self, user_id: str, text: str) -> bool:
        self.told.append((user_id, text))
        return True
