"""The benchmark's conversation: what a real visitor to the advisor says, turn by turn.

A greeting, two FAQ questions, the whole workload form (button payloads and free text),
the recommendation, "talk to an expert", consent and three lead fields. Every turn has a
kind, and the benchmark reports latency per kind (FAQ, form start, form answer, lead
field, ...), never one figure over turns that do different work.

The FAQ questions change from one conversation to the next (a question, a way of
opening it and a way of ending it), because the sentence encoder caches its embedding
per text: a benchmark that repeats three sentences would measure cache hits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Kinds of turn, in the order of the report.
GREETING = "greeting"
FAQ = "faq"
FORM_START = "form start"
FORM_ANSWER = "form answer"
RECOMMENDATION = "recommendation"
EXPERT = "expert"
CONSENT = "consent"
LEAD_FIELD = "lead field"
KINDS = (GREETING, FAQ, FORM_START, FORM_ANSWER, RECOMMENDATION, EXPERT, CONSENT, LEAD_FIELD)


@dataclass(frozen=True)
class Turn:
    """One message of the conversation and the kind of work it asks for."""

    kind: str
    text: str


# Our own phrasings (not the dev set), each answered by an FAQ response.
FAQ_QUESTIONS = (
    "what is the difference between a virtual machine and a container",
    "how do containers compare with VMs",
    "are containers less isolated than virtual machines",
    "can I run windows inside a container",
    "what exactly is a virtual machine",
    "what is a container",
    "do containers start faster than virtual machines",
    "is it cheaper to run containers or VMs",
    "can I run containers inside a VM",
    "are VMs more secure than containers",
)
FAQ_OPENINGS = ("", "quick question: ", "hi, ", "I was wondering, ", "sorry to bother you, ",
                "one more thing: ", "ok so ", "hey there, ")
FAQ_ENDINGS = ("?", "? thanks", "??", "? just curious", "? asking for my team",
               "? thank you")

# The workload form, answered as visitors do: some buttons, some free text. The order is
# the form's (domain.yml); the last answer completes it and brings the recommendation.
FORM_OPENING = "I'd like a recommendation for my workload"
FORM_ANSWERS = (
    '/inform{"isolation":"medium"}',
    "mostly linux",
    "high density please",
    "within seconds",
    "no, it's stateless",
    '/inform{"legacy":"false"}',
)
FORM_LAST_ANSWER = "our team knows docker well"
EXPERT_REQUEST = "I'd like to talk to an expert"
CONSENT_ANSWER = "yes"
LEAD_FIELDS = ("Jane Doe", "jane.doe@acme-corp.com", "Acme Corp")


def faq_question(n: int) -> str:
    """The n-th FAQ question: distinct texts for the first 480 numbers, then repeats."""
    q, rest = n % len(FAQ_QUESTIONS), n // len(FAQ_QUESTIONS)
    opening = FAQ_OPENINGS[rest % len(FAQ_OPENINGS)]
    ending = FAQ_ENDINGS[(rest // len(FAQ_OPENINGS)) % len(FAQ_ENDINGS)]
    return f"{opening}{FAQ_QUESTIONS[q]}{ending}"


def distinct_faq_questions() -> int:
    """How many different FAQ texts `faq_question` makes before repeating."""
    return len(FAQ_QUESTIONS) * len(FAQ_OPENINGS) * len(FAQ_ENDINGS)


def conversation(n: int) -> tuple[Turn, ...]:
    """The n-th visitor's conversation (its FAQ questions depend on n)."""
    return (
        Turn(GREETING, "hello"),
        Turn(FAQ, faq_question(2 * n)),
        Turn(FAQ, faq_question(2 * n + 1)),
        Turn(FORM_START, FORM_OPENING),
        *(Turn(FORM_ANSWER, text) for text in FORM_ANSWERS),
        Turn(RECOMMENDATION, FORM_LAST_ANSWER),
        Turn(EXPERT, EXPERT_REQUEST),
        Turn(CONSENT, CONSENT_ANSWER),
        *(Turn(LEAD_FIELD, text) for text in LEAD_FIELDS),
    )


def texts(n: int) -> tuple[str, ...]:
    """The messages of the n-th conversation."""
    return tuple(turn.text for turn in conversation(n))


def fresh_faq_questions(start: int) -> Iterator[str]:
    """FAQ questions from number `start` on (unseen by a server that got fewer)."""
    n = start
    while True:
        yield faq_question(n)
        n += 1
