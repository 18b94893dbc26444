"""Action calls: responses checked as Rasa does minus the schema re-check; requests slimmed.

bot/rasa/action_calls.py replaces `RemoteAction._validate_action_result` (issue 14: checking
Rasa's constant event schema on every call was most of a form turn's time).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa import action_calls

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


def _visit_tracker() -> Any:
    """A tracker with two answered questions, as the NLU leaves its user events."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    def message(text: str, answer: str) -> UserUttered:
        ranking = [{"name": f"ask_cost/{n}", "confidence": 0.1} for n in range(10)]
        chosen = {"intent_response_key": answer, "confidence": 0.9,
                  "responses": [{"text": "the answer"}], "utter_action": "utter_ask_cost"}
        return UserUttered(text, intent={"name": "ask_cost", "confidence": 0.9},
                           entities=[{"entity": "os", "value": "linux"}],
                           parse_data={"intent_ranking": ranking,
                                       "response_selector": {
                                           "all_retrieval_intents": ["ask_cost"],
                                           "ask_cost": {"response": chosen,
                                                        "ranking": ranking}}})

    return DialogueStateTracker.from_events("slim", [
        ActionExecuted("action_listen"), message("how much is it", "ask_cost/general"),
        ActionExecuted("utter_ask_cost"), ActionExecuted("action_listen"),
        message("and licences?", "ask_cost/licences")])


def test_action_calls_send_past_messages_without_rankings() -> None:
    from rasa.shared.core.domain import Domain

    from actions.answers import last_answer_key

    tracker = _visit_tracker()
    action = RemoteAction("action_show_answer", None)
    slim = action_calls.action_call_payload(action, tracker, Domain.empty())
    full = action_calls.RASA_ACTION_CALL_FORMAT(action, tracker, Domain.empty())
    user_events = [e for e in slim["tracker"]["events"] if e["event"] == "user"]
    assert len(user_events) == 2
    for event in user_events:
        assert "intent_ranking" not in event["parse_data"]
        assert "ranking" not in event["parse_data"]["response_selector"]["ask_cost"]
        assert event["parse_data"]["entities"] == [{"entity": "os", "value": "linux"}]
    # What the actions read is all there: the answer given before the latest message...
    assert last_answer_key(slim["tracker"]["events"]) == "ask_cost/general"
    assert last_answer_key(slim["tracker"]["events"]) == last_answer_key(
        full["tracker"]["events"])
    # ... and the latest message whole; the tracker's own events keep their rankings.
    assert len(slim["tracker"]["latest_message"]["intent_ranking"]) == 10
    assert len(tracker.events[1].parse_data["intent_ranking"]) == 10
    assert len(json.dumps(slim["tracker"]["events"])) < len(json.dumps(
        full["tracker"]["events"])) / 2


def test_install_slims_every_action_call() -> None:
    action_calls.install()
    assert RemoteAction._action_call_format is action_calls.action_call_payload


def test_form_validation_actions_get_the_domain_without_its_responses() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig

    from tests.support.project import PROJECT_ROOT

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    assert domain.responses  # the answer actions look these up
    endpoint = EndpointConfig(url="http://127.0.0.1:1/webhook", enable_selective_domain=True)
    tracker = _visit_tracker()

    def sent_domain(action: str) -> dict[str, Any] | None:
        payload = action_calls.action_call_payload(RemoteAction(action, endpoint), tracker,
                                                   domain)
        sent: dict[str, Any] | None = payload.get("domain")
        return sent

    for form in ("advisor_form", "lead_form"):
        sent = sent_domain(f"validate_{form}")
        assert sent is not None and "responses" not in sent
        assert sent["forms"][form]["required_slots"]  # what rasa-sdk's form reads
        assert sent["slots"] == domain.as_dict()["slots"]
    assert sent_domain("action_show_answer") == domain.as_dict()  # it looks answers up
    assert sent_domain("action_recommend") is None  # not marked send_domain
    assert "responses" in domain.as_dict()  # the server's own domain is untouched
