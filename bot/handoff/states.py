"""The handoff's state machine, as a table: requested -> waiting -> live -> ended.

Pure. A handoff is `REQUESTED` when the visitor asked and a person may be available,
`WAITING` once the thread is open in the sales channel, `LIVE` once a sales engineer has
answered there; it ends `ENDED` (either side ended it) or `TIMED_OUT` (nobody answered
in time, or the thread could not be opened). While it is requested, waiting or live the
bot is silent; the replicas change the state only through `advance()`, and the stores
apply it as a compare-and-set, so two replicas never both act on one change.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from enum import Enum


class Status(str, Enum):
    """Where a conversation's handoff stands."""

    REQUESTED = "requested"
    WAITING = "waiting"
    LIVE = "live"
    ENDED = "ended"
    TIMED_OUT = "timed_out"


class Change(str, Enum):
    """What happened to a handoff."""

    THREAD_OPENED = "thread_opened"
    OPEN_FAILED = "open_failed"
    ENGINEER_REPLIED = "engineer_replied"
    WAIT_EXPIRED = "wait_expired"
    ENDED = "ended"


# (status, change) -> the next status; anything not listed is refused (a late timer, a
# second "/done", a reply to a thread whose handoff is over).
TRANSITIONS: dict[tuple[Status, Change], Status] = {
    (Status.REQUESTED, Change.THREAD_OPENED): Status.WAITING,
    (Status.REQUESTED, Change.OPEN_FAILED): Status.TIMED_OUT,
    (Status.REQUESTED, Change.ENDED): Status.ENDED,
    (Status.WAITING, Change.ENGINEER_REPLIED): Status.LIVE,
    (Status.WAITING, Change.WAIT_EXPIRED): Status.TIMED_OUT,
    (Status.WAITING, Change.ENDED): Status.ENDED,
    (Status.LIVE, Change.ENGINEER_REPLIED): Status.LIVE,
    (Status.LIVE, Change.ENDED): Status.ENDED,
}

ACTIVE = frozenset({Status.REQUESTED, Status.WAITING, Status.LIVE})


def advance(status: Status, change: Change) -> Status | None:
    """The status after `change`, or None when `change` does not apply to `status`."""
    return TRANSITIONS.get((status, change))


@dataclass(frozen=True)
class HandoffState:
    """One conversation's handoff, as the replicas share it."""

    conversation_id: str
    status: Status
    # The sales channel's thread (`ts` of its first message); "" until it is open.
    thread_ts: str = ""
    # The display name of the sales engineer who answered; "" until one has.
    engineer: str = ""
    changed_at: float = field(default_factory=time.time)

    @property
    def is_active(self) -> bool:
        """True while the bot must stay silent."""
        return self.status in ACTIVE

    def moved(self, status: Status, **changes: str) -> HandoffState:
        """This handoff in `status` (with any other fields changed), stamped now."""
        return replace(self, status=status, changed_at=time.time(), **changes)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "status": self.status.value})

    @classmethod
    def from_json(cls, raw: str | bytes) -> HandoffState:
        data = json.loads(raw)
        return cls(str(data["conversation_id"]), Status(data["status"]),
                   str(data.get("thread_ts") or ""), str(data.get("engineer") or ""),
                   float(data.get("changed_at") or 0.0))


def may_start(current: HandoffState | None) -> bool:
    """Whether a request for a person may start a handoff now.

    Not while one is under way; not again after nobody answered (the visitor is offered
    the lead form instead, until the record expires); again after an ended one.
    """
    return current is None or current.status is Status.ENDED
