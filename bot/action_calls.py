"""How the Rasa server checks what the action server answers: the schema is checked once.

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
tracker store (bot/stores.py), so it is in every server that runs our endpoints, and never
in stock Rasa.
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


def install() -> None:
    """Use `validate_action_result` in this process (idempotent)."""
    if getattr(RemoteAction, _INSTALLED_FLAG, False):
        return
    response_validator()  # fail here, at start, if the schema were ever invalid
    RemoteAction._validate_action_result = validate_action_result
    setattr(RemoteAction, _INSTALLED_FLAG, True)


__all__ = ["ValidationError", "install", "response_validator", "validate_action_result"]
