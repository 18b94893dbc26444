"""Slack as an outbound medium: the Block Kit layouts every sender shares.

The input channel (`bot.channels.slack`), the sales channel's alerts
(`bot.crm.slack_sales`), the lead use cases (`bot.leads.services`) and the handoff threads
(`bot.handoff`) all lay out their messages with `bot.slack.blocks`. It sits below all of
them, so none of these packages has to import another one's internals to post to Slack.
"""
