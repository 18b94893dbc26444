"""An in-memory CRM for unit tests: scripted answers, and a record of what it got."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.crm.base import DELIVERED, DeliveryResult


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
