"""The handoff's view of Rasa: the tracker it reads the brief from and writes events to.

Outside a turn (a sales engineer's reply, the end of a handoff) the events are written
under the conversation's lock, as a turn writes them, so that they never interleave with
a turn of the visitor's and every replica sees the same history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from rasa.shared.core.events import BotUttered, Event, UserUttered

from bot.buttons import normalise_buttons
from bot.handoff.summary import Turn


class ConversationLog(Protocol):
    """Reads and appends to a conversation's history."""

    async def read(self, conversation_id: str) -> tuple[dict[str, Any], list[Turn]]:
        """The conversation's slots and its visible messages, oldest first."""

    async def wait_for_turn(self, conversation_id: str) -> None:
        """Return once no turn of the conversation is running."""

    async def append(self, conversation_id: str, events: Sequence[Event]) -> None:
        """Append `events` to the conversation."""

    def response(self, name: str) -> dict[str, Any]:
        """The domain's response `name` (`text`, `buttons`); {} when it has none."""


def visible_turns(events: Sequence[Event]) -> list[Turn]:
    """The messages a person would see, oldest first (button payloads by their titles)."""
    turns: list[Turn] = []
    for event in events:
        if isinstance(event, UserUttered) and event.text:
            shown = (event.metadata or {}).get("display_text") or event.text
            turns.append(Turn("visitor", str(shown)))
        elif isinstance(event, BotUttered) and event.text:
            engineer = (event.metadata or {}).get("handoff_engineer")
            turns.append(Turn(str(engineer) if engineer else "assistant", event.text))
    return turns


class RasaConversationLog:
    """`ConversationLog` on the loaded agent (its processor, lock store and domain)."""

    def __init__(self, agent: Callable[[], Any]) -> None:
        """`agent` returns the server's loaded `Agent` (it changes when a model is loaded)."""
        self._agent = agent

    async def read(self, conversation_id: str) -> tuple[dict[str, Any], list[Turn]]:
        tracker = await self._agent().processor.get_tracker(conversation_id)
        return dict(tracker.current_slot_values()), visible_turns(list(tracker.events))

    async def wait_for_turn(self, conversation_id: str) -> None:
        async with self._agent().lock_store.lock(conversation_id):
            return

    async def append(self, conversation_id: str, events: Sequence[Event]) -> None:
        agent = self._agent()
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.processor.get_tracker(conversation_id)
            for event in events:
                tracker.update(event)
            await agent.processor.save_tracker(tracker)

    def response(self, name: str) -> dict[str, Any]:
        domain = getattr(self._agent(), "domain", None)
        variations = domain.responses.get(name) if domain is not None else None
        if not variations:
            return {}
        first = variations[0]
        text = " ".join(str(first.get("text") or "").split())
        buttons = normalise_buttons(first.get("buttons"))
        return {"text": text, **({"buttons": buttons} if buttons else {})}
