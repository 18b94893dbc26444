"""Choosing the CRM adapter from the settings (CRM_ADAPTER)."""

from __future__ import annotations

from bot.crm.base import CrmClient
from bot.crm.hubspot import HubSpotClient
from bot.crm.webhook import WebhookClient
from bot.settings import Settings, SettingsError


def build_crm_client(settings: Settings) -> CrmClient | None:
    """The configured CRM client, or None for `CRM_ADAPTER=none` (leads stay local).

    Raises:
        SettingsError: when the adapter is unknown or its settings are missing; the
            message names the variable.
    """
    settings.check()
    if settings.crm_adapter == "hubspot":
        for prop, path in settings.hubspot_property_map:
            if not prop or not path:
                raise SettingsError(
                    "HUBSPOT_PROPERTY_MAP must be comma-separated property=payload.path "
                    f"pairs; got {prop or path!r} without its other half"
                )
        return HubSpotClient(
            token=settings.hubspot_token,
            base_url=settings.hubspot_base_url,
            timeout_seconds=settings.crm_timeout_seconds,
            property_map=settings.hubspot_property_map,
        )
    if settings.crm_adapter == "webhook":
        return WebhookClient(
            url=settings.crm_webhook_url,
            secret=settings.crm_webhook_secret,
            timeout_seconds=settings.crm_timeout_seconds,
        )
    return None
