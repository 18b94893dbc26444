"""Slack: Rasa's Slack connector, made safe to run behind Slack's Events API.

Use it in `credentials.yml` as `bot.channels.slack.GuardedSlackInput:` (see
`deploy/credentials.slack.yml`); its name is `slack`, so Slack's Request URL stays
`https://<host>/webhooks/slack/webhook` for both Events and Interactivity.

What it adds to `rasa.core.channels.slack.SlackInput`:
- every request must carry a valid `v0` signature made within 5 minutes; refusals are
  logged with their reason only, never their content;
- the webhook acknowledges at once and the turn runs in a background task, so a slow
  action never makes Slack wait more than its 3 seconds; like the widget, a turn slower
  than `TURN_TIMEOUT_SECONDS` gets a "taking longer" notice (its answer follows), and a
  turn that fails or says nothing gets an apology (see `turns.py`);
- events are de-duplicated by `event_id` and by message, so Slack's retries
  (`X-Slack-Retry-Num`) never yield a second answer, while a retry whose first delivery
  was lost is still answered;
- replies go to the message's thread; buttons are Block Kit (within Slack's limits);
  the advisor's scorecard is drawn as blocks; the Web API base URL is configurable;
- clicks on the sales channel's hot-lead alerts ("I'll take it", "Open transcript") go
  to the leads package (`bot.leads.sales_clicks`), not to the bot;
- the bot answers nobody in the sales channel: messages in a handoff's thread go to the
  visitor ("/done" ends it), and its "End handoff" button ends it (`bot.handoff`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.conversation import refusal_for, screen_message
from bot.channels.dedupe import recent_ids_for
from bot.channels.guard import MessageGuard, Verdict
from bot.channels.slack_signature import SignatureCheck, check_signature
from bot.channels.turns import TURN_FAILED_TEXT, TURN_SLOW_LIVE_TEXT, TurnOutcome, run_turn
from bot.crm.slack_sales import parse_sales_click
from bot.handoff.desk import desk_for_app
from bot.handoff.summary import HANDOFF_END_ACTION
from bot.settings import Settings, load_settings
from bot.slack.blocks import (
    escape,
    message_blocks,
    plain_text,
    scorecard_blocks,
    scorecard_fallback,
    text_blocks,
    truncate,
)

logger = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 10
# Keys of a custom payload that are passed to chat.postMessage as they are.
_PASSTHROUGH_KEYS = ("text", "blocks", "attachments", "unfurl_links", "unfurl_media")


def api_base_url(url: str) -> str:
    """slack_sdk joins method names to the base URL, which must end with a slash."""
    return url.rstrip("/") + "/"


class SlackOutput(SlackBot):
    """Posts bot messages to one Slack channel, in a thread when `thread_id` is set."""

    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
        base_url: str = "https://slack.com/api/",
        timeout_seconds: int = SLACK_TIMEOUT_SECONDS,
    ) -> None:
        """Create the output channel.

        Args:
            token: the bot token (`xoxb-…`).
            slack_channel: the channel id to post to.
            thread_id: the `ts` of the thread to reply in.
            proxy: an HTTP proxy for the Web API, if one is needed.
            base_url: the Web API base URL (a local fake in tests).
            timeout_seconds: timeout of each Web API call.
        """
        # SlackBot.__init__ builds a client without base URL or timeout; build our own.
        OutputChannel.__init__(self)
        # Bot messages posted so far: a turn that posted none gets an apology instead.
        self.sent = 0
        self.slack_channel = slack_channel
        self.thread_id = thread_id
        self.proxy = proxy
        self.client = AsyncWebClient(
            token=token, base_url=api_base_url(base_url), timeout=timeout_seconds, proxy=proxy
        )

    async def _post_message(self, channel: str, counted: bool = True, **kwargs: Any) -> None:
        # `as_user` is refused by apps created after 2021; a bot token posts as the bot.
        kwargs.pop("as_user", None)
        kwargs.pop("type", None)
        if self.thread_id:
            kwargs["thread_ts"] = self.thread_id
        await self.client.chat_postMessage(channel=channel, **kwargs)
        if counted:
            self.sent += 1

    async def send_notice(self, recipient_id: str, text: str) -> None:
        """Post a notice from the channel itself (slow or failed turn); not a bot answer."""
        await self._post_message(self._recipient(recipient_id), counted=False,
                                 text=plain_text(text), blocks=text_blocks(text))

    def _recipient(self, recipient_id: str) -> str:
        return self.slack_channel or recipient_id

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Post a text message (one message, however many paragraphs)."""
        await self._post_message(
            self._recipient(recipient_id), text=plain_text(text), blocks=text_blocks(text)
        )

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Post a text with its buttons as a Block Kit actions block."""
        await self._post_message(
            self._recipient(recipient_id),
            text=plain_text(text),
            blocks=message_blocks(text, buttons),
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Post a custom payload: the scorecard as blocks, Slack-shaped payloads as is.

        Payloads meant for other clients (such as the widget's `{"input": "email"}`) are
        not posted: the text that came with them already was.
        """
        channel = self._recipient(recipient_id)
        card = json_message.get("scorecard")
        if isinstance(card, Mapping):
            await self._post_message(
                channel, text=scorecard_fallback(card), blocks=scorecard_blocks(card)
            )
            return
        passthrough = {k: json_message[k] for k in _PASSTHROUGH_KEYS if k in json_message}
        if passthrough:
            await self._post_message(channel, **passthrough)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Post an image block."""
        await self._post_message(
            self._recipient(recipient_id),
            text=image,
            blocks=[{"type": "image", "image_url": image, "alt_text": "image"}],
        )

    async def send_attachment(  # type: ignore[override]
        self, recipient_id: str, attachment: dict[str, Any], **kwargs: Any
    ) -> None:
        """Post a legacy attachment."""
        await self._post_message(self._recipient(recipient_id), attachments=[attachment])


class GuardedSlackInput(SlackInput):
    """Slack Events API and Interactivity endpoint with signature, retry and dedupe guards."""

    @classmethod
    def name(cls) -> str:
        """`slack`: the webhook is `/webhooks/slack/webhook`."""
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from `credentials.yml` (values there come from `${ENV}`).

        `slack_token` and `slack_signing_secret` are required; the Web API base URL
        defaults to `SLACK_API_BASE_URL` from the settings.
        """
        if not credentials:
            cls.raise_missing_credentials_exception()
        credentials = credentials or {}
        settings = load_settings()
        return cls(
            slack_token=str(credentials.get("slack_token") or ""),
            slack_signing_secret=str(credentials.get("slack_signing_secret") or ""),
            slack_channel=credentials.get("slack_channel") or None,
            proxy=credentials.get("proxy"),
            use_threads=bool(credentials.get("use_threads", True)),
            conversation_granularity=credentials.get("conversation_granularity", "channel"),
            api_base_url=credentials.get("slack_api_base_url") or settings.slack_api_base_url,
            settings=settings,
        )

    def __init__(
        self,
        slack_token: str,
        slack_signing_secret: str,
        slack_channel: str | None = None,
        proxy: str | None = None,
        use_threads: bool = True,
        conversation_granularity: str = "channel",
        api_base_url: str = "https://slack.com/api",
        settings: Settings | None = None,
    ) -> None:
        """Create the channel.

        Args:
            slack_token: the bot token.
            slack_signing_secret: the app's signing secret (required).
            slack_channel: a channel the bot answers in without being mentioned.
            proxy: an HTTP proxy for the Web API.
            use_threads: reply in the thread of the user's message.
            conversation_granularity: `sender`, `channel` (one conversation per user and
                channel) or `thread`.
            api_base_url: the Slack Web API base URL.
            settings: the settings (size and rate limits); the environment's by default.
        """
        super().__init__(
            slack_token,
            slack_channel,
            proxy,
            "x-slack-retry-reason",
            "x-slack-retry-num",
            None,
            use_threads,
            slack_signing_secret,
            conversation_granularity,
        )
        if not slack_token:
            raise InvalidConfigException(
                "the Slack channel needs a bot token: set SLACK_TOKEN (slack_token in the "
                "credentials)"
            )
        self.api_base_url = api_base_url
        self.settings = settings or load_settings()
        self.guard = MessageGuard.from_settings(self.settings)
        self.seen = recent_ids_for(self.settings)

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        """The output channel for a reply in `channel` (and `thread_id`, if threaded)."""
        return SlackOutput(
            self.slack_token,
            channel or self.slack_channel,
            thread_id if self.use_threads else None,
            self.proxy,
            base_url=self.api_base_url,
        )

    def check_request(self, request: Request) -> SignatureCheck:
        """Check the request's `v0` signature and timestamp against its raw body."""
        return check_signature(
            self.slack_signing_secret,
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
            request.body or b"",
        )

    def is_request_from_slack_authentic(self, request: Request) -> bool:
        """True when the request carries a valid, fresh signature."""
        return self.check_request(request) is SignatureCheck.VALID

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        # Keep a reference until done: the loop holds only weak references to tasks.
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _run_turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any,
        raw: str,
        conversation_id: str,
        metadata: dict[str, Any],
    ) -> None:
        output = self.get_output_channel(metadata.get("out_channel"), metadata.get("thread_id"))
        try:
            result, text = await screen_message(agent, self.guard, conversation_id, raw)
            if result.verdict is Verdict.EMPTY:
                return
            if not result.accepted:
                logger.info("slack: message refused (%s)", result.verdict.value)
                await output.send_text_message(
                    conversation_id, refusal_for(agent, self.guard, result.verdict)
                )
                return
            assert isinstance(output, SlackOutput)
            # Like the widget: past the time limit the visitor is told so and the late
            # answer is posted when it comes; a turn that fails or says nothing gets
            # an apology rather than silence.
            outcome = await run_turn(
                on_new_message(UserMessage(text, output, conversation_id,
                                           input_channel=self.name(), metadata=metadata)),
                lambda: output.sent > 0,
                self.settings.turn_timeout_seconds,
                channel="slack",
                on_slow=lambda: output.send_notice(conversation_id, TURN_SLOW_LIVE_TEXT),
            )
            if outcome is not TurnOutcome.ANSWERED:
                await output.send_notice(conversation_id, TURN_FAILED_TEXT)
        except Exception:
            # Without content: the message may hold an email address or a name.
            logger.exception("slack: failed to handle an event")

    async def _mark_choice(self, payload: Mapping[str, Any], title: str) -> None:
        """Replace the clicked message's buttons with a note of the choice."""
        message = payload.get("message") or {}
        channel = (payload.get("channel") or {}).get("id")
        ts = message.get("ts")
        user = (payload.get("user") or {}).get("id", "")
        if not channel or not ts:
            return
        blocks = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": truncate(f"<@{escape(user)}> chose *{escape(title)}*",
                                                300)}]})
        output = self.get_output_channel(channel)
        assert isinstance(output, SlackOutput)
        try:
            await output.client.chat_update(
                channel=channel, ts=ts, text=message.get("text") or title, blocks=blocks
            )
        except Exception:
            logger.warning("slack: could not mark the chosen button", exc_info=True)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The Slack routes: a health check and the guarded webhook."""
        webhook = Blueprint("guarded_slack_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            check = self.check_request(request)
            if check is not SignatureCheck.VALID:
                logger.warning("slack: request refused (%s)", check.value)
                return response.text("invalid request signature",
                                     status=HTTPStatus.UNAUTHORIZED)
            retry = request.headers.get(self.retry_num_header or "x-slack-retry-num")
            if retry:
                # A retry of an event we already took is dropped by the event-id check
                # below; one whose first delivery never reached us is answered, so a
                # lost delivery does not lose the visitor's message.
                logger.info(
                    "slack: retry %s received (reason: %s)",
                    retry,
                    request.headers.get(self.retry_reason_header or "x-slack-retry-reason"),
                )

            content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
            agent = getattr(request.app.ctx, "agent", None)
            if content_type == "application/json":
                return await self._handle_event(request, on_new_message, agent)
            if content_type == "application/x-www-form-urlencoded":
                return await self._handle_interaction(request, on_new_message, agent)
            return response.text("unsupported content type",
                                 status=HTTPStatus.UNSUPPORTED_MEDIA_TYPE)

        # add_route rather than decorators: Sanic's decorators are untyped.
        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(receive, "/webhook", methods=["POST"])
        return webhook

    async def _handle_event(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any,
    ) -> HTTPResponse:
        try:
            payload = json.loads(request.body)
        except ValueError:
            return response.text("malformed JSON", status=HTTPStatus.BAD_REQUEST)
        if not isinstance(payload, Mapping):
            return response.text("malformed event", status=HTTPStatus.BAD_REQUEST)
        if payload.get("type") == "url_verification":
            return response.json({"challenge": payload.get("challenge")})
        if payload.get("type") != "event_callback":
            return response.text("")
        event_id = payload.get("event_id")
        if isinstance(event_id, str) and not await self.seen.first_time(f"event:{event_id}"):
            logger.info("slack: duplicate event dropped")
            return response.text("")
        event = payload.get("event")
        if (isinstance(event, Mapping) and self.settings.slack_sales_channel
                and event.get("channel") == self.settings.slack_sales_channel):
            return self._route_sales_channel_event(request, event)
        if not isinstance(event, Mapping) or not self._is_user_message(dict(payload)):
            return response.text("")
        if event.get("subtype"):
            return response.text("")  # edits, joins, bot posts: not something to answer
        channel = event.get("channel")
        metadata = self.get_metadata(request)
        metadata["out_channel"] = channel
        metadata["thread_id"] = event.get("thread_ts") or event.get("ts")
        if not self._is_supported_channel(dict(payload), metadata):
            return response.text("channel not supported")
        # A mention in a channel the bot listens to arrives twice (`message` and
        # `app_mention`, with different event ids): answer the message once.
        if not await self.seen.first_time(f"message:{channel}:{event.get('ts')}"):
            return response.text("")
        user = str(event.get("user") or "")
        conversation_id = self._get_conversation_id(user, channel, metadata["thread_id"])
        if not conversation_id:
            return response.text("")
        text = self._sanitize_user_message(str(event.get("text") or ""), metadata.get("users"))
        self._spawn(self._run_turn(on_new_message, agent, text, conversation_id, metadata))
        return response.text("")

    def _route_sales_channel_event(self, request: Request,
                                   event: Mapping[str, Any]) -> HTTPResponse:
        """A sales engineer's message in a handoff's thread goes to the visitor."""
        desk = desk_for_app(request.app, self.settings)
        thread_ts, user, text = event.get("thread_ts"), event.get("user"), event.get("text")
        if (desk is not None and event.get("type") == "message" and thread_ts and user
                and isinstance(text, str) and text.strip()
                and not event.get("subtype") and not event.get("bot_id")):
            self._spawn(_ignore_result(desk.engineer_said(str(thread_ts), str(user), text)))
        return response.text("")

    async def _handle_interaction(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any,
    ) -> HTTPResponse:
        try:
            payload = json.loads(request.form.get("payload") or "")
        except ValueError:
            return response.text("malformed payload", status=HTTPStatus.BAD_REQUEST)
        if not isinstance(payload, Mapping) or not self._is_interactive_message(dict(payload)):
            return response.text("")
        action = payload["actions"][0]
        value = self._get_interactive_response(action)
        if value is None:
            return response.text("")  # a link button: nothing to send to the bot
        key = payload.get("trigger_id") or f"{action.get('action_id')}:{action.get('action_ts')}"
        if not await self.seen.first_time(f"action:{key}"):
            logger.info("slack: duplicate interaction dropped")
            return response.text("")
        if action.get("action_id") == HANDOFF_END_ACTION:
            desk = desk_for_app(request.app, self.settings)
            user_id = str((payload.get("user") or {}).get("id") or "")
            if desk is not None:
                self._spawn(_ignore_result(desk.end(str(value), f"<@{escape(user_id)}>")))
                self._spawn(self._mark_choice(payload, "End handoff"))
            return response.text("")
        sales_click = parse_sales_click(payload)
        if sales_click is not None:
            # A hot-lead alert's button: for the leads package, not a message to the bot.
            # Imported here: the leads database stack loads only once the sales channel is used.
            from bot.leads.sales_clicks import answer_sales_click_soon

            self._spawn(answer_sales_click_soon(sales_click))
            return response.text("")
        message = payload.get("message") or {}
        channel = (payload.get("channel") or {}).get("id")
        user = (payload.get("user") or {}).get("id")
        thread_id = message.get("thread_ts") or message.get("ts")
        conversation_id = self._get_conversation_id(user, channel, thread_id)
        if not conversation_id:
            return response.text("")
        metadata = {"out_channel": channel, "thread_id": thread_id,
                    "users": [user] if user else []}
        title = (action.get("text") or {}).get("text") or str(value)
        self._spawn(self._mark_choice(payload, title))
        self._spawn(self._run_turn(on_new_message, agent, value, conversation_id, metadata))
        return response.text("")


async def _ignore_result(work: Awaitable[Any]) -> None:
    try:
        await work
    except Exception:
        logger.exception("slack: a handoff step failed")
