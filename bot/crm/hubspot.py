"""HubSpot: the CRM v3 contacts API with a private-app bearer token.

A new lead creates a contact (empty values are never sent). HubSpot answers 409 when a
contact with that email exists. Anyone can type a customer's email into the chat, so
the existing contact is not overwritten: only the properties a chat lead owns (the
`cloud_advisor_*` ones) are updated, identity fields (name, company, job title) only
fill blanks, and the lead itself is recorded as a note associated with the contact.

Erasure ("forget me"): a contact the lead created is removed with the GDPR delete
(`POST /crm/v3/objects/contacts/gdpr-delete`); for an existing contact only the lead's
note is deleted. Redirects are never followed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from bot.crm.base import DELIVERED, REJECTED, RETRY, DeliveryResult, classify_status, short

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
CONTACTS = "/crm/v3/objects/contacts"
NOTES = "/crm/v3/objects/notes"
# HubSpot-defined association type "note to contact".
NOTE_TO_CONTACT = 202
# On an existing contact these are only filled when empty: a chat must not rename anyone.
FILL_ONLY_WHEN_EMPTY = frozenset({"firstname", "lastname", "company", "jobtitle"})
# Never changed on an existing contact (the lead id says "this lead created it").
NEVER_UPDATED_PATHS = frozenset({"contact.email", "lead_id"})
NOTE_PREFIX = "note:"


class HubSpotClient:
    """Creates a HubSpot contact per lead (or notes the lead on an existing one)."""

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
        """The contact properties for `payload`, as HubSpot wants them (all strings);
        empty values are left out, so they can never blank a field."""
        values = {prop: _as_property(_lookup(payload, path)) for prop, path in self._property_map}
        return {prop: value for prop, value in values.items() if value != ""}

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """Create the contact; on 409 (existing email) note the lead on it instead."""
        properties = self.properties(payload)
        created = self._request("POST", CONTACTS, {"properties": properties}, idempotency_key)
        if isinstance(created, DeliveryResult):
            return created
        if created.status_code != 409:
            return self._result(created)
        match = _EXISTING_ID.search(created.text or "")
        contact_id = match.group(1) if match else None
        return self._note_on_existing(payload, properties, contact_id, idempotency_key)

    def _note_on_existing(
        self, payload: Mapping[str, Any], properties: Mapping[str, str],
        contact_id: str | None, idempotency_key: str,
    ) -> DeliveryResult:
        email = properties.get("email", "")
        found = self._get_contact(contact_id or email, by_email=contact_id is None)
        if isinstance(found, DeliveryResult):
            return found
        contact_id = str(found.get("id") or contact_id or "")
        current = found.get("properties") or {}
        fixed_props = {prop for prop, path in self._property_map if path in NEVER_UPDATED_PATHS}
        update = {
            prop: value for prop, value in properties.items()
            if prop not in fixed_props
            and (prop not in FILL_ONLY_WHEN_EMPTY or not str(current.get(prop) or "").strip())
        }
        if update:
            patched = self._request("PATCH", f"{CONTACTS}/{quote(contact_id, safe='')}",
                                    {"properties": update}, idempotency_key)
            if isinstance(patched, DeliveryResult):
                return patched
            result = self._result(patched)
            if result.outcome != DELIVERED:
                return result
        note = self._request("POST", NOTES, {
            "properties": {
                "hs_timestamp": str(payload.get("created_at") or ""),
                "hs_note_body": note_body(payload),
            },
            "associations": [{
                "to": {"id": contact_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED",
                           "associationTypeId": NOTE_TO_CONTACT}],
            }],
        }, idempotency_key)
        if isinstance(note, DeliveryResult):
            return note
        result = self._result(note)
        if result.outcome != DELIVERED:
            return result
        return DeliveryResult(
            DELIVERED, result.status_code,
            "existing contact: chat fields updated, lead recorded as a note (409)",
            reference=f"{NOTE_PREFIX}{result.reference}" if result.reference else None,
        )

    def erase(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """Delete what the lead put in HubSpot: its note on an existing contact, or the
        contact it created (GDPR delete). Already gone counts as done."""
        reference = str(payload.get("crm_reference") or "")
        if reference.startswith(NOTE_PREFIX):
            path = f"{NOTES}/{quote(reference[len(NOTE_PREFIX):], safe='')}"
            return self._gone(self._request("DELETE", path, None, idempotency_key), "note")
        if not reference:
            # No delivery reported a record (a worker died mid-send): delete the contact
            # only if this lead created it, never a customer who was there before.
            reference_or_result = self._contact_created_by(payload)
            if isinstance(reference_or_result, DeliveryResult):
                return reference_or_result
            reference = reference_or_result
        deleted = self._request("POST", f"{CONTACTS}/gdpr-delete", {"objectId": reference},
                                idempotency_key)
        return self._gone(deleted, "contact (GDPR delete)")

    def _contact_created_by(self, payload: Mapping[str, Any]) -> str | DeliveryResult:
        lead_prop = next((p for p, path in self._property_map if path == "lead_id"), None)
        email = str(payload.get("email") or "")
        if not lead_prop or not email:
            return DeliveryResult(REJECTED, None, "cannot tell which HubSpot contact this "
                                  "lead created (no reference, no lead id property)")
        found = self._get_contact(email, by_email=True, extra=(lead_prop,))
        if isinstance(found, DeliveryResult):
            if found.status_code == 404:
                return DeliveryResult(DELIVERED, 404, "no such contact: nothing to erase")
            return found
        if (found.get("properties") or {}).get(lead_prop) != payload.get("lead_id"):
            return DeliveryResult(DELIVERED, 200, "the contact was not created by this "
                                  "lead: left alone")
        return str(found.get("id") or "")

    def _get_contact(
        self, key: str, by_email: bool, extra: Sequence[str] = ()
    ) -> dict[str, Any] | DeliveryResult:
        names = ",".join(sorted(FILL_ONLY_WHEN_EMPTY | set(extra)))
        path = f"{CONTACTS}/{quote(key, safe='')}?properties={names}"
        if by_email:
            path += "&idProperty=email"
        response = self._request("GET", path, None, None)
        if isinstance(response, DeliveryResult):
            return response
        result = self._result(response)
        if result.outcome != DELIVERED:
            return result
        try:
            found = response.json()
        except ValueError:
            return DeliveryResult(RETRY, response.status_code, "contact lookup: not JSON")
        return dict(found) if isinstance(found, Mapping) else {}

    def _gone(self, response: requests.Response | DeliveryResult, what: str) -> DeliveryResult:
        if isinstance(response, DeliveryResult):
            return response
        if response.status_code == 404:
            return DeliveryResult(DELIVERED, 404, f"{what} already gone")
        result = self._result(response)
        if result.outcome == DELIVERED:
            return DeliveryResult(DELIVERED, result.status_code, f"{what} deleted")
        return result

    def _request(
        self, method: str, path: str, body: Mapping[str, Any] | None,
        idempotency_key: str | None,
    ) -> requests.Response | DeliveryResult:
        headers = {"Authorization": f"Bearer {self._token}"}
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            return self._session.request(
                method,
                self._base_url + path,
                data=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
                headers=headers,
                timeout=(self._timeout, self._timeout),
                allow_redirects=False,
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
            body = response.json() if response.content else {}
            reference = str(body.get("id") or "") or None if isinstance(body, dict) else None
        except ValueError:
            reference = None
        return DeliveryResult(DELIVERED, response.status_code, f"HTTP {response.status_code}",
                              reference=reference)


def note_body(payload: Mapping[str, Any]) -> str:
    """The note recording a chat lead on an existing contact (what the visitor said)."""
    contact = payload.get("contact") or {}
    qualification = payload.get("qualification") or {}
    lines = [
        f"Cloud advisor lead {payload.get('lead_id', '')}",
        f"Name given in the chat: {contact.get('name', '')}",
        f"Company: {contact.get('company', '')}; role: {contact.get('role', '')}",
        f"Tier: {qualification.get('tier', '')} (score {qualification.get('score', '')})",
        f"Timeline: {payload.get('timeline', '')}; size: {payload.get('size', '')}; "
        f"budget: {payload.get('budget', '')}",
        f"Summary: {payload.get('transcript_summary', '')}",
    ]
    return "\n".join(lines)


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
