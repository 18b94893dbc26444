"""Input channels: the website widget (socket.io), a guarded REST channel and Slack.

Every channel runs incoming text through `bot.channels.guard.MessageGuard` first, so a
message that is too long, arrives too fast or carries a payload the bot never offered
is handled the same way whatever the client.
"""
