"""Rasa's response generator, adding the thumbs buttons to every retrieval answer.

Rasa's retrieval actions (`utter_ask_cost`) utter the answer the response selector chose
without calling our action server, so the buttons cannot be added by an action. This
generator wraps the domain's responses as Rasa's own does and appends
`feedback_buttons(answer_key)` to answers (`utter_ask_<topic>/<key>`), whoever utters
them (the retrieval actions and `action_show_answer` alike), except in a form. Endpoints
files switch it on with `nlg: {type: bot.insights.feedback_nlg.FeedbackButtonsNLG}`.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.insights.feedback import feedback_buttons, rated_answer_key


class FeedbackButtonsNLG(TemplatedNaturalLanguageGenerator):  # type: ignore[misc]
    """The domain's responses, with "Was this helpful?" buttons on answers."""

    def __init__(self, endpoint_config: EndpointConfig | None = None,
                 domain: Domain | None = None) -> None:
        del endpoint_config  # nothing to configure
        super().__init__((domain or Domain.empty()).responses)

    async def generate(self, utter_action: str, tracker: DialogueStateTracker,
                       output_channel: str, **kwargs: Any) -> dict[str, Any] | None:
        message: dict[str, Any] | None = await super().generate(
            utter_action, tracker, output_channel, **kwargs)
        answer_key = rated_answer_key(utter_action)
        # Not while a form asks its questions: a form takes the next message as the
        # answer to its question, and a click would be read as one.
        if message is not None and answer_key is not None and not tracker.active_loop_name:
            message["buttons"] = [*(message.get("buttons") or []),
                                  *feedback_buttons(answer_key)]
        return message
