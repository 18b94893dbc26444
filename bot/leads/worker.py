"""The delivery worker as a long-running loop (the action server's background task).

Each cycle sends what is due in the outbox (to the CRM, and hot-lead alerts to the sales
channel) and runs the pending "forget me" erasures.
Database and HTTP calls are blocking, so a cycle runs in a thread and the event loop
keeps serving the actions meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.crm.base import CrmClient
from bot.leads.delivery import DeliveryReport, WorkerOptions, deliver_pending
from bot.leads.erasure import process_erasures
from bot.leads.outbox import RetryPolicy
from bot.leads.runtime import LeadsRuntime

logger = logging.getLogger(__name__)

# Erasures wait this long, so that Rasa has saved the "forget me" turn before the first
# pass (later passes catch a save that came later still).
ERASURE_DELAY = timedelta(seconds=3)

# The worker running in this process (the action server's), if any.
_running: DeliveryWorker | None = None


def wake_running_worker() -> None:
    """Ask this process's worker, if there is one, to run a cycle now.

    Called by the actions right after a lead is stored, so that it reaches the CRM in
    about a second rather than at the next poll. Safe to call without a worker.
    """
    if _running is not None:
        _running.wake()


class DeliveryWorker:
    """Sends pending leads every `interval_seconds` until told to stop."""

    def __init__(
        self,
        runtime: LeadsRuntime,
        client: CrmClient | None,
        policy: RetryPolicy,
        options: WorkerOptions,
        interval_seconds: float = 5.0,
    ) -> None:
        self._runtime = runtime
        self._client = client
        self._sales_channel = runtime.sales_channel()
        self._policy = policy
        self._options = options
        self._interval = interval_seconds
        self._wake = asyncio.Event()

    def run_cycle(self) -> DeliveryReport:
        """One pass: deliver what is due (to whichever of the CRM and the sales channel
        is configured), then erasures."""
        report = DeliveryReport()
        if self._client is not None or self._sales_channel is not None:
            report = deliver_pending(
                self._runtime.unit_of_work(), self._client, self._policy, self._options,
                sales_channel=self._sales_channel,
            )
        process_erasures(
            self._runtime.unit_of_work(), self._runtime.tracker_engine(), min_age=ERASURE_DELAY
        )
        return report

    def wake(self) -> None:
        """Start the next cycle now (e.g. right after a lead was stored)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle until `stop` is set; errors are logged and the loop carries on."""
        global _running
        _running = self
        logger.info(
            "lead delivery worker %s started (CRM: %s; hot-lead alerts: %s)",
            self._options.worker_id, getattr(self._client, "name", "none: leads stay local"),
            getattr(self._sales_channel, "name", "none"),
        )
        while not stop.is_set():
            busy = False
            try:
                report = await asyncio.to_thread(self.run_cycle)
                busy = report.attempted > 0
                if busy:
                    logger.info(
                        "lead delivery: %d delivered, %d to retry, %d dead letters",
                        report.delivered, report.retried, report.dead,
                    )
            except Exception:  # the database may be down for a while; keep trying
                logger.exception("lead delivery cycle failed; trying again later")
            if busy:
                continue  # more may be due right away
            self._wake.clear()
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
        _running = None
        logger.info("lead delivery worker stopped")
