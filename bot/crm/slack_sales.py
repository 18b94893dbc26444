"""Hot leads in the sales team's Slack channel (`SLACK_SALES_CHANNEL`), via the Web API.

`SlackSalesChannel` is the `bot.crm.base.SalesChannel` the lead outbox delivers alerts
to, with the CRM clients' retries. Bot token scopes: `chat:write` and the history scope
of the channel (`channels:history`, or `groups:history` for a private one).

Exactly once. Slack's `chat.postMessage` has no idempotency key, so a post whose answer
was lost (a timeout, a 5xx, a worker killed before it recorded the result) may or may
not have reached the channel. Every post carries the alert's key in its message
metadata; an attempt after one that may have posted first reads the channel's history
since the lead was created and adopts the message carrying that key instead of posting
a second one. The one window left is Slack's own: a message posted but not yet in the
history when the retry reads it (retries come seconds to minutes later, so in practice
the history already has it). Once a post is confirmed, its `channel:ts` is the row's
reference, and every later change (the CRM contact, who took the lead) is a
`chat.update` of that message, which is idempotent by nature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

from bot.crm.base import (
    DELIVERED,
    REJECTED,
    RETRY,
    DeliveryResult,
    classify_status,
    crm_contact_url,
)
from bot.settings import Settings
from bot.slack.blocks import (
    SALES_TAKE_ACTION,
    SALES_TRANSCRIPT_ACTION,
    sales_alert_blocks,
    sales_alert_text,
)

# Slack errors worth another try.
_RETRYABLE_ERRORS = frozenset({"ratelimited", "internal_error", "service_unavailable",
                               "fatal_error", "request_timeout"})
# Ours to fix, not the lead's (a token, a scope, the bot not in the channel): every alert
# would fail alike, so they keep retrying with an operator alert instead of dying.
_OPERATOR_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive",
                              "token_revoked", "token_expired", "missing_scope",
                              "channel_not_found", "not_in_channel", "is_archived",
                              "no_permission"})
_GONE = "message_not_found"
METADATA_EVENT = "sales_alert"
# Slack's clock and ours may differ; the history is read from a little before the lead.
_HISTORY_MARGIN = timedelta(minutes=5)
# With the update that follows, at most 4 calls: within the lease (runtime.worker_options).
_HISTORY_PAGES = 3


@dataclass(frozen=True)
class SalesClick:
    """A click on one of the alert's buttons, from Slack's `block_actions` payload."""

    action: str  # SALES_TAKE_ACTION or SALES_TRANSCRIPT_ACTION
    lead_id: str
    user_id: str
    user_name: str


def parse_sales_click(payload: Mapping[str, Any]) -> SalesClick | None:
    """The click on an alert button in an interactivity payload; None for any other."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], Mapping) else {}
    if action.get("action_id") not in (SALES_TAKE_ACTION, SALES_TRANSCRIPT_ACTION):
        return None
    user = payload.get("user") or {}
    lead_id, user_id = str(action.get("value") or ""), str(user.get("id") or "")
    if not lead_id or not user_id:
        return None
    name = str(user.get("name") or user.get("username") or user_id)
    return SalesClick(str(action["action_id"]), lead_id, user_id, name)


def message_reference(channel: str, ts: str) -> str:
    """How the outbox keeps a posted message: `channel:ts`."""
    return f"{channel}:{ts}"


def parse_message_reference(reference: str) -> tuple[str, str]:
    channel, _, ts = reference.partition(":")
    return channel, ts


@dataclass(frozen=True)
class _Answer:
    """A Web API answer: `failure` is None when Slack said `ok`."""

    failure: DeliveryResult | None
    body: Mapping[str, Any]

    @property
    def error(self) -> str:
        return str(self.body.get("error") or "")


