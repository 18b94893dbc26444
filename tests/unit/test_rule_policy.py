"""FiledRulePolicy finds exactly the rules Rasa's RulePolicy finds."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import SHOULD_NOT_BE_SET

from bot.rasa.rule_policy import FiledRulePolicy

INTENTS = ["greet", "ask_cost", "inform", "affirm"]
ACTIONS = ["action_listen", "utter_greet", "advisor_form", "action_recommend"]


def _policy(cls: type[RulePolicy], tmp_path: Path, rules: dict[str, str]) -> RulePolicy:
    policy = cls.create(cls.get_default_config(), LocalModelStorage(tmp_path),
                        Resource(cls.__name__), ExecutionContext(GraphSchema({}), "test"))
    policy.lookup = {"rules": rules, "rules_for_loop_unhappy_path": {}}
    return policy


def _state(rng: random.Random, start: bool = False) -> dict[str, Any]:
    state: dict[str, Any] = {}
    if not start:
        state["prev_action"] = {"action_name": rng.choice(ACTIONS)}
    if rng.random() < 0.7:
        state["user"] = {"intent": rng.choice(INTENTS)}
    if rng.random() < 0.4:
        state["active_loop"] = {"name": rng.choice(["advisor_form", SHOULD_NOT_BE_SET])}
    if rng.random() < 0.4:
        state["slots"] = {"consent": rng.choice([(1.0,), (0.0,), SHOULD_NOT_BE_SET])}
    return state


def _states(rng: random.Random, length: int) -> list[dict[str, Any]]:
    return [_state(rng, start=i == 0 and rng.random() < 0.5) for i in range(length)]


def test_the_same_rules_apply_as_with_rasas_rule_policy(tmp_path: Path) -> None:
    rng = random.Random(14)
    # Short rules from a small vocabulary, so that many of them match some conversations.
    rules = {json.dumps(_states(rng, rng.randint(1, 4))): rng.choice(ACTIONS)
             for _ in range(300)}
    rasa = _policy(RulePolicy, tmp_path / "rasa", rules)
    ours = _policy(FiledRulePolicy, tmp_path / "ours", rules)
    matched = 0
    for _ in range(400):
        conversation = _states(rng, rng.randint(1, 8))
        expected = rasa._get_possible_keys(rasa.lookup["rules"], conversation)
        assert ours._get_possible_keys(ours.lookup["rules"], conversation) == expected
        matched += len(expected)
    assert matched > 50  # the comparison saw rules that apply, not only empty sets


def test_a_rule_longer_than_the_conversation_is_matched_on_what_there_is(
        tmp_path: Path) -> None:
    greet = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}
    rule = json.dumps([{"prev_action": {"action_name": "utter_greet"}}, greet])
    ours = _policy(FiledRulePolicy, tmp_path, {rule: "utter_greet"})
    assert ours._get_possible_keys(ours.lookup["rules"], [greet]) == {rule}
    other = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "ask_cost"}}
    assert ours._get_possible_keys(ours.lookup["rules"], [other]) == set()


def test_a_rule_pruned_from_the_lookup_no_longer_applies(tmp_path: Path) -> None:
    # Training prunes rules from the lookup after predicting with it.
    greet = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}
    rule = json.dumps([greet])
    ours = _policy(FiledRulePolicy, tmp_path, {rule: "utter_greet"})
    assert ours._get_possible_keys(ours.lookup["rules"], [greet]) == {rule}
    del ours.lookup["rules"][rule]
    assert ours._get_possible_keys(ours.lookup["rules"], [greet]) == set()
