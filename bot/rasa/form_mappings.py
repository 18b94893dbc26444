"""Which `from_entity` mappings fill one slot of a form alone: worked out once per form
and domain, not for every mapping of every form turn.

Rasa 3.6 runs `action_extract_slots` after every message. While a form is active, it
checks each `from_entity` mapping of each slot the form requires
(`ActionExtractSlots._fails_unique_entity_mapping_check`), and for each it builds a new
`FormAction`, whose first `entity_mapping_is_unique` works the form's unique mappings out
from `domain.as_dict()`: the whole domain, with every answer merged in at training, made
again a dozen times a form turn (a sixth of the in-process time of a form start; see
bench/README.md). The answer depends only on the form and the domain, and a loaded
model's domain does not change.

`install()` makes `FormAction._create_unique_entity_mappings` keep its answer per form for
the domain it was worked out from; another domain (a newly loaded model) gets its own.
Like bot/rasa/action_calls.py, it is installed by our tracker store, so it is in every
server that runs our endpoints, and never in stock Rasa.
"""

from __future__ import annotations

from typing import Any

from rasa.core.actions.forms import FormAction

_RASA_UNIQUE_MAPPINGS = FormAction._create_unique_entity_mappings
_INSTALLED_FLAG = "_bot_unique_mappings_cached"

# Form name -> (the domain, its unique mappings). The domain is compared by identity:
# its own hash serialises it whole, which is the cost this saves.
_cache: dict[str, tuple[Any, frozenset[str]]] = {}


def unique_entity_mappings(self: FormAction, domain: Any) -> frozenset[str]:
    """`FormAction._create_unique_entity_mappings`, worked out once per form and domain."""
    cached = _cache.get(self.name())
    if cached is None or cached[0] is not domain:
        cached = (domain, frozenset(_RASA_UNIQUE_MAPPINGS(self, domain)))
        _cache[self.name()] = cached
    return cached[1]


def install() -> None:
    """Use `unique_entity_mappings` in this process (idempotent)."""
    if getattr(FormAction, _INSTALLED_FLAG, False):
        return
    FormAction._create_unique_entity_mappings = unique_entity_mappings
    setattr(FormAction, _INSTALLED_FLAG, True)


def uninstall() -> None:
    """Rasa's own again (for tests)."""
    FormAction._create_unique_entity_mappings = _RASA_UNIQUE_MAPPINGS
    setattr(FormAction, _INSTALLED_FLAG, False)
    _cache.clear()


def installed() -> bool:
    return FormAction._create_unique_entity_mappings is unique_entity_mappings


__all__ = ["install", "installed", "uninstall", "unique_entity_mappings"]
