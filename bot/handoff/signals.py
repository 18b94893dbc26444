"""What the action server and the widget channel tell each other about a handoff.

The decision and the state live in the Rasa server (the channel); the action only reads
the channel's mark on the visitor's message and answers with the start payload.
"""

from __future__ import annotations

# The widget channel marks a visitor's request for a person with this metadata when a
# handoff is available; without it the action offers the lead form.
OFFERED_METADATA_KEY = "handoff_offered"
# The action asks for the handoff with this custom payload; the widget's output channel
# hands it to the desk instead of showing it.
START_PAYLOAD_KEY = "handoff"
START_PAYLOAD = {START_PAYLOAD_KEY: "start"}
