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


def _events_of_every_kind() -> list[dict[str, Any]]:
    """One event of each kind the action server may send, as Rasa serialises it."""
    from datetime import datetime

    from rasa.shared.core import events as ev

    made = [
        ev.UserUttered("hi", {"name": "greet", "confidence": 0.9},
                       [{"entity": "os", "value": "linux", "start": 0, "end": 2}],
                       parse_data={"intent_ranking": [{"name": "greet", "confidence": 0.9}]}),
        ev.ActionExecuted("action_listen"), ev.SlotSet("isolation", "medium"),
        ev.EntitiesAdded([{"entity": "os", "value": "linux"}]),
        ev.DefinePrevUserUtteredFeaturization(False),
        ev.ReminderScheduled("greet", datetime(2026, 12, 2)), ev.ReminderCancelled("r"),
        ev.ActionExecutionRejected("advisor_form"), ev.LoopInterrupted(True),
        ev.ActiveLoop("advisor_form"), ev.ActiveLoop(None), ev.AllSlotsReset(),
        ev.ConversationResumed(), ev.ConversationPaused(), ev.FollowupAction("action_x"),
        ev.StoryExported(), ev.Restarted(), ev.ActionReverted(), ev.UserUtteranceReverted(),
        ev.BotUttered("hello", {"buttons": [{"title": "a", "payload": "/a"}]}),
        ev.SessionStarted(), ev.AgentUttered("hi"),
    ]
    # Rasa 2's form events, still in the schema.
    return [e.as_dict() for e in made] + [{"event": "form", "name": "advisor_form"},
                                          {"event": "form_validation", "validate": True}]


def _broken(event: dict[str, Any]) -> list[Any]:
    """Ways to spoil `event`: each field given a value of the wrong type, an unknown or
    missing kind, and not an object at all."""
    spoiled: list[Any] = [{**event, key: wrong} for key in event if key != "event"
                          for wrong in (42, "text", [1], {"a": 1})]
    without_kind = {k: v for k, v in event.items() if k != "event"}
    return [*spoiled, {**event, "event": "nope"}, {**event, "event": 7}, without_kind,
            [event], "event"]


def test_checking_an_event_by_its_kind_agrees_with_rasas_whole_schema() -> None:
    full = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())(
        RemoteAction.action_response_format_spec())
    events = _events_of_every_kind()
    cases: list[Any] = [{"events": [e]} for e in events] + [{"events": events}]
    cases += [{"events": [*events[:3], spoiled]} for e in events for spoiled in _broken(e)]
    cases += [*VALID, *INVALID, {"events": None}, {"events": [], "responses": "x"}, []]
    verdicts = [full.is_valid(case) for case in cases]
    assert [action_calls.is_valid_action_result(case) for case in cases] == verdicts
    # The corpus holds both verdicts, and every event kind of the schema.
    assert verdicts.count(True) > 20 and verdicts.count(False) > 100
    assert all(full.is_valid({"events": [e]}) for e in events)


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


def _form_tracker(latest: str, intent: str) -> Any:
    """A visit: an FAQ answered, the advisor form started and its first question asked,
    then the visitor's `latest` message, as Rasa's form leaves them before validating."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    def said(text: str, name: str, **parse: Any) -> UserUttered:
        return UserUttered(text, intent={"name": name, "confidence": 0.9},
                           parse_data={"intent_ranking": [{"name": name, "confidence": 0.9}],
                                       **parse})

    return DialogueStateTracker.from_events("turn", [
        ActionExecuted("action_session_start"), ActionExecuted("action_listen"),
        said("what is a container?", "ask_container_definition"),
        ActionExecuted("utter_ask_container_definition"), BotUttered("A container is..."),
        ActionExecuted("action_listen"),
        said("I'd like a recommendation", "ask_use_case_recommendation"),
        SlotSet("os_mix", ["linux_only"]), ActionExecuted("advisor_form"),
        ActiveLoop("advisor_form"), SlotSet("requested_slot", "isolation"),
        BotUttered("Whose code will run on these machines?"), ActionExecuted("action_listen"),
        said(latest, intent, answer_candidates={}),
        ActionExecuted("action_extract_slots"), SlotSet("density", "high"),
    ])


def test_form_validation_actions_get_the_latest_turn_only() -> None:
    from rasa.shared.core.domain import Domain

    from tests.support.project import PROJECT_ROOT

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = _form_tracker("bananas, and lots of small services", "inform")
    validation = RemoteAction("validate_advisor_form", None)
    sent = action_calls.action_call_payload(validation, tracker, domain)
    full = action_calls.RASA_ACTION_CALL_FORMAT(validation, tracker, domain)
    assert [e["event"] for e in sent["tracker"]["events"]] == ["user", "action", "slot"]
    assert sent["tracker"]["events"][0]["text"] == "bananas, and lots of small services"
    # The rest of the state is Rasa's own.
    assert {k: v for k, v in sent["tracker"].items() if k != "events"} == {
        k: v for k, v in full["tracker"].items() if k != "events"}
    assert sent["next_action"] == full["next_action"] and sent["version"] == full["version"]
    # Actions that read the whole conversation still get all of it.
    other = action_calls.action_call_payload(RemoteAction("action_finish_lead_form", None),
                                             tracker, domain)
    assert len(other["tracker"]["events"]) == len(tracker.events)


@pytest.mark.asyncio
@pytest.mark.parametrize(("latest", "intent"), [
    ("bananas", "inform"),
    ("only our own code, lots of small services", "inform"),
    ("what is a VM?", "ask_vm_definition"),
])
async def test_the_form_validation_decides_the_same_on_the_latest_turn_alone(
    latest: str, intent: str
) -> None:
    from rasa.shared.core.domain import Domain
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.advisor import ValidateAdvisorForm
    from tests.support.project import PROJECT_ROOT

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = _form_tracker(latest, intent)
    validation = RemoteAction("validate_advisor_form", None)
    outcomes = []
    for payload in (action_calls.RASA_ACTION_CALL_FORMAT(validation, tracker, domain),
                    action_calls.action_call_payload(validation, tracker, domain)):
        dispatcher = CollectingDispatcher()
        events = await ValidateAdvisorForm().run(
            dispatcher, Tracker.from_dict(payload["tracker"]), payload["domain"])
        outcomes.append((events, dispatcher.messages))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0]  # it decided something (at least the next question)
