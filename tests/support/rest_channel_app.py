"""The guarded REST channel in a real Sanic server, with an echo in place of Rasa.

    python -m tests.support.rest_channel_app PORT

Each accepted message is answered with one bot message naming the conversation id the
channel handed to Rasa, so a test sees the namespace and the authentication at work.
Settings come from the environment (REST_CHANNEL_TOKEN, RATE_LIMIT_*, ...).
"""

from __future__ import annotations

import sys

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.rest import GuardedRestInput


async def _echo(message: UserMessage) -> None:
    await message.output_channel.send_text_message(
        message.sender_id, f"conversation={message.sender_id}"
    )


def main() -> None:
    port = int(sys.argv[1])
    app = Sanic("rest_channel_test")
    app.blueprint(GuardedRestInput().blueprint(_echo), url_prefix="/webhooks/rest")
    app.run(host="127.0.0.1", port=port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
