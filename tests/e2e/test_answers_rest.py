"""Specific answers through the REST webhook, against the real servers.

The questions the issue on understanding real visitors reported as misread, or answered
with a generic paragraph, each get the answer to what they ask; "more" and "tell me more"
give the topic's overview; a vague message gets the two likeliest answers as buttons; a
question from outside our field is told so. None of these sentences is training data.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.launcher import Stack
from bot.offerings import load_catalogue
from tests.support.servers import REST_AUTH, assistant  # noqa: F401

pytestmark = [pytest.mark.server, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text())["responses"]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]


def answer_text(key: str) -> str:
    return str(ANSWERS[f"utter_{key}"][0]["text"])


class Visitor:
    def __init__(self, servers: Stack) -> None:
        self.url = servers.url + "/webhooks/rest/webhook"
        self.sender = f"answers-{uuid.uuid4().hex[:12]}"
        self.last: list[dict[str, Any]] = []

    def say(self, text: str) -> str:
        request = urllib.request.Request(
            self.url, data=json.dumps({"sender": self.sender, "message": text}).encode(),
            headers={"Content-Type": "application/json", **REST_AUTH}, method="POST")
        with urllib.request.urlopen(request, timeout=90) as response:
            assert response.status == 200
            self.last = json.loads(response.read())
        assert self.last, f"no reply to {text!r}"
        return "\n".join(str(m.get("text", "")) for m in self.last)

    def buttons(self) -> dict[str, str]:
        return {b["title"]: b["payload"] for m in self.last for b in m.get("buttons", [])}


@pytest.mark.parametrize(("question", "key"), [
    ("How come docker images are so much smaller than VM images?",
     "ask_container_definition/image_size"),
    ("What is Firecracker?", "ask_both_together/firecracker"),
    ("Would you run MySQL in a container in production?",
     "ask_use_case_recommendation/databases"),
    ("is esxi still free??", "ask_cost/esxi_free"),
])
def test_a_specific_question_gets_its_specific_answer(
        assistant: Stack, question: str, key: str) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    assert visitor.say(question) == answer_text(key)


def test_a_database_question_does_not_start_the_questionnaire(
        assistant: Stack) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    visitor.say("Would you run MySQL in a container in production?")
    assert "Recommend for my workload" in visitor.buttons()
    # The next answer is not read as a questionnaire answer: no form is running.
    reply = visitor.say("thanks")
    assert reply == DOMAIN["utter_thank"][0]["text"]


@pytest.mark.parametrize(("question", "key"), [
    ("do you guys offer managed kubernetes?", "managed_kubernetes"),
    ("does your platform support windows containers?", "windows_support"),
])
def test_questions_about_our_platform_are_answered_from_our_offerings(
        assistant: Stack, question: str, key: str) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    expected, _ = load_catalogue().answer(f"ask_offerings/{key}") or ("", [])
    assert visitor.say(question) == expected
    assert "Talk to our solutions team" in visitor.buttons()


def test_more_and_tell_me_more_give_the_topics_overview(
        assistant: Stack) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    visitor.say("What is Firecracker?")
    more = visitor.buttons()["More on running both"]
    assert visitor.say(more) == answer_text("ask_both_together/general")
    visitor.say("Is ESXi still free?")
    assert visitor.say("tell me more about that") == answer_text("ask_cost/general")


def test_a_vague_message_gets_the_two_likeliest_answers_as_buttons(
        assistant: Stack) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    reply = visitor.say("vmware esxi broadcom??")
    titles = list(visitor.buttons())
    if reply == DOMAIN["utter_did_you_mean"][0]["text"]:
        assert len(titles) == 3 and titles[-1] == "Something else"
        chosen = visitor.say(visitor.buttons()[titles[0]])
        assert chosen in {answer_text(k) for k in ("ask_cost/esxi_free",
                                                   "ask_cost/vmware_broadcom")}
    else:  # understood outright: then it must be one of those two answers
        assert reply in {answer_text(k) for k in ("ask_cost/esxi_free",
                                                  "ask_cost/vmware_broadcom")}


def test_a_question_outside_our_field_is_told_so(assistant: Stack) -> None:  # noqa: F811
    visitor = Visitor(assistant)
    assert visitor.say("how do I bake sourdough bread?") == DOMAIN["utter_out_of_scope"][0][
        "text"]
