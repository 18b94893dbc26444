"""A form's unique entity mappings, worked out once per form and domain (issue 14)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa.core.actions.forms import FormAction
from rasa.shared.core.domain import Domain

from bot.rasa import form_mappings
from tests.support.project import PROJECT_ROOT


@pytest.fixture
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


class CountingDomain:
    """A domain that counts how often it is serialised whole."""

    def __init__(self, domain: Domain) -> None:
        self._domain = domain
        self.serialised = 0

    def as_dict(self) -> dict[str, Any]:
        self.serialised += 1
        serialised: dict[str, Any] = self._domain.as_dict()
        return serialised

    def required_slots_for_form(self, form: str) -> list[str]:
        required: list[str] = self._domain.required_slots_for_form(form)
        return required


@pytest.mark.parametrize("form", ["advisor_form", "lead_form"])
def test_the_answer_is_rasas_own(domain: Domain, form: str) -> None:
    ours = form_mappings.unique_entity_mappings(FormAction(form, None), domain)
    assert ours == form_mappings._RASA_UNIQUE_MAPPINGS(FormAction(form, None), domain)


def test_it_is_worked_out_once_per_form_and_domain(domain: Domain) -> None:
    counting = CountingDomain(domain)
    for _ in range(5):  # as action_extract_slots does, with a new FormAction each time
        form_mappings.unique_entity_mappings(FormAction("advisor_form", None), counting)
    assert counting.serialised == 1
    another = CountingDomain(domain)  # a newly loaded model's domain
    form_mappings.unique_entity_mappings(FormAction("advisor_form", None), another)
    assert another.serialised == 1


def test_every_mapping_check_of_a_form_turn_uses_it(domain: Domain) -> None:
    form_mappings.install()
    form = FormAction("advisor_form", None)
    mapping = domain.as_dict()["slots"]["density"]["mappings"][0]
    assert form.entity_mapping_is_unique(mapping, domain) == (
        json.dumps(mapping, sort_keys=True)
        in form_mappings._RASA_UNIQUE_MAPPINGS(form, domain))
    assert form_mappings.installed()


def test_the_tracker_store_installs_it(tmp_path: Any) -> None:
    from bot.rasa.tracker_store import StrictSQLTrackerStore

    form_mappings.uninstall()
    assert not form_mappings.installed()
    StrictSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert form_mappings.installed()
