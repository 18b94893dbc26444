"""The website chat widget: its static files and the socket.io channel that serves them.

Use it in `credentials.yml` as `bot.channels.widget.WidgetInput:`.
"""

from bot.channels.widget.channel import WidgetInput, WidgetOutput

__all__ = ["WidgetInput", "WidgetOutput"]
