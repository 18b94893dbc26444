"""Rasa's RulePolicy, with its rules filed by the previous action they follow.

RulePolicy predicts every action of every turn (config.yml has no other policy). To find
the rules that apply, Rasa 3.6 checks every rule against the conversation's latest state,
then the survivors against the state before, and so on. With 176 rules that was half of
the policy's time (cProfile of new-text FAQ turns, 2026-12-02), nearly all of it spent
finding that a rule's latest state names another previous action.

A rule whose latest state names a previous action applies only when the conversation's
latest previous action is that one, so this policy files the rules by it, once per
model, and checks only the rules filed under the conversation's latest previous action
and those that name none. The check itself is Rasa's (`_is_rule_applicable`), so which
rules apply, and every prediction, is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.generator import State
from rasa.shared.nlu.constants import ACTION_NAME


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class FiledRulePolicy(RulePolicy):  # type: ignore[misc]
    """RulePolicy with its rules filed by previous action; trains, persists and predicts
    as RulePolicy does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per lookup: its keys by the previous action their latest state names, None for
        # those that name none. Keyed by the lookup's id and size: a trained model's
        # lookups are fixed, and training, which prunes rules, shrinks them.
        self._filed: dict[tuple[int, int], dict[str | None, list[str]]] = {}

    def _get_possible_keys(self, lookup: dict[str, str], states: list[State]) -> set[str]:
        filed = self._filed.get((id(lookup), len(lookup)))
        if filed is None:
            filed = self._filed[(id(lookup), len(lookup))] = _file_by_previous_action(
                lookup, self._rule_key_to_state)
        latest = _previous_action_name(states[-1]) if states else None
        candidates = [*filed.get(None, []), *(filed.get(latest, []) if latest else [])]
        conversation = list(reversed(states))
        return {key for key in candidates
                if all(self._is_rule_applicable(key, turn, state)
                       for turn, state in enumerate(conversation))}


def _previous_action_name(state: State) -> str | None:
    name = state.get(PREVIOUS_ACTION, {}).get(ACTION_NAME)
    return name if isinstance(name, str) and name != SHOULD_NOT_BE_SET else None


def _file_by_previous_action(lookup: dict[str, str],
                             states_of: Callable[[str], list[State]]
                             ) -> dict[str | None, list[str]]:
    filed: dict[str | None, list[str]] = {}
    for key in lookup:
        rule_states = states_of(key)
        name = _previous_action_name(rule_states[-1]) if rule_states else None
        filed.setdefault(name, []).append(key)
    return filed
