"""The Rasa server checks action server responses as Rasa does, minus the schema re-check.

bot/action_calls.py replaces `RemoteAction._validate_action_result` (issue 14: checking
Rasa's constant event schema on every call was most of a form turn's time).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import action_calls

VALID: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "isolation", "value": "medium"},
                {"event": "active_loop", "name": None}],
     "responses": [{"response": "utter_ask_os_mix", "buttons": []}]},
    {},
]
INVALID: list[dict[str, Any]] = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},  # a slot event needs a name
    {"responses": [42]},
]


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass_both_checks(response: dict[str, Any]) -> None:
    schema = RemoteAction.action_response_format_spec()
    jsonschema.validate(response, schema)  # Rasa's own check agrees
    assert action_calls.validate_action_result(RemoteAction("x", None), response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_fail_as_with_rasa(response: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"
                       ) as ours:
        action_calls.validate_action_result(RemoteAction("x", None), response)
    assert ours.value.message.startswith(rasa_error.value.message)


def test_install_replaces_rasa_check_once() -> None:
    action_calls.install()
    action_calls.install()
    assert RemoteAction._validate_action_result is action_calls.validate_action_result
