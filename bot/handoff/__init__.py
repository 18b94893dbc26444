"""Live handoff of a widget conversation to a sales engineer in a Slack thread.

The pure core (`states`, `summary`, and the opening hours in `bot.opening_hours`) imports
only the standard library and the project's pure helpers; the adapters (`store`: Redis
or process memory for the state and the replicas' messages, `slack_threads`: the Slack
Web API, `rasa_log`: the tracker) sit behind small interfaces; `desk.HandoffDesk` ties
them together for the channels.
"""
