"""HubSpot: the CRM v3 contacts API with a private-app bearer token.

A new lead creates a contact. HubSpot answers 409 when a contact with that email exists;
that counts as delivered, and the existing contact is updated with the new properties
(PATCH), so the CRM holds one contact per person however often a lead is re-sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from bot.crm.base import DELIVERED, RETRY, DeliveryResult, classify_status, short

# HubSpot property <- payload field (dotted path). Custom properties (cloud_advisor_*)
# must exist in the HubSpot account; HUBSPOT_PROPERTY_MAP replaces this table.
DEFAULT_PROPERTY_MAP: tuple[tuple[str, str], ...] = (
    ("email", "contact.email"),
    ("firstname", "contact.first_name"),
    ("lastname", "contact.last_name"),
    ("company", "contact.company"),
    ("jobtitle", "contact.role"),
    ("cloud_advisor_lead_id", "lead_id"),
    ("cloud_advisor_score", "qualification.score"),
    ("cloud_advisor_tier", "qualification.tier"),
    ("cloud_advisor_reasons", "qualification.reasons"),
    ("cloud_advisor_timeline", "timeline"),
    ("cloud_advisor_size", "size"),
    ("cloud_advisor_budget", "budget"),
    ("cloud_advisor_recommendation", "recommendation"),
    ("cloud_advisor_profile", "profile"),
    ("cloud_advisor_summary", "transcript_summary"),
    ("cloud_advisor_consent_version", "consent.version"),
    ("cloud_advisor_consent_at", "consent.given_at"),
    ("cloud_advisor_free_mail", "contact.email_is_free_mail"),
)

_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


class HubSpotClient:
    """Creates (or updates) a HubSpot contact per lead."""

    name = "hubspot"

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.hubapi.com",
        timeout_seconds: float = 10.0,
        property_map: Sequence[tuple[str, str]] = (),
        session: requests.Session | None = None,
    ) -> None:
        """
        Args:
            token: A private-app access token (sent as `Authorization: Bearer`).
            base_url: The API root (a stand-in's address in tests).
            timeout_seconds: Connect and read timeout of every request.
            property_map: (HubSpot property, payload path) pairs; empty for the default.
            session: A `requests.Session` to reuse connections (a new one by default).
        """
        if not token:
            raise ValueError("HubSpot needs a token (HUBSPOT_TOKEN)")
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._property_map = tuple(property_map) or DEFAULT_PROPERTY_MAP
        self._session = session or requests.Session()

    def properties(self, payload: Mapping[str, Any]) -> dict[str, str]:
        """The contact properties for `payload`, as HubSpot wants them (all strings)."""
        return {prop: _as_property(_lookup(payload, path)) for prop, path in self._property_map}

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """Create the contact; on 409 (existing email) update it instead."""
        properties = self.properties(payload)
        created = self._request(
            "POST", "/crm/v3/objects/contacts", properties, idempotency_key
        )
        if isinstance(created, DeliveryResult):
            return created
        if created.status_code != 409:
            return self._result(created)
        # The person is already a contact: update it, which also makes a re-send after
        # a crash harmless.
        match = _EXISTING_ID.search(created.text or "")
        if match:
            path = f"/crm/v3/objects/contacts/{match.group(1)}"
        else:
            email = str(properties.get("email", ""))
            path = f"/crm/v3/objects/contacts/{quote(email, safe='')}?idProperty=email"
        updated = self._request("PATCH", path, properties, idempotency_key)
        if isinstance(updated, DeliveryResult):
            return updated
        result = self._result(updated)
        if result.outcome == DELIVERED:
            return DeliveryResult(
                DELIVERED, result.status_code, "existing contact updated (409 then PATCH)",
                reference=result.reference,
            )
        return result

    def _request(
        self, method: str, path: str, properties: Mapping[str, str], idempotency_key: str
    ) -> requests.Response | DeliveryResult:
        try:
            return self._session.request(
                method,
                self._base_url + path,
                data=json.dumps({"properties": properties}, ensure_ascii=False).encode(),
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Content-Type": "application/json; charset=utf-8",
                    "Idempotency-Key": idempotency_key,
                },
                timeout=(self._timeout, self._timeout),
            )
        except requests.Timeout as exc:
            return DeliveryResult(RETRY, None, f"timeout after {self._timeout}s: {exc}")
        except requests.RequestException as exc:
            return DeliveryResult(RETRY, None, f"connection failed: {short(str(exc))}")

    @staticmethod
    def _result(response: requests.Response) -> DeliveryResult:
        result = classify_status(
            response.status_code,
            response.headers.get("Retry-After"),
            f"HTTP {response.status_code}: {short(response.text)}",
        )
        if result.outcome != DELIVERED:
            return result
        try:
            reference = str(response.json().get("id") or "") or None
        except ValueError:
            reference = None
        return DeliveryResult(DELIVERED, response.status_code, f"HTTP {response.status_code}",
                              reference=reference)


def _lookup(payload: Mapping[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _as_property(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
