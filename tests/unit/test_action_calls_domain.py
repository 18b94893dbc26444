"""What goes into each action call: the domain only for the actions that read it.

endpoints.yml turns on Rasa's `enable_selective_domain`, and domain.yml marks the actions
that need the domain with `send_domain: true` (issue 14). An action that reads the domain
without the mark would get `{}` and go wrong quietly (an answer action would find no
response), so this test finds the readers in the code: every rasa-sdk form validation
action (it reads the form's required slots from the domain) and every action whose
methods use their `domain` argument.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from functools import cache
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.forms import FormValidationAction

ROOT = Path(__file__).resolve().parents[2]


@cache
def registered_actions() -> dict[str, type[Action]]:
    """The action server's actions, by name, as rasa-sdk registers the package."""
    executor = ActionExecutor()
    executor.register_package("actions")
    return {name: type(run.__self__) for name, run in executor.actions.items()
            if hasattr(run, "__self__")}


def uses_its_domain_argument(action: type[Action]) -> bool:
    """Whether a method of the action (or of our classes it inherits) reads `domain`."""
    for cls in action.__mro__:
        if not cls.__module__.startswith("actions"):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        if any(isinstance(node, ast.Name) and node.id == "domain"
               and isinstance(node.ctx, ast.Load) for node in ast.walk(tree)):
            return True
    return False


def reads_domain(action: type[Action]) -> bool:
    return issubclass(action, FormValidationAction) or uses_its_domain_argument(action)


@cache
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def test_the_readers_are_found() -> None:
    # Guards the finder itself: these four are known to read the domain, and these
    # two known not to.
    actions = registered_actions()
    readers = {name for name, cls in actions.items() if reads_domain(cls)}
    assert {"action_show_answer", "action_answer_offering", "validate_advisor_form",
            "validate_lead_form"} <= readers
    assert not readers & {"action_recommend", "action_ask_lead_confirmed"}


@pytest.mark.parametrize("name", sorted(registered_actions()))
def test_the_domain_goes_to_an_action_exactly_when_it_reads_it(name: str) -> None:
    assert name in rasa_domain().user_actions, f"{name} is not in domain.yml's actions"
    sent = rasa_domain().does_custom_action_explicitly_need_domain(name)
    assert sent == reads_domain(registered_actions()[name]), (
        f"{name}: {'remove' if sent else 'add'} `send_domain: true` in domain.yml")


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "deploy/endpoints.production.yml"])
def test_servers_send_the_domain_selectively(endpoints: str) -> None:
    config = yaml.safe_load((ROOT / endpoints).read_text(encoding="utf-8"))
    assert config["action_endpoint"]["enable_selective_domain"] is True


def looks_up_responses(action: type[Action]) -> bool:
    """Whether the modules of the action's own classes read a domain's "responses"."""
    modules = {sys.modules[cls.__module__] for cls in action.__mro__
               if cls.__module__.startswith("actions")}
    return any(isinstance(node, ast.Constant) and node.value == "responses"
               for module in modules for node in ast.walk(ast.parse(inspect.getsource(module))))


def test_the_finder_sees_response_lookups() -> None:
    assert looks_up_responses(registered_actions()["action_show_answer"])


@pytest.mark.parametrize("form", sorted(rasa_domain().form_names))
def test_form_validation_actions_never_read_the_responses(form: str) -> None:
    # bot/rasa/action_calls.py sends `validate_<form>` the domain without its responses.
    assert not looks_up_responses(registered_actions()[f"validate_{form}"]), (
        f"validate_{form} reads the domain's responses, which its calls leave out "
        "(bot/rasa/action_calls.py)")
