"""Hot leads posted to the sales team's Slack channel (`SLACK_SALES_CHANNEL`).

`SlackSalesNotifier` has the same `send(payload, idempotency_key)` method and result as
the CRM clients (`bot.crm.base.CrmClient`), so the lead outbox can deliver to it with
its retries; `FakeSalesNotifier` records what it was given, for tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from bot.channels.slack_blocks import lead_summary_blocks, truncate
from bot.crm.base import DELIVERED, REJECTED, RETRY, DeliveryResult, classify_status
from bot.settings import Settings

# Slack errors worth another try; any other `ok: false` is a configuration problem.
_RETRYABLE_ERRORS = frozenset({"ratelimited", "internal_error", "service_unavailable",
                               "fatal_error", "request_timeout"})


def is_hot(payload: Mapping[str, Any]) -> bool:
    """True for a lead the scoring put in the `hot` tier."""
    return (payload.get("qualification") or {}).get("tier") == "hot"


def summary_text(payload: Mapping[str, Any]) -> str:
    """The notification line of a lead post (no email address: it shows in previews)."""
    contact = payload.get("contact") or {}
    qualification = payload.get("qualification") or {}
    company = contact.get("company") or "unknown company"
    return truncate(
        f"{str(qualification.get('tier') or 'new').capitalize()} lead from {company}"
        f" (score {qualification.get('score', '?')})",
        300,
    )


class SlackSalesNotifier:
    """Posts a lead summary to one Slack channel with `chat.postMessage`."""

    name = "slack_sales"

    def __init__(
        self,
        token: str,
        channel: str,
        base_url: str = "https://slack.com/api",
        timeout_seconds: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        """Create the notifier.

        Args:
            token: the bot token (`xoxb-…`), with the `chat:write` scope.
            channel: the sales channel's id.
            base_url: the Slack Web API base URL.
            timeout_seconds: timeout of the HTTP call.
            session: an HTTP session to reuse (a new one by default).
        """
        self._token = token
        self.channel = channel
        self.url = base_url.rstrip("/") + "/chat.postMessage"
        self.timeout_seconds = timeout_seconds
        self._session = session or requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackSalesNotifier | None:
        """The notifier when Slack and a sales channel are configured, else None."""
        if not (settings.slack_token and settings.slack_sales_channel):
            return None
        return cls(settings.slack_token, settings.slack_sales_channel,
                   settings.slack_api_base_url)

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """Post the lead; never raises for network or API errors, reports them.

        Args:
            payload: the lead document (`bot.leads.model.build_crm_payload`).
            idempotency_key: the lead's key (Slack has no idempotency: the outbox's
                delivered mark is what prevents a second post).
        """
        body = {
            "channel": self.channel,
            "text": summary_text(payload),
            "blocks": lead_summary_blocks(payload),
            "unfurl_links": False,
        }
        try:
            answer = self._session.post(
                self.url,
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self.timeout_seconds,
            )
        except requests.RequestException as exc:
            return DeliveryResult(RETRY, None, f"Slack unreachable: {type(exc).__name__}")
        if answer.status_code != 200:
            return classify_status(answer.status_code, answer.headers.get("Retry-After"))
        try:
            result = answer.json()
        except ValueError:
            return DeliveryResult(RETRY, 200, "Slack answered with something else than JSON")
        if result.get("ok"):
            return DeliveryResult(DELIVERED, 200, "posted", reference=result.get("ts"))
        error = str(result.get("error") or "unknown_error")
        outcome = RETRY if error in _RETRYABLE_ERRORS else REJECTED
        return DeliveryResult(outcome, 200, f"Slack error: {error}")


@dataclass
class FakeSalesNotifier:
    """Records the leads it is given and answers `delivered`."""

    name: str = "fake_slack_sales"
    posted: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    def send(self, payload: Mapping[str, Any], idempotency_key: str) -> DeliveryResult:
        """Record the lead."""
        self.posted.append((idempotency_key, payload))
        return DeliveryResult(DELIVERED, 200, "recorded")
