"""The advisor's actions with real rasa_sdk trackers, a collecting dispatcher and the domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.advisor import (
    ASKED_IF_DECISIVE,
    EXPLAIN_SLOT,
    FORM_QUESTIONS,
    ActionRecommend,
    ActionResetAdvisor,
    ValidateAdvisorForm,
    advisor_rules,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    domain: dict[str, Any],
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    set_by_message: dict[str, Any] | None = None,
    form_active: bool = True,
    candidates: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker just after the visitor's message `text`.

    `set_by_message` are slots that Rasa filled from the message's entities; they are
    both in the slots and in the events after the user event, as Rasa sends them.
    """
    values: dict[str, Any] = {name: None for name in domain["slots"]}
    values.update({"advisor_done": False, "requested_slot": None})
    values.update(slots or {})
    values.update(set_by_message or {})
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [],
              "answer_candidates": candidates or {}}
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest},
        *({"event": "slot", "name": k, "value": v} for k, v in (set_by_message or {}).items()),
    ]
    active_loop = {"name": "advisor_form"} if form_active else {}
    return Tracker("visitor", values, latest, events, False, None, active_loop, "action_listen")


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def validate_form(
    domain: dict[str, Any], dispatcher: CollectingDispatcher, **tracker_args: Any
) -> dict[str, Any]:
    """The slots that the advisor form's validation sets on `make_tracker(**tracker_args)`."""
    tracker = make_tracker(domain, **tracker_args)
    return slot_events(await ValidateAdvisorForm().run(dispatcher, tracker, domain))


# --- the form's validation -------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("asked", "text", "set_by_message", "answer"),
    [
        pytest.param("startup", "they have to be up within seconds", None, "seconds",
                     id="a free-text answer is read from the NLU's best option"),
        pytest.param("isolation", '/inform{"isolation":"not_sure"}', {"isolation": "not_sure"},
                     "not_sure", id="a not-sure button is kept as not sure"),
        pytest.param("os_mix", "Win Server 2019 and RHEL",
                     {"os_mix": ["windows_only", "linux_only"]}, ["windows_and_linux"],
                     id="several systems in one message make a mix"),
        pytest.param("isolation", "our platform runs strangers' code", {"isolation": "code"},
                     "untrusted", id="an entity fragment falls back to the NLU's reading"),
    ],
)
async def test_an_answer_to_the_question_asked_is_normalised(
    domain: dict[str, Any],
    dispatcher: CollectingDispatcher,
    asked: str,
    text: str,
    set_by_message: dict[str, Any] | None,
    answer: Any,
) -> None:
    # What bot/rasa/nlu/answer_fields.py would add to the message for the question asked.
    candidates = {"startup": {"value": "seconds", "score": 0.62, "margin": 0.1},
                  "isolation": {"value": "untrusted", "score": 0.7, "margin": 0.2}}
    events = await validate_form(
        domain, dispatcher, slots={"requested_slot": asked}, text=text,
        set_by_message=set_by_message, candidates=candidates,
    )
    assert events[asked] == answer
    assert events["advisor_retries"] == {}
    assert dispatcher.messages == []


