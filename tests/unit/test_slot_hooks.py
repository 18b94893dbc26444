"""The per-slot hooks that SlotHooks generates: every form slot in domain.yml has them,
and rasa-sdk finds and calls them as it would hand-written ones."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advisor import ValidateAdvisorForm
from actions.leads import ValidateLeadForm
from actions.slot_hooks import SlotHooks, hook_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text("utf-8"))

# Each form of domain.yml: its validation action, and the hooks every one of its slots needs.
FORM_HOOKS: dict[str, tuple[type[FormValidationAction], tuple[str, ...]]] = {
    "advisor_form": (ValidateAdvisorForm, ("extract", "validate")),
    "lead_form": (ValidateLeadForm, ("validate",)),
}


def test_every_form_of_the_domain_is_covered() -> None:
    assert set(FORM_HOOKS) == set(DOMAIN["forms"])
    for form, (action, _) in FORM_HOOKS.items():
        assert action().name() == f"validate_{form}"


@pytest.mark.parametrize(
    ("form", "slot", "kind"),
    [
        (form, slot, kind)
        for form, (_, kinds) in FORM_HOOKS.items()
        for slot in DOMAIN["forms"][form]["required_slots"]
        for kind in kinds
    ],
)
def test_every_form_slot_has_its_hook(form: str, slot: str, kind: str) -> None:
    action = FORM_HOOKS[form][0]()
    assert callable(getattr(action, hook_name(kind, slot), None))


def test_the_hook_name_is_the_one_rasa_sdk_looks_up() -> None:
    assert hook_name("validate", "os_mix") == "validate_os_mix"
    assert hook_name("extract", "lead-size") == "extract_lead_size"


class _Recording(SlotHooks, FormValidationAction):
    """A form whose generic methods record what they were called with."""

    validated_slots = ("colour", "pet-name")
    extracted_slots = ("colour",)

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def name(self) -> str:
        return "validate_recording_form"

    async def validate_slot(
        self,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        self.calls.append(("validate", slot, value))
        return {slot: str(value).upper()}

    def extract_slot(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append(("extract", slot))
        return {slot: tracker.latest_message.get("text")} if slot == "colour" else {}


def test_generated_hooks_are_named_and_documented_like_written_ones() -> None:
    hook = _Recording.validate_pet_name
    assert hook.__name__ == "validate_pet_name"
    assert hook.__qualname__ == "_Recording.validate_pet_name"
    assert "pet-name" in (hook.__doc__ or "")
    assert not hasattr(_Recording, "extract_pet_name")


@pytest.mark.asyncio
async def test_rasa_sdk_finds_and_calls_the_generated_hooks() -> None:
    domain = {
        "forms": {"recording_form": {"required_slots": ["colour", "pet-name"]}},
        "slots": {"colour": {}, "pet-name": {}},
    }
    slots = {"colour": None, "pet-name": "rex", "requested_slot": "colour"}
    latest = {"text": "green", "intent": {"name": "inform"}, "entities": []}
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "green", "parse_data": latest},
        {"event": "slot", "name": "pet-name", "value": "rex"},
    ]
    tracker = Tracker("visitor", slots, latest, events, False, None,
                      {"name": "recording_form"}, "action_listen")
    action = _Recording()
    result = await action.run(CollectingDispatcher(), tracker, domain)

    assert ("extract", "colour") in action.calls
    assert ("validate", "colour", "green") in action.calls
    assert ("validate", "pet-name", "rex") in action.calls
    set_slots = {e["name"]: e["value"] for e in result if e["event"] == "slot"}
    assert set_slots["colour"] == "GREEN" and set_slots["pet-name"] == "REX"


def test_hooks_return_what_the_generic_method_returns() -> None:
    # The lead form's checks are async (a coroutine for rasa-sdk to await), the
    # advisor's are not; a generated hook passes either through unchanged.
    lead_hook = ValidateLeadForm().validate_lead_name
    pending = lead_hook("Ada Lovelace", CollectingDispatcher(), _empty_tracker(), DOMAIN)
    assert inspect.iscoroutine(pending)
    pending.close()
    advisor_hook = ValidateAdvisorForm().extract_isolation
    assert advisor_hook(CollectingDispatcher(), _empty_tracker(), DOMAIN) == {}


def test_a_hand_written_hook_for_a_listed_slot_is_refused() -> None:
    with pytest.raises(TypeError, match="validate_colour is written by hand"):

        class _Both(SlotHooks):
            validated_slots = ("colour",)

            def validate_slot(self, *args: Any) -> dict[str, Any]:
                return {}

            def validate_colour(self, *args: Any) -> dict[str, Any]:
                return {}


def test_listing_slots_without_the_generic_method_fails_on_import() -> None:
    with pytest.raises(TypeError, match="defines no extract_slot"):

        class _Missing(SlotHooks):
            extracted_slots = ("colour",)


def _empty_tracker() -> Tracker:
    return Tracker("visitor", {}, {}, [], False, None, {}, "action_listen")
