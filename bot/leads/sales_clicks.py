"""Clicks on the hot-lead alert's buttons, answered in the process that serves Slack.

Slack posts the click (a signed `block_actions` payload) to the Slack channel's webhook
in the Rasa server, which must answer within 3 seconds; the database and Web API calls
block, so the answer runs in a thread after the webhook has acknowledged the click.
"""

from __future__ import annotations

import asyncio
import logging

from bot.crm.slack_sales import SalesClick
from bot.leads.runtime import get_runtime
from bot.leads.services import answer_sales_click

logger = logging.getLogger(__name__)


def _answer(click: SalesClick) -> None:
    runtime = get_runtime()
    sales_channel = runtime.sales_channel()
    if sales_channel is None:
        logger.warning("a sales alert was clicked, but SLACK_SALES_CHANNEL is not set here")
        return
    answer_sales_click(runtime.unit_of_work(), sales_channel, click)


async def answer_sales_click_soon(click: SalesClick) -> None:
    """Answer the click; failures are logged (without the lead or the clicker)."""
    try:
        await asyncio.to_thread(_answer, click)
    except Exception:
        logger.exception("could not answer a click on a sales alert (%s)", click.action)