@pytest.mark.asyncio
async def test_a_question_in_the_middle_is_not_taken_as_an_answer(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    events = await validate_form(
        domain,
        dispatcher,
        slots={"requested_slot": "startup"},
        text="what is a container?",
        intent="ask_container_definition",
    )
    # No slot candidate at all: Rasa then rejects the form and the FAQ rule answers.
    # (Any slot but `requested_slot` would count as an answer and stop the rejection.)
    assert set(events) <= {"requested_slot"}


@pytest.mark.asyncio
async def test_misses_are_counted_then_the_default_is_assumed(
    domain: dict[str, Any],
) -> None:
    retries: dict[str, int] = {}
    for attempt in (1, 2):
        dispatcher = CollectingDispatcher()
        events = await validate_form(
            domain,
            dispatcher,
            slots={"requested_slot": "startup", "advisor_retries": retries},
            text="bananas",
        )
        assert events["startup"] is None
        retries = events["advisor_retries"]
        assert retries == {"startup": attempt}

    dispatcher = CollectingDispatcher()
    events = await validate_form(
        domain,
        dispatcher,
        slots={"requested_slot": "startup", "advisor_retries": retries},
        text="bananas",
    )
    assert events["startup"] == "not_sure"
    assert events["advisor_retries"] == {}
    [message] = dispatcher.messages
    assert message["response"] == "utter_advisor_assumed"
    assert message["assumption"] == "instances can take minutes to start"


@pytest.mark.asyncio
async def test_activation_says_what_the_opening_message_told_us(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    events = await validate_form(
        domain,
        dispatcher,
        text="We run about 200 Linux microservices and customers upload their own code",
        intent="ask_use_case_recommendation",
        set_by_message={
            "os_mix": ["linux_only"],
            "density": "high",
            "workload_count": "200",
            "isolation": "untrusted",
        },
    )
    assert events["isolation"] == "untrusted" and events["density"] == "high"
    [message] = dispatcher.messages
    assert message["response"] == "utter_advisor_noted"
    assert "everything runs on Linux" in message["noted"]
    assert "about 200 workloads" in message["noted"]


@pytest.mark.asyncio
async def test_the_form_stops_once_no_answer_can_change_the_result(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    tracker = make_tracker(
        domain,
        slots={"requested_slot": "os_mix", "isolation": "medium", "density": "low"},
        text="FreeBSD appliances",
        set_by_message={"os_mix": ["other_kernel"]},
    )
    events = await ValidateAdvisorForm().run(dispatcher, tracker, domain)
    assert SlotSet("requested_slot", None) in events


@pytest.mark.asyncio
async def test_the_form_goes_on_while_answers_can_still_matter(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    events = await validate_form(
        domain,
        dispatcher,
        slots={"requested_slot": "os_mix"},
        text="linux",
        set_by_message={"os_mix": ["linux"]},
    )
    assert events["os_mix"] == ["linux_only"]
    # The questions that cannot change the verdict are left out, so the next open one
    # is named here.
    assert events["requested_slot"] == "isolation"


@pytest.mark.asyncio
async def test_an_answer_to_another_question_is_noted_and_the_question_asked_again(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    events = await validate_form(
        domain,
        dispatcher,
        slots={"requested_slot": "density", "isolation": "medium", "os_mix": ["linux_only"]},
        text="each should start within a few seconds",
        set_by_message={"startup": "seconds"},
    )
    assert events["startup"] == "seconds"
    assert "density" not in events  # not forced into the question asked
    assert [m["response"] for m in dispatcher.messages] == ["utter_advisor_noted_elsewhere"]
    assert "seconds" in dispatcher.messages[0]["noted"]


@pytest.mark.asyncio
async def test_new_factors_are_asked_only_when_they_could_change_the_verdict(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    from bot.advisor.answers import profile_from_answers
    from bot.advisor.engine import questions_that_could_change

    slots = {"isolation": "medium", "os_mix": ["linux_only"], "density": "high",
             "startup": "seconds", "stateful": False, "legacy": False,
             "team_containers": "some"}
    tracker = make_tracker(domain, slots={"requested_slot": "team_containers", **slots})
    required = await ValidateAdvisorForm().required_slots(
        domain["forms"]["advisor_form"]["required_slots"], dispatcher, tracker, domain)
    profile, _ = profile_from_answers(slots)
    decisive = {q.field for q in questions_that_could_change(
        profile, advisor_rules(), fields=ASKED_IF_DECISIVE)}
    assert {s for s in required if s in ASKED_IF_DECISIVE} == decisive


# --- asking ------------------------------------------------------------------------------


# The answers to the questions asked before `startup`, so that it is the next one open.
ASKED_BEFORE_STARTUP = {"isolation": "medium", "os_mix": ["linux_only"], "density": "high"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("misses_before", "said_before_question", "explained"),
    [
        (0, ["utter_advisor_retry"], False),
        (1, ["utter_advisor_offer_person"], True),
    ],
)
async def test_a_missed_question_is_asked_again_then_explained(
    domain: dict[str, Any], dispatcher: CollectingDispatcher,
    misses_before: int, said_before_question: list[str], explained: bool,
) -> None:
    events = await validate_form(
        domain, dispatcher, text="bananas",
        slots={**ASKED_BEFORE_STARTUP, "requested_slot": "startup",
               "advisor_retries": {"startup": misses_before}},
    )
    # Rasa asks `requested_slot` with `utter_ask_startup` after these messages.
    assert events["requested_slot"] == "startup"
    assert [m["response"] for m in dispatcher.messages] == said_before_question
    assert bool(events.get(EXPLAIN_SLOT)) is explained


@pytest.mark.asyncio
async def test_an_answer_after_the_explanation_asks_the_next_question_plainly(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    events = await validate_form(
        domain, dispatcher, text="they have to be up within seconds",
        slots={**ASKED_BEFORE_STARTUP, "requested_slot": "startup",
               "advisor_retries": {"startup": 2}, EXPLAIN_SLOT: True},
        candidates={"startup": {"value": "seconds", "score": 0.62, "margin": 0.1}},
    )
    assert events["startup"] == "seconds"
    assert events["requested_slot"] not in (None, "startup")
    assert events[EXPLAIN_SLOT] is False
    assert dispatcher.messages == []


@pytest.mark.asyncio
async def test_resuming_after_a_question_does_not_apologise_again(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    # Rasa calls the validation when the form resumes after an FAQ answer; the latest
    # message is still the question, and the miss before it was already apologised for.
    events = await validate_form(
        domain, dispatcher, text="what is a container?", intent="ask_container_definition",
        slots={**ASKED_BEFORE_STARTUP, "requested_slot": "startup",
               "advisor_retries": {"startup": 1}},
    )
    assert events == {"requested_slot": "startup"}
    assert dispatcher.messages == []


@pytest.mark.parametrize("field", FORM_QUESTIONS)
def test_rasa_asks_each_question_in_its_explained_variation_after_two_misses(
    domain: dict[str, Any], field: str
) -> None:
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    nlg = TemplatedNaturalLanguageGenerator(domain["responses"])
    response = f"utter_ask_{field}"
    plain = nlg.generate_from_slots(response, {EXPLAIN_SLOT: False}, "rest")
    explained = nlg.generate_from_slots(response, {EXPLAIN_SLOT: True}, "rest")
    assert plain and explained and plain["text"] != explained["text"]
    # Both can be answered with a click.
    assert plain["buttons"] and explained["buttons"]
    assert not domain["slots"][EXPLAIN_SLOT]["influence_conversation"]


# --- the recommendation ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_recommendation_is_sent_and_kept_for_the_lead(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    answers = {
        "isolation": "untrusted",
        "os_mix": ["linux_only"],
        "density": "high",
        "startup": "subsecond",
        "stateful": False,
        "legacy": "not_sure",
        "team_containers": "some",
    }
    tracker = make_tracker(domain, slots=answers, form_active=False)
    events = slot_events(await ActionRecommend().run(dispatcher, tracker, domain))

    [message] = dispatcher.messages
    assert message["response"] == "utter_advisor_result"
    assert message["title"] == "Hybrid: micro-VMs"
    assert message["reasons"].count("\n- ") >= 1
    assert "%" in message["confidence"]
    assert "a legacy application" not in message["notes"]
    assert "the applications can be packaged as containers" in message["notes"]
    scorecard = message["custom"]["scorecard"]
    assert scorecard["verdict"] == "hybrid" and scorecard["hybrid_kind"] == "microvms"
    assert any(f["fact"] == "isolation" and f["contribution"] > 0 for f in scorecard["factors"])

    kept = events["recommendation"]
    assert kept["verdict"] == "hybrid"
    assert kept["profile"]["isolation"] == "untrusted"
    assert kept["not_sure"] == ["legacy"]
    assert events["advisor_done"] is True
    for key in ("title", "confidence", "reasons", "notes", "offering"):
        assert "{" + key + "}" in domain["responses"]["utter_advisor_result"][0]["text"]


@pytest.mark.asyncio
async def test_a_correction_after_the_result_changes_the_profile(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    before = {"isolation": "medium", "os_mix": ["linux_only"], "density": "high",
              "startup": "seconds", "stateful": False, "legacy": False,
              "team_containers": "strong"}  # fmt: skip
    first = CollectingDispatcher()
    done = slot_events(
        await ActionRecommend().run(
            first, make_tracker(domain, slots=before, form_active=False), domain
        )
    )
    assert done["recommendation"]["verdict"] == "container"

    tracker = make_tracker(
        domain,
        slots={**before, "advisor_done": True, "recommendation": done["recommendation"]},
        text="Actually we also run Windows",
        set_by_message={"os_mix": ["windows_only"]},
        form_active=False,
    )
    events = slot_events(await ActionRecommend().run(dispatcher, tracker, domain))
    assert events["os_mix"] == ["windows_and_linux"]
    assert events["recommendation"]["profile"]["os_mix"] == "windows_and_linux"
    assert events["recommendation"]["verdict"] != "container"
    updated, result = dispatcher.messages
    assert updated["response"] == "utter_advisor_updated"
    assert updated["changes"] == "you run both Windows and Linux"
    assert result["response"] == "utter_advisor_result"


@pytest.mark.asyncio
@pytest.mark.parametrize(("candidates", "changed"), [
    pytest.param({"stateful": {"value": False, "score": 0.95, "margin": 0.33},
                  "licences": {"value": "none", "score": 0.37, "margin": 0.12}},
                 {"stateful": False}, id="one clear reading changes its answer"),
    pytest.param({"stateful": {"value": False, "score": 0.7, "margin": 0.2},
                  "legacy": {"value": False, "score": 0.6, "margin": 0.2}},
                 None, id="two close readings change nothing"),
    pytest.param({"isolation": {"value": "low", "score": 0.9, "margin": 0.03}},
                 None, id="a reading close to two options changes nothing"),
])
async def test_a_short_reply_after_the_result_is_read_from_its_clear_reading(
    domain: dict[str, Any], dispatcher: CollectingDispatcher,
    candidates: dict[str, Any], changed: dict[str, Any] | None,
) -> None:
    before = {"isolation": "medium", "os_mix": ["linux_only"], "density": "high",
              "startup": "seconds", "stateful": True, "legacy": False,
              "team_containers": "strong"}  # fmt: skip
    done = slot_events(await ActionRecommend().run(
        CollectingDispatcher(), make_tracker(domain, slots=before, form_active=False), domain))
    tracker = make_tracker(
        domain, slots={**before, "advisor_done": True, "recommendation": done["recommendation"]},
        text="no databases", candidates=candidates, form_active=False)
    events = slot_events(await ActionRecommend().run(dispatcher, tracker, domain))
    if changed is None:
        assert events == {}
        assert [m["response"] for m in dispatcher.messages] == ["utter_advisor_no_change"]
    else:
        assert {f: events[f] for f in changed} == changed
        assert events["recommendation"]["profile"]["stateful"] is False
        assert [m["response"] for m in dispatcher.messages] == [
            "utter_advisor_updated", "utter_advisor_result"]


@pytest.mark.asyncio
async def test_starting_again_forgets_old_answers_but_keeps_new_ones(
    domain: dict[str, Any], dispatcher: CollectingDispatcher
) -> None:
    tracker = make_tracker(
        domain,
        slots={"advisor_done": True, "isolation": "untrusted", "density": "low"},
        text="now what about 40 Windows services?",
        intent="ask_use_case_recommendation",
        set_by_message={"os_mix": ["windows_only"], "workload_count": "40"},
        form_active=False,
    )
    events = slot_events(await ActionResetAdvisor().run(dispatcher, tracker, domain))
    assert events["isolation"] is None and events["density"] is None
    assert "os_mix" not in events and "workload_count" not in events
    assert events["advisor_done"] is False


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("slots", "text", "set_by_message"),
    [
        pytest.param({"recommendation": {"verdict": "vm", "profile": {}}},
                     "hmm, something is different", None,
                     id="a correction without a recognised answer changes nothing"),
        pytest.param({"recommendation": {"verdict": "container",
                                         "profile": {"os_mix": "linux_only"}},
                      "isolation": "medium"},
                     "we run Linux", {"os_mix": ["linux_only"]},
                     id="restating an answer after the result is not a change"),
    ],
)
async def test_a_message_after_the_result_that_changes_no_answer(
    domain: dict[str, Any],
    dispatcher: CollectingDispatcher,
    slots: dict[str, Any],
    text: str,
    set_by_message: dict[str, Any] | None,
) -> None:
    tracker = make_tracker(
        domain,
        slots={"advisor_done": True, **slots},
        text=text,
        set_by_message=set_by_message,
        form_active=False,
    )
    assert await ActionRecommend().run(dispatcher, tracker, domain) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_advisor_no_change"]
