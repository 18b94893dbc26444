"""How the Rasa server calls the action server: a slimmer request, and a response check
that does not re-check its schema.

Rasa 3.6 validates every action server response with `jsonschema.validate(response,
schema)`. That function first checks the *schema* against the JSON Schema metaschema, and
Rasa's event schema is large (every event type, `allOf` and `$ref`s), so the check costs
tens of milliseconds of CPU on every custom action call; a form turn then made two calls
(the validation action, then the ask action; now one), and that check was most of its
time (see bench/README.md, "Profile of a form turn"). The response itself takes under 1 ms
to validate.

`install()` replaces `RemoteAction._validate_action_result` with one that validates the
response with validators built once for the same schema: the same checks and the same
`ValidationError` message, without re-checking a constant schema. The schema checks each
event against all 23 event schemas (`oneOf`), which still cost about 2 ms a call; since
each of them fixes its own `event` name, an event is valid exactly when the schema of its
name accepts it, so that one alone is checked. A response that fails is checked again
with the whole schema, for Rasa's own error. It is installed by our
tracker store (bot/rasa/tracker_store.py), so it is in every server that runs our
endpoints, and never in stock Rasa.

It also slims the request. Rasa sends every event of the conversation in every call, and
each user event carries the NLU's whole output: the intent ranking and, per retrieval
intent, the ranking of every specific answer. After a 16-turn visit that was 118 KB per
call, growing with each turn, for rankings no action reads. `action_call_payload` keeps
of a past message what the actions read (its intent, entities and chosen answer:
actions/answers.py, actions/leads.py); the latest message still goes whole, as the
tracker's `latest_message`, and the tracker store keeps everything (the insight page
reads the rankings from there).

A form's validation action (`validate_<form>`) gets the domain without its responses:
rasa-sdk's `FormValidationAction` reads the form's required slots and the slots, and the
responses, with every retrieval answer merged in at training, are 94 KB of the trained
domain's 106 KB. The answer actions, which look responses up, still get them whole
(tests/unit/test_action_calls_domain.py checks that no validation action reads them).

A validation action also gets only the latest turn's events, from the visitor's latest
message on: rasa-sdk's form reads the slots, the latest message and the slots set since
it, and so do ours (`profile_slots_set_by_latest_message`). Every turn of the form calls
one, so its request no longer grows with the visit (80 KB at the end of the benchmark's
visit), and Rasa serialises a few events instead of all of them. The actions that read
the whole conversation (the lead's transcript, "forget me") still get all of it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import EventVerbosity

_INSTALLED_FLAG = "_bot_validator_installed"
# Rasa's own request, which `action_call_payload` slims (and the benchmark compares with).
RASA_ACTION_CALL_FORMAT = RemoteAction._action_call_format

# What an action may read of a message before the latest one.
PAST_MESSAGE_KEYS = ("intent", "entities", "text", "message_id", "metadata")


@functools.lru_cache(maxsize=1)
def response_validator() -> Validator:
    """A validator for action server responses, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.lru_cache(maxsize=1)
def _validators_by_event() -> tuple[Validator, dict[str, Validator]]:
    """The response schema without its event list's items, and a validator per event name.

    Rasa's event schema is a base (an object with a string `event`) and `oneOf` the schemas
    of each event, each of which requires its own `event` constant. So an event passes the
    `oneOf` exactly when the schema named by its `event` accepts it: the others fail on the
    constant. Checked here, once: every schema names a constant, and no two the same one.
    """
    schema = RemoteAction.action_response_format_spec()
    events = schema["properties"]["events"]
    event = events["items"]
    base = {key: value for key, value in event.items() if key != "oneOf"}
    cls = validators.validator_for(schema)
    by_event: dict[str, Validator] = {}
    for one in event["oneOf"]:
        name = one["properties"]["event"]["const"]
        if name in by_event:
            raise ValueError(f"two event schemas for {name!r}: the shortcut would be wrong")
        by_event[name] = cls({"allOf": [base, one]})
    envelope = {**schema, "properties": {
        **schema["properties"],
        "events": {key: value for key, value in events.items() if key != "items"}}}
    return cls(envelope), by_event


