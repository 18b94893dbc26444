"""The handoff desk: starts, relays and ends handoffs for the channels of one replica.

The channels call it; it calls the adapters (`HandoffStore`, `HandoffThreads`,
`ConversationLog`). Every change goes through the store's compare-and-set, so when two
replicas race (a "/done" and the wait running out) exactly one acts. What the visitor
must see is published as a delivery; each replica's widget emits it to the sockets it
holds (`Delivery` keys: `conversation_id`, `kind` = `status` | `message` | `ended`,
`status`, `engineer`, and for messages `text`, `buttons`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event

from bot.handoff.rasa_log import ConversationLog
from bot.handoff.slack_threads import HandoffThreads
from bot.handoff.states import Change, HandoffState, Status, may_start
from bot.handoff.store import HandoffStore, Listener
from bot.handoff.summary import brief_from_slots, handoff_blocks, handoff_text
from bot.opening_hours import OpeningSpan, is_open, parse_hours, time_zone
from bot.settings import Settings

logger = logging.getLogger(__name__)

# What a sales engineer writes in the thread to hand the conversation back.
DONE_COMMAND = "/done"
# The responses the desk says itself (domain.yml), with a fallback for a domain without.
ENDED_RESPONSE = "utter_handoff_ended"
NO_ANSWER_RESPONSE = "utter_handoff_no_answer"
_FALLBACK_TEXTS = {
    ENDED_RESPONSE: "You're back with the assistant. Ask me anything.",
    NO_ANSWER_RESPONSE: "Sorry, nobody from our team is free right now. Leave your "
                        "details and we'll get back to you.",
}
# How long (in steps) a reply to a thread not yet recorded waits for its record.
THREAD_RECORD_WAITS = (0.2, 0.4, 0.8, 1.6)
# Metadata of an engineer's message in the tracker: the name the visitor saw.
ENGINEER_KEY = "handoff_engineer"


class HandoffDesk:
    """The handoffs of the conversations this replica serves."""

    def __init__(
        self,
        store: HandoffStore,
        threads: HandoffThreads | None,
        log: ConversationLog,
        hours: tuple[OpeningSpan, ...],
        zone: Any,
        wait_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        """Create the desk.

        Args:
            store: the shared state and deliveries.
            threads: the sales channel's threads; None when no sales channel is set
                (then no handoff is ever offered).
            log: the conversations' history.
            hours: when a handoff may start (`hours.parse_hours`).
            zone: the time zone of `hours` (a `zoneinfo.ZoneInfo`).
            wait_seconds: how long a visitor waits for an answer before the lead form
                is offered instead.
            clock: the current time, time-zone aware (injected by tests).
        """
        self.store = store
        self.threads = threads
        self.log = log
        self.hours = hours
        self.zone = zone
        self.wait_seconds = wait_seconds
        self._clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self._leaving: dict[str, asyncio.Task[Any]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, store: HandoffStore,
                      log: ConversationLog) -> HandoffDesk:
        """The desk configured by `settings`."""
        from bot.handoff.slack_threads import SlackHandoffThreads

        threads = None
        if settings.slack_token and settings.slack_sales_channel:
            threads = SlackHandoffThreads(settings.slack_token, settings.slack_sales_channel,
                                          settings.slack_api_base_url)
        return cls(store, threads, log, parse_hours(settings.handoff_hours),
                   time_zone(settings.handoff_timezone), settings.handoff_wait_seconds)

    # --- for the channels ---

    def is_staffed_now(self) -> bool:
        """True when a sales channel is set and it is within business hours."""
        return self.threads is not None and is_open(self.hours, self._clock(), self.zone)

    async def may_hand_off(self, conversation_id: str) -> bool:
        """Whether a request for a person in this conversation should start a handoff."""
        if not self.is_staffed_now():
            return False
        try:
            return may_start(await self.store.get(conversation_id))
        except Exception:
            # The store (Redis) is down: the lead form instead, rather than a handoff
            # the replicas could not share.
            logger.warning("handoff: state unavailable; no handoff offered", exc_info=True)
            return False

    async def active(self, conversation_id: str) -> HandoffState | None:
        """The conversation's handoff while it is under way (the bot is silent)."""
        try:
            state = await self.store.get(conversation_id)
        except Exception:
            # The store (Redis) is down: the bot answers, rather than nobody.
            logger.warning("handoff: state unavailable; the bot answers", exc_info=True)
            return None
        return state if state is not None and state.is_active else None

    def start_soon(self, conversation_id: str) -> None:
        """Start a handoff once the current turn is stored (it holds the lock now)."""
        self._spawn(self.start(conversation_id))

    async def start(self, conversation_id: str) -> HandoffState | None:
        """Open the thread; the visitor's wait for an answer starts."""
        if self.threads is None or await self.store.start(conversation_id) is None:
            return None
        try:
            # The turn that asked holds the lock until it is stored: read after it.
            await self.log.wait_for_turn(conversation_id)
            slots, turns = await self.log.read(conversation_id)
            brief = brief_from_slots(conversation_id, slots, turns)
            thread_ts = await self.threads.open(handoff_text(brief), handoff_blocks(brief))
        except Exception:
            logger.exception("handoff: could not open the sales channel's thread")
            if await self.store.change(conversation_id, Change.OPEN_FAILED) is not None:
                await self._offer_lead_form(conversation_id)
            return None
        state = await self.store.change(conversation_id, Change.THREAD_OPENED,
                                        thread_ts=thread_ts)
        if state is None:  # ended by the visitor meanwhile
            return None
        await self.store.publish({"conversation_id": conversation_id, "kind": "status",
                                  "status": state.status.value})
        self._spawn(self._expire_wait(conversation_id, thread_ts))
        logger.info("handoff: thread %s opened; waiting %.0f s for an answer", thread_ts,
                    self.wait_seconds)
        return state

    async def visitor_said(self, conversation_id: str, text: str) -> bool:
        """Relay the visitor's message to the thread; False when no handoff is under way."""
        state = await self.active(conversation_id)
        if state is None:
            return False
        if state.thread_ts and self.threads is not None:
            try:
                await self.threads.post(state.thread_ts, f"*Visitor:* {text}")
            except Exception:
                logger.exception("handoff: could not relay the visitor's message")
        return True

    async def engineer_said(self, thread_ts: str, user_id: str, text: str) -> bool:
        """A message in a handoff thread: to the visitor, or "/done" to end it.

        Returns:
            False when the thread is no handoff under way (the message is ignored).
        """
        state = await self._handoff_of_thread(thread_ts)
        if state is None or not state.is_active:
            logger.info("handoff: a message in thread %s, which has no handoff under way",
                        thread_ts)
            return False
        if text.strip().lower() == DONE_COMMAND:
            return await self.end(state.conversation_id, "the sales engineer")
        name = state.engineer or await self._name(user_id)
        live = await self.store.change(state.conversation_id, Change.ENGINEER_REPLIED,
                                       engineer=name)
        if live is None:
            return False
        await self.log.append(state.conversation_id,
                              [BotUttered(text, metadata={ENGINEER_KEY: name})])
        await self.store.publish({"conversation_id": state.conversation_id,
                                  "kind": "message", "status": live.status.value,
                                  "engineer": name, "text": text})
        logger.info("handoff: a reply in thread %s passed on to the visitor", thread_ts)
        return True

    async def end(self, conversation_id: str, by: str) -> bool:
        """End the handoff (`by` names who, for the thread); the bot answers again."""
        state = await self.store.change(conversation_id, Change.ENDED)
        if state is None:
            return False
        logger.info("handoff: thread %s ended by %s", state.thread_ts, by)
        reply = self._response(ENDED_RESPONSE)
        await self.log.append(conversation_id, _resumed(BotUttered(reply["text"])))
        await self.store.publish({"conversation_id": conversation_id, "kind": "ended",
                                  "status": state.status.value, **reply})
        await self._note(state, f"Handoff ended by {by}; the assistant has the "
                                "conversation again.")
        return True

    def visitor_left(self, conversation_id: str, grace_seconds: float) -> None:
        """The visitor's last socket here closed: end the handoff unless they come back."""
        self.visitor_back(conversation_id)

        async def end_later() -> None:
            await asyncio.sleep(grace_seconds)
            self._leaving.pop(conversation_id, None)
            if await self.active(conversation_id) is not None:
                await self.end(conversation_id, "the visitor leaving")

        task = self._spawn(end_later())
        self._leaving[conversation_id] = task

    def visitor_back(self, conversation_id: str) -> None:
        """The visitor reconnected: they have not left after all."""
        task = self._leaving.pop(conversation_id, None)
        if task is not None:
            task.cancel()

    async def listen(self, listener: Listener) -> None:
        """Deliver what the visitor must see (from any replica) until cancelled."""
        logger.info("handoff: passing on replies through %s", type(self.store).__name__)
        await self.store.listen(listener)

    # --- inside ---

    async def _handoff_of_thread(self, thread_ts: str) -> HandoffState | None:
        # Slack answers the thread's first post before the desk has recorded its `ts`:
        # a reply that quick is waited for, not lost.
        state = await self.store.by_thread(thread_ts)
        for delay in THREAD_RECORD_WAITS:
            if state is not None:
                break
            await asyncio.sleep(delay)
            state = await self.store.by_thread(thread_ts)
        return state

    async def _expire_wait(self, conversation_id: str, thread_ts: str) -> None:
        await asyncio.sleep(self.wait_seconds)
        state = await self.store.change(conversation_id, Change.WAIT_EXPIRED)
        if state is None:
            return  # answered or ended meanwhile
        logger.info("handoff: nobody answered in thread %s; the lead form is offered",
                    thread_ts)
        await self._offer_lead_form(conversation_id)
        await self._note(state, "Nobody answered in time; the visitor was offered the "
                                "contact form instead.")

    async def _offer_lead_form(self, conversation_id: str) -> None:
        reply = self._response(NO_ANSWER_RESPONSE)
        data = {"buttons": reply["buttons"]} if reply.get("buttons") else None
        await self.log.append(conversation_id,
                              _resumed(BotUttered(reply["text"], data=data)))
        await self.store.publish({"conversation_id": conversation_id, "kind": "ended",
                                  "status": Status.TIMED_OUT.value, **reply})

    async def _note(self, state: HandoffState, text: str) -> None:
        if not state.thread_ts or self.threads is None:
            return
        try:
            await self.threads.post(state.thread_ts, text)
        except Exception:
            logger.warning("handoff: could not post a note in the thread", exc_info=True)

    async def _name(self, user_id: str) -> str:
        assert self.threads is not None
        return await self.threads.display_name(user_id)

    def _response(self, name: str) -> dict[str, Any]:
        reply = self.log.response(name)
        if not reply.get("text"):
            reply = {**reply, "text": _FALLBACK_TEXTS[name]}
        return reply

    def _spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        # The loop keeps only weak references to tasks.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task


def _resumed(message: BotUttered) -> list[Event]:
    """The bot has the conversation again: it said `message` and listens.

    The listen closes the paused stretch as a turn of its own, so that the policies
    read the visitor's next message as they would after any answer.
    """
    return [ConversationResumed(), message, ActionExecuted(ACTION_LISTEN_NAME)]


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("handoff: a background step failed", exc_info=task.exception())


def desk_for_app(app: Any, settings: Settings) -> HandoffDesk | None:
    """The server's one desk, shared by its channels; None when no sales channel is set.

    Built on first use, inside the server, and kept on the Sanic app's context.
    """
    if not (settings.slack_token and settings.slack_sales_channel):
        return None
    desk = getattr(app.ctx, "handoff_desk", None)
    if desk is None:
        from bot.handoff.rasa_log import RasaConversationLog
        from bot.handoff.store import handoff_store_for

        desk = HandoffDesk.from_settings(
            settings, handoff_store_for(settings),
            RasaConversationLog(lambda: getattr(app.ctx, "agent", None)))
        app.ctx.handoff_desk = desk
    return desk
