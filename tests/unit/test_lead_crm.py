"""CRM adapters' pure parts: status classification, Retry-After, signing, property
mapping, the fake, and the factory."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from bot.crm.base import (
    DELIVERED,
    REJECTED,
    RETRY,
    DeliveryResult,
    classify_status,
    parse_retry_after,
)
from bot.crm.factory import build_crm_client
from bot.crm.fake import FakeCrmClient
from bot.crm.hubspot import HubSpotClient
from bot.crm.webhook import WebhookClient, sign, verify
from bot.leads.model import Lead, Qualification, build_crm_payload
from bot.settings import SettingsError, load_settings
from tests.support.leads_factory import GIVEN_AT, make_draft


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, DELIVERED), (201, DELIVERED), (204, DELIVERED), (400, REJECTED), (401, RETRY),
     (403, RETRY), (404, REJECTED), (422, REJECTED), (408, RETRY), (425, RETRY),
     (429, RETRY), (500, RETRY), (502, RETRY), (503, RETRY), (504, RETRY), (301, RETRY),
     (302, RETRY)],
)
def test_classify_status(status: int, outcome: str) -> None:
    assert classify_status(status).outcome == outcome
    # Credentials and redirects are the operator's to fix (item 10).
    assert classify_status(status).alert == (status in (301, 302, 401, 403))


def test_retry_after_in_seconds_and_as_a_date() -> None:
    now = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True),
                             now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True),
                             now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert classify_status(429, "7").retry_after == 7


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = '{"name":"Zoë 🚀"}'.encode()
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign("k", body) == f"sha256={expected}"
    assert verify("k", body, sign("k", body))
    assert not verify("k", body + b" ", sign("k", body))
    assert not verify("other", body, sign("k", body))
    assert not verify("k", body, None)


def _lead() -> Lead:
    return Lead("lead-1", make_draft(name="Ada King Lovelace"),
                Qualification(81, "hot", ("timeline: now (+30)", "size: big (+25)")), GIVEN_AT)


def test_hubspot_properties_are_strings_mapped_from_the_payload() -> None:
    client = HubSpotClient(token="t")
    properties = client.properties(build_crm_payload(_lead()))
    assert properties["firstname"] == "Ada"
    assert properties["lastname"] == "King Lovelace"
    assert properties["cloud_advisor_score"] == "81"
    assert properties["cloud_advisor_reasons"] == "timeline: now (+30); size: big (+25)"
    assert properties["cloud_advisor_free_mail"] == "false"
    assert properties["cloud_advisor_recommendation"].startswith("{")
    assert all(isinstance(v, str) for v in properties.values())


def test_hubspot_custom_map_and_missing_paths() -> None:
    client = HubSpotClient(token="t", property_map=[("email", "contact.email"),
                                                    ("x", "no.such.path")])
    # Item 5: an empty value is never sent, so it can never blank a field.
    assert client.properties(build_crm_payload(_lead())) == {
        "email": "ada@analytical.example.io"}


def test_adapters_need_their_credentials() -> None:
    with pytest.raises(ValueError):
        HubSpotClient(token="")
    with pytest.raises(ValueError):
        WebhookClient(url="http://127.0.0.1:1/x", secret="")


def test_the_fake_keeps_one_record_per_key_and_follows_its_script() -> None:
    fake = FakeCrmClient.answering([DeliveryResult(RETRY, 500)])
    assert fake.send({"a": 1}, "k").outcome == RETRY
    assert fake.send({"a": 1}, "k").outcome == DELIVERED
    assert fake.send({"a": 2}, "k").outcome == DELIVERED
    assert len(fake.sent) == 3
    assert fake.records == {"k": {"a": 1}}


def test_factory_chooses_by_setting() -> None:
    assert build_crm_client(load_settings({})) is None
    assert isinstance(build_crm_client(load_settings(
        {"CRM_ADAPTER": "hubspot", "HUBSPOT_TOKEN": "t"})), HubSpotClient)
    assert isinstance(build_crm_client(load_settings(
        {"CRM_ADAPTER": "webhook", "CRM_WEBHOOK_URL": "http://h/x",
         "CRM_WEBHOOK_SECRET": "s"})), WebhookClient)
    with pytest.raises(SettingsError, match="CRM_WEBHOOK_SECRET"):
        build_crm_client(load_settings({"CRM_ADAPTER": "webhook",
                                        "CRM_WEBHOOK_URL": "http://h/x"}))
