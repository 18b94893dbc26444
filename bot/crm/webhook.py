"""A signed JSON webhook: for CRMs (or middleware) that take an HTTP POST.

The body is the lead payload as compact, key-sorted UTF-8 JSON. The receiver verifies
`X-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes under the shared
secret, and should drop a second request carrying an `Idempotency-Key` it has seen.

An erased lead ("forget me") is announced the same way, signed, as the event
`{"event": "lead.erased", "lead_id", "idempotency_key", "erased_at"}`: the receiver
deletes what it holds for that lead id. Redirects are never followed: a 301 that turned
the POST into a GET would otherwise look delivered.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import requests

from bot.crm.base import (
    DELIVERED,
    ERASED_EVENT,
    RETRY,
    DeliveryResult,
    classify_status,
    payload_to_json,
    short,
)

SIGNATURE_HEADER = "X-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`: `sha256=<hex digest>`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header_value: str | None) -> bool:
    """True when `header_value` is the signature of `body` (constant-time compare)."""
    return bool(header_value) and hmac.compare_digest(sign(secret, body), header_value or "")


class WebhookClient:
    """POSTs each lead to one URL, signed, with its idempotency key."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        timeout_seconds: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        """
        Args:
            url: Where to POST (CRM_WEBHOOK_URL).
            secret: The shared HMAC secret (CRM_WEBHOOK_SECRET).
            timeout_seconds: Connect and read timeout of every request.
            session: A `requests.Session` to reuse connections (a new one by default).
        """
        if not url or not secret:
            raise ValueError("the webhook needs a URL and a secret")
        self._url = url
        self._secret = secret
        self._timeout = timeout_seconds
        self._session = session or requests.Session()

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """POST the payload. 2xx, and 409 (already received), count as delivered."""
        return self._post(payload, idempotency_key, "lead")

    def erase(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """POST the signed `lead.erased` event (no personal data in it)."""
        event = {
            "event": ERASED_EVENT,
            "lead_id": payload.get("lead_id"),
            "idempotency_key": idempotency_key,
            "erased_at": payload.get("erased_at"),
        }
        return self._post(event, idempotency_key, "erasure")

    def _post(self, document: Mapping[str, Any], idempotency_key: str, what: str
              ) -> DeliveryResult:
        body = payload_to_json(document).encode("utf-8")
        try:
            response = self._session.post(
                self._url,
                data=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    SIGNATURE_HEADER: sign(self._secret, body),
                    IDEMPOTENCY_HEADER: idempotency_key,
                    "User-Agent": "cloud-advisor-leads/1",
                },
                timeout=(self._timeout, self._timeout),
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            return DeliveryResult(RETRY, None, f"timeout after {self._timeout}s: {exc}")
        except requests.RequestException as exc:
            return DeliveryResult(RETRY, None, f"connection failed: {short(str(exc))}")
        if response.status_code == 409:
            return DeliveryResult(DELIVERED, 409, f"receiver already had this {what} (409)")
        result = classify_status(
            response.status_code,
            response.headers.get("Retry-After"),
            f"HTTP {response.status_code}: {short(response.text)}",
        )
        if result.outcome == DELIVERED:
            return DeliveryResult(DELIVERED, response.status_code,
                                  f"HTTP {response.status_code}",
                                  reference=response.headers.get("X-Record-Id"))
        return result
