"""Running one conversation turn so the visitor never waits in silence.

Rasa waits up to 300 s for a custom action and answers nothing at all when the action
server is down; neither can be configured in `endpoints.yml`. The channels therefore run
each turn through `run_turn()`, which tells them how the turn went, and answer with one
of the texts below when it did not produce an answer in time.

The turn runs shielded: when the time limit is reached the channel stops waiting, but
the turn goes on, so its events are still stored (and a live channel such as the widget
still delivers its late answer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

logger = logging.getLogger(__name__)

TURN_FAILED_TEXT = (
    "Sorry, something went wrong on my side - please try again in a moment; nothing you "
    "told me is lost."
)
# For a channel that answers once per request (REST): the late answer cannot follow.
TURN_SLOW_TEXT = (
    "This is taking longer than usual. I'll pick up where we left off - please send your "
    "message again in a moment."
)
# For a live channel (the widget): the late answer is delivered when it arrives.
TURN_SLOW_LIVE_TEXT = (
    "This is taking longer than usual - I'll answer here as soon as I can."
)


class TurnOutcome(str, Enum):
    """How a turn ended, as far as the visitor is concerned."""

    ANSWERED = "answered"  # finished with at least one bot message
    SILENT = "silent"  # finished without any bot message (e.g. a failed custom action)
    FAILED = "failed"  # raised an exception
    TIMED_OUT = "timed_out"  # still running when the channel stopped waiting


def notice_text(outcome: TurnOutcome) -> str | None:
    """The text a request/response channel sends for `outcome`; None when answered."""
    if outcome is TurnOutcome.ANSWERED:
        return None
    if outcome is TurnOutcome.TIMED_OUT:
        return TURN_SLOW_TEXT
    return TURN_FAILED_TEXT


def _log_late_end(channel: str) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            logger.warning("%s: a turn nobody waited for was cancelled", channel)
        elif task.exception() is not None:  # retrieving it also silences asyncio's warning
            logger.error("%s: a turn nobody waited for failed", channel,
                         exc_info=task.exception())
        else:
            logger.info("%s: a turn nobody waited for has finished", channel)

    return done


async def run_turn(
    turn: Awaitable[Any],
    answered: Callable[[], bool],
    timeout_seconds: float,
    *,
    channel: str,
    on_slow: Callable[[], Awaitable[None]] | None = None,
) -> TurnOutcome:
    """Run `turn`, waiting at most `timeout_seconds` for it.

    Args:
        turn: the turn, typically `on_new_message(UserMessage(...))`.
        answered: whether the turn has sent the visitor at least one message so far.
        timeout_seconds: how long the visitor may wait; 0 or less waits as long as the
            turn takes.
        channel: the channel's name, for the log (no message content is logged).
        on_slow: for a live channel: called once the limit is reached, after which the
            wait goes on until the turn ends (its late answer still reaches the
            visitor). Without it, `TIMED_OUT` is returned at the limit.

    Returns:
        `TIMED_OUT` (only without `on_slow`: the turn is left running, and how it ends
        is logged), else how the turn ended.

    Raises:
        asyncio.CancelledError: the caller itself was cancelled; the turn goes on.
    """
    task = asyncio.ensure_future(turn)
    limit = timeout_seconds if timeout_seconds > 0 else None
    try:
        try:
            await asyncio.wait_for(asyncio.shield(task), limit)
        except asyncio.TimeoutError:
            logger.warning("%s: no answer after %.0f s; the turn goes on", channel,
                           timeout_seconds)
            if on_slow is None:
                task.add_done_callback(_log_late_end(channel))
                return TurnOutcome.TIMED_OUT
            try:
                await on_slow()
            except Exception:
                logger.exception("%s: could not tell the visitor the turn is slow", channel)
            await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.cancelled():
            # Our caller was cancelled (a closed request); the turn itself goes on.
            task.add_done_callback(_log_late_end(channel))
            raise
        logger.error("%s: the turn was cancelled", channel)
        return TurnOutcome.FAILED
    except Exception:
        # No message text in the log: it may contain an email address or a name.
        logger.exception("%s: failed to handle a message", channel)
        return TurnOutcome.FAILED
    if answered():
        return TurnOutcome.ANSWERED
    logger.warning("%s: the turn ended without an answer", channel)
    return TurnOutcome.SILENT
