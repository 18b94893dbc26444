"""A delivery worker that stops dead at one point of a delivery, for the SIGKILL tests.

    python -m tests.support.paused_worker after_claim|after_send MARKER_FILE

It is the worker of `python -m bot leads deliver` (same settings, runtime, CRM client and
options) with a checkpoint injected through `WorkerOptions`: at the chosen point it
writes the outbox row's id to MARKER_FILE and waits to be killed. The hook lives here,
with the tests, not in the product's settings.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.leads.delivery import Checkpoint, deliver_until_idle
from bot.leads.outbox import OutboxEntry
from bot.leads.runtime import LeadsRuntime, retry_policy, worker_options
from bot.settings import load_settings

PAUSE_POINTS = ("after_claim", "after_send")


def pause_at(point: str, marker_file: Path) -> Checkpoint:
    """At `point`, write the row id to `marker_file` and wait to be killed."""
    if point not in PAUSE_POINTS:
        raise ValueError(f"the pause point must be one of {PAUSE_POINTS}")

    def _pause(name: str, entry: OutboxEntry) -> None:
        if name != point:
            return
        marker_file.write_text(str(entry.id), encoding="utf-8")
        while True:  # the test sends SIGKILL now
            time.sleep(1)

    return _pause


def main(argv: list[str]) -> int:
    point, marker = argv
    settings = load_settings()
    runtime = LeadsRuntime.from_settings(settings)
    deliver_until_idle(
        runtime.unit_of_work(), runtime.crm_client(), retry_policy(settings),
        worker_options(settings, checkpoint=pause_at(point, Path(marker))),
        max_seconds=60, sleep=time.sleep, sales_channel=runtime.sales_channel())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