class SlackSalesChannel:
    """Posts, updates and deletes hot-lead alerts in one Slack channel."""

    name = "slack_sales"

    def __init__(
        self,
        token: str,
        channel: str,
        base_url: str = "https://slack.com/api",
        timeout_seconds: float = 10.0,
        contact_url_template: str = "",
        session: requests.Session | None = None,
    ) -> None:
        """Create the adapter.

        Args:
            token: the bot token (`xoxb-…`).
            channel: the sales channel's id.
            base_url: the Slack Web API base URL.
            timeout_seconds: timeout of each HTTP call.
            contact_url_template: the CRM contact's page, `{id}` for its id.
            session: an HTTP session to reuse (a new one by default).
        """
        self._token = token
        self.channel = channel
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout_seconds = timeout_seconds
        self.contact_url_template = contact_url_template
        self._session = session or requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackSalesChannel | None:
        """The adapter when Slack and a sales channel are configured, else None."""
        if not (settings.slack_token and settings.slack_sales_channel):
            return None
        return cls(settings.slack_token, settings.slack_sales_channel,
                   settings.slack_api_base_url, settings.crm_timeout_seconds,
                   settings.crm_contact_url_template)

    def show_alert(
        self, document: Mapping[str, Any], alert_key: str, message: str | None,
        may_be_posted: bool,
    ) -> DeliveryResult:
        """Post the alert, or update its message; see the module's notes on duplicates."""
        lead = document.get("lead") or {}
        content = {
            "text": sales_alert_text(lead),
            "blocks": sales_alert_blocks(
                lead, crm_contact_url(self.contact_url_template, document.get("crm_reference")),
                document.get("taken_by")),
        }
        if message is None and may_be_posted:
            found = self._find_posted(alert_key, str(lead.get("created_at") or ""))
            if isinstance(found, DeliveryResult):
                return found
            message = found
        if message is not None:
            channel, ts = parse_message_reference(message)
            answer = self._call("chat.update", {"channel": channel, "ts": ts, **content})
            if answer.failure is not None:
                return answer.failure
            return DeliveryResult(DELIVERED, 200, "alert updated", reference=message)
        answer = self._call("chat.postMessage", {
            "channel": self.channel, "unfurl_links": False, **content,
            "metadata": {"event_type": METADATA_EVENT,
                         "event_payload": {"alert_key": alert_key}},
        })
        if answer.failure is not None:
            return answer.failure
        posted = message_reference(str(answer.body.get("channel") or self.channel),
                                   str(answer.body.get("ts") or ""))
        return DeliveryResult(DELIVERED, 200, "alert posted", reference=posted)

    def delete_alert(self, document: Mapping[str, Any]) -> DeliveryResult:
        """Delete the alert's message, found by its key when its post was not confirmed."""
        message = document.get("message_reference")
        if not message:
            found = self._find_posted(str(document.get("alert_key") or ""), "")
            if isinstance(found, DeliveryResult):
                return found
            if found is None:
                return DeliveryResult(DELIVERED, 200, "no alert was posted")
            message = found
        channel, ts = parse_message_reference(str(message))
        answer = self._call("chat.delete", {"channel": channel, "ts": ts})
        if answer.failure is not None and answer.error != _GONE:
            return answer.failure
        return DeliveryResult(DELIVERED, 200, "alert deleted")

    def tell(self, user_id: str, text: str) -> bool:
        """An ephemeral message: only `user_id` sees it, and Slack does not keep it."""
        answer = self._call("chat.postEphemeral",
                            {"channel": self.channel, "user": user_id, "text": text})
        return answer.failure is None

    def _find_posted(self, alert_key: str, since_iso: str) -> str | DeliveryResult | None:
        """The message carrying `alert_key` in the channel's recent history, if any."""
        form: dict[str, Any] = {"channel": self.channel, "include_all_metadata": "true",
                                "limit": 200}
        try:
            since = datetime.fromisoformat(since_iso)
            form["oldest"] = f"{(since - _HISTORY_MARGIN).timestamp():.6f}"
        except ValueError:
            pass  # the deletion of an erased lead: the whole (recent) history
        for _ in range(_HISTORY_PAGES):
            answer = self._call("conversations.history", form, as_form=True)
            if answer.failure is not None:
                return answer.failure
            for message in answer.body.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (metadata.get("event_type") == METADATA_EVENT
                        and payload.get("alert_key") == alert_key):
                    return message_reference(self.channel, str(message.get("ts")))
            cursor = (answer.body.get("response_metadata") or {}).get("next_cursor")
            if not answer.body.get("has_more") or not cursor:
                return None
            form["cursor"] = cursor
        return None

    def _call(self, method: str, body: Mapping[str, Any], as_form: bool = False) -> _Answer:
        # Read methods take form fields; the write methods take JSON (blocks, metadata).
        sent: dict[str, Any] = {"data": dict(body)} if as_form else {"json": dict(body)}
        try:
            answer = self._session.post(
                self.base_url + method,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self.timeout_seconds,
                **sent,
            )
        except requests.RequestException as exc:
            return _Answer(DeliveryResult(RETRY, None, f"Slack unreachable: {type(exc).__name__}"),
                           {})
        if answer.status_code != 200:
            return _Answer(classify_status(answer.status_code, answer.headers.get("Retry-After"),
                                           f"Slack {method}: HTTP {answer.status_code}"), {})
        try:
            result = answer.json()
        except ValueError:
            return _Answer(DeliveryResult(RETRY, 200, "Slack answered with something else "
                                                      "than JSON"), {})
        if result.get("ok"):
            return _Answer(None, result)
        error = str(result.get("error") or "unknown_error")
        detail = f"Slack {method}: {error}"
        if error in _RETRYABLE_ERRORS:
            return _Answer(DeliveryResult(RETRY, 200, detail), result)
        if error in _OPERATOR_ERRORS:
            return _Answer(DeliveryResult(RETRY, 200, f"operator: {detail}", alert=True), result)
        return _Answer(DeliveryResult(REJECTED, 200, detail), result)