def is_valid_action_result(result: Any) -> bool:
    """Whether Rasa's response schema accepts `result`, each event checked against the
    schema of its own name only (see `_validators_by_event`)."""
    envelope, by_event = _validators_by_event()
    if not envelope.is_valid(result):
        return False
    for event in result.get("events") or []:
        name = event.get("event") if isinstance(event, dict) else None
        validator = by_event.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result` without re-checking the schema.

    Raises:
        ValidationError: as Rasa's own does, with the same explanation appended.
    """
    if is_valid_action_result(result):
        return True
    error = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def past_parse_data(parse_data: dict[str, Any]) -> dict[str, Any]:
    """A past message's NLU output without its rankings (a new dict; the event keeps its own)."""
    slim = {key: parse_data[key] for key in PAST_MESSAGE_KEYS if key in parse_data}
    selector = parse_data.get("response_selector")
    if isinstance(selector, dict):
        slim["response_selector"] = {
            name: {"response": chosen["response"]}
            if isinstance(chosen, dict) and "response" in chosen else chosen
            for name, chosen in selector.items()}
    return slim


_slim_domain: tuple[Any, dict[str, Any]] | None = None


def domain_without_responses(domain: Any) -> dict[str, Any]:
    """The domain's JSON without its responses, made once per loaded domain."""
    global _slim_domain
    if _slim_domain is None or _slim_domain[0] is not domain:
        _slim_domain = (domain, {key: value for key, value in domain.as_dict().items()
                                 if key != "responses"})
    return _slim_domain[1]


def latest_turn(events: Iterable[Event]) -> list[Event]:
    """The events from the visitor's latest message on (all of them, if there is none)."""
    events = list(events)
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index:]
    return events


class _LatestTurnOnly:
    """A tracker as Rasa's request reads it, whose state holds the latest turn's events."""

    def __init__(self, tracker: Any) -> None:
        self._tracker = tracker
        self.sender_id = tracker.sender_id

    def current_state(self, event_verbosity: EventVerbosity) -> dict[str, Any]:
        state: dict[str, Any] = self._tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in latest_turn(self._tracker.events)]
        return state


def action_call_payload(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
    """Rasa's request to the action server, its user events without the NLU's rankings;
    a form validation action's with the latest turn only and the domain without the
    responses."""
    validates_a_form = self.name() in {f"validate_{form}" for form in domain.form_names}
    payload: dict[str, Any] = RASA_ACTION_CALL_FORMAT(
        self, _LatestTurnOnly(tracker) if validates_a_form else tracker, domain)
    if "domain" in payload and validates_a_form:
        payload["domain"] = domain_without_responses(domain)
    payload["tracker"]["events"] = [
        {**event, "parse_data": past_parse_data(event["parse_data"])}
        if event.get("event") == "user" and isinstance(event.get("parse_data"), dict)
        else event
        for event in payload["tracker"]["events"]]
    return payload


def install() -> None:
    """Use `validate_action_result` and `action_call_payload` in this process (idempotent)."""
    if getattr(RemoteAction, _INSTALLED_FLAG, False):
        return
    response_validator()  # fail here, at start, if the schema were ever invalid
    _validators_by_event()  # or the shortcut did not fit it
    RemoteAction._validate_action_result = validate_action_result
    RemoteAction._action_call_format = action_call_payload
    setattr(RemoteAction, _INSTALLED_FLAG, True)


__all__ = ["PAST_MESSAGE_KEYS", "ValidationError", "action_call_payload",
           "domain_without_responses", "install", "is_valid_action_result", "latest_turn",
           "past_parse_data",
           "response_validator", "validate_action_result"]
