"""The guarded Slack channel in a real Sanic server, with a scripted turn in place of Rasa.

    python -m tests.support.slack_channel_app PORT SLACK_API_BASE_URL SIGNING_SECRET

or, from a test, `with serving_slack_channel(base_url, secret, env) as webhook: ...`.

The turn does what the message says: `fail` raises, `silent` answers nothing, `slow`
answers after 3 seconds, anything else is echoed. Settings (TURN_TIMEOUT_SECONDS, ...)
come from the environment.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.slack import GuardedSlackInput
from bot.launcher import ServerProcess
from tests.support.servers import free_port


async def _scripted_turn(message: UserMessage) -> None:
    text = message.text or ""
    if text == "fail":
        raise RuntimeError("the action server is unreachable")
    if text == "silent":
        return
    if text == "slow":
        await asyncio.sleep(3)
        await message.output_channel.send_text_message(message.sender_id, "late answer")
        return
    await message.output_channel.send_text_message(message.sender_id, f"echo: {text}")


@contextmanager
def serving_slack_channel(
    api_base_url: str, signing_secret: str, env: Mapping[str, str]
) -> Iterator[str]:
    """Run this app in a subprocess (with `env` added to ours); yields its webhook URL."""
    port = free_port()
    server = ServerProcess(
        "slack channel app", [sys.executable, "-m", "tests.support.slack_channel_app",
                              str(port), api_base_url, signing_secret],
        dict(env), port, None, "/webhooks/slack/").start()
    try:
        server.wait_ready(60.0)
        yield server.url + "/webhooks/slack/webhook"
    finally:
        server.stop()


def main() -> None:
    port, base_url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    channel = GuardedSlackInput(slack_token="test-bot-token", slack_signing_secret=secret,
                                api_base_url=base_url)
    app = Sanic("slack_channel_test")
    app.blueprint(channel.blueprint(_scripted_turn), url_prefix="/webhooks/slack")
    app.run(host="127.0.0.1", port=port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
