"""Remembering recently seen ids, so a delivery that arrives twice is handled once."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RecentIds:
    """A bounded set of ids that forgets each id `ttl_seconds` after it was first seen.

    In memory and per process: Slack's retries are also dropped by their header, so
    this is the second line of defence, for a duplicate delivered without one.
    """

    def __init__(
        self,
        ttl_seconds: float = 600.0,
        max_ids: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create an empty set.

        Args:
            ttl_seconds: how long an id is remembered.
            max_ids: the most ids kept; the oldest are forgotten first.
            clock: monotonic time source (injected by tests).
        """
        self.ttl_seconds = ttl_seconds
        self.max_ids = max_ids
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, item: str) -> bool:
        """Record `item`; True if it was not seen within the last `ttl_seconds`."""
        now = self._clock()
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at < self.ttl_seconds and len(self._seen) < self.max_ids:
                    break
                del self._seen[oldest]
            if item in self._seen:
                return False
            self._seen[item] = now
            return True

    def __len__(self) -> int:
        return len(self._seen)
