"""How the Rasa server calls the action server: a slimmer request, and a response check
that does not re-check its schema.

Rasa 3.6 validates every action server response with `jsonschema.validate(response,
schema)`. That function first checks the *schema* against the JSON Schema metaschema, and
Rasa's event schema is large (every event type, `allOf` and `$ref`s), so the check costs
tens of milliseconds of CPU on every custom action call; a form turn makes two calls (the
validation action, then the ask action), and that check was most of its time (see
bench/README.md, "Profile of a form turn"). The response itself takes under 1 ms to
validate.

`install()` replaces `RemoteAction._validate_action_result` with one that validates the
response with a validator built once for the same schema: the same checks and the same
`ValidationError` message, without re-checking a constant schema. It is installed by our
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
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

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


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result` without re-checking the schema.

    Raises:
        ValidationError: as Rasa's own does, with the same explanation appended.
    """
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


def action_call_payload(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
    """Rasa's request to the action server, its user events without the NLU's rankings,
    and a form validation action's domain without the responses."""
    payload: dict[str, Any] = RASA_ACTION_CALL_FORMAT(self, tracker, domain)
    if "domain" in payload and self.name() in {f"validate_{form}" for form in domain.form_names}:
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
    RemoteAction._validate_action_result = validate_action_result
    RemoteAction._action_call_format = action_call_payload
    setattr(RemoteAction, _INSTALLED_FLAG, True)


__all__ = ["PAST_MESSAGE_KEYS", "ValidationError", "action_call_payload",
           "domain_without_responses", "install", "past_parse_data", "response_validator",
           "validate_action_result"]
