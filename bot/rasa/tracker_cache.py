"""The trackers one replica saved or read last, so a turn need not replay its conversation.

Rasa reads every event of a session and replays it into a new tracker on each turn. Our
tracker store (tracker_store.py) keeps the trackers it saved last here and hands one out
only while the database provably holds the same events.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rasa.shared.core.trackers import DialogueStateTracker

# A conversation's (newest event id, number of event rows) in the database.
Fingerprint = tuple[int | None, int]


@dataclass
class CachedTracker:
    tracker: DialogueStateTracker
    stored_events: int  # how many of `tracker.events` are in the database
    # The conversation's (newest row id, row count) when it was cached.
    newest_event_id: Fingerprint


class TrackerCache:
    """The trackers this replica saved or read last, least recently used dropped first.

    A cached tracker is only handed out while it is provably what the database holds: the
    conversation's newest event id is unchanged (no other replica or erasure wrote) and
    the object has no events beyond those stored (a turn that failed before saving).
    Turns of one conversation run one at a time under Rasa's lock store, so the object can
    be handed out itself rather than a copy.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(0, capacity)
        self._entries: OrderedDict[str, CachedTracker] = OrderedDict()

    def get(self, sender_id: str, newest_event_id: Fingerprint) -> DialogueStateTracker | None:
        entry = self._valid_entry(sender_id, newest_event_id)
        return entry.tracker if entry else None

    def stored_events(self, tracker: DialogueStateTracker,
                      newest_event_id: Fingerprint) -> int | None:
        """How many of `tracker`'s events are stored, when this cache knows for sure."""
        entry = self._entries.get(tracker.sender_id)
        if (entry is None or entry.tracker is not tracker
                or entry.newest_event_id != newest_event_id):
            return None
        return entry.stored_events

    def put(self, tracker: DialogueStateTracker, newest_event_id: Fingerprint) -> None:
        if not self.capacity:
            return
        self._entries[tracker.sender_id] = CachedTracker(tracker, len(tracker.events),
                                                          newest_event_id)
        self._entries.move_to_end(tracker.sender_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def _valid_entry(self, sender_id: str,
                     newest_event_id: Fingerprint) -> CachedTracker | None:
        entry = self._entries.get(sender_id)
        if entry is None:
            return None
        if (newest_event_id[0] is None or entry.newest_event_id != newest_event_id
                or len(entry.tracker.events) != entry.stored_events):
            del self._entries[sender_id]
            return None
        self._entries.move_to_end(sender_id)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
