"""The specific answer to a question: `ask_cost/esxi_free` rather than "costs".

FAQ topics are Rasa retrieval intents: each topic's examples are grouped by answer
(`- intent: ask_cost/esxi_free`), and each answer is a response named after its key
(`utter_ask_cost/esxi_free`, in `data/responses/`). The intent classifier
(`FastLogisticRegressionClassifier` with `answers: true`) learns every answer as a class;
these functions turn its probabilities into what Rasa expects:
- the topic's probability is the sum of its answers' (`topic_probabilities`);
- Rasa's `response_selector` output names the chosen answer within the predicted topic,
  so Rasa's own retrieval action (`utter_ask_cost`) utters it with no custom action, and
  ranks every answer under `default`, with button titles, for the two-stage fallback.

Rasa's `ResponseSelector` does this with a TensorFlow model; a logistic regression keeps
serving free of TensorFlow.

Some retrieval intents have a default path that is not an answer: a request for a
recommendation usually starts the workload questionnaire, and only a general question
("would you put Postgres in Docker?") should get a specific answer. For those intents
(`entity_unless_default`), a confident specific answer is flagged with the entity
`specific_question`, which the rules use to choose the answer over the default path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from rasa.shared.nlu.constants import ENTITIES, INTENT, RESPONSE_SELECTOR, TEXT
from rasa.shared.nlu.training_data.message import Message

SPECIFIC_QUESTION_ENTITY = "specific_question"
# How many answers the "default" (all topics) ranking carries, for the fallback buttons.
GLOBAL_RANKING_LENGTH = 10
DEFAULT_CONFIG: Mapping[str, Any] = {
    # intent -> the answer key that means "take the default path"
    "entity_unless_default": {},
    # below this share of its topic, a specific answer is not flagged
    "specific_threshold": 0.5,
}


def topic_of(label: str) -> str:
    """`ask_cost/esxi_free` -> `ask_cost`; a plain intent is its own topic."""
    return label.split("/", 1)[0]


def response_name(answer_key: str) -> str:
    """The response that holds an answer: `utter_ask_cost/esxi_free`."""
    return f"utter_{answer_key}"


def titles_from_responses(responses: Mapping[str, Sequence[Mapping[str, Any]]]
                          ) -> dict[str, str]:
    """Each answer's button title, from its response's `metadata.title`."""
    titles: dict[str, str] = {}
    for name, variations in responses.items():
        if not name.startswith("utter_") or "/" not in name:
            continue
        for variation in variations:
            title = (variation.get("metadata") or {}).get("title")
            if isinstance(title, str) and title.strip():
                titles[name.removeprefix("utter_")] = title.strip()
                break
    return titles


def topic_probabilities(labels: Sequence[str], probabilities: npt.NDArray[np.float64]
                        ) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Sum answer probabilities into their topics; plain intents pass through."""
    topics = sorted({topic_of(label) for label in labels})
    index = {topic: i for i, topic in enumerate(topics)}
    summed = np.zeros(len(topics))
    np.add.at(summed, [index[topic_of(label)] for label in labels], probabilities)
    return topics, summed


def _entry(key: str, confidence: float, titles: Mapping[str, str]) -> dict[str, Any]:
    return {"intent_response_key": key, "confidence": confidence,
            "title": titles.get(key, key)}


def _response(entry: Mapping[str, Any]) -> dict[str, Any]:
    # Rasa's retrieval action reads `utter_action`; the responses themselves are in the
    # domain, so none are copied here.
    key = entry["intent_response_key"]
    return {"responses": [], "confidence": entry["confidence"], "intent_response_key": key,
            "utter_action": response_name(key), "template_name": response_name(key)}


def select_answer(message: Message, labels: Sequence[str],
                  probabilities: npt.NDArray[np.float64], titles: Mapping[str, str],
                  config: Mapping[str, Any]) -> None:
    """Set Rasa's `response_selector` output (and the specific-question flag)."""
    answers = np.array([i for i, label in enumerate(labels) if "/" in label])
    if not len(answers):
        return
    order = answers[np.argsort(-probabilities[answers])][:GLOBAL_RANKING_LENGTH]
    ranking = [_entry(labels[i], float(probabilities[i]), titles) for i in order]
    by_topic: dict[str, list[int]] = {}
    for i in answers:
        by_topic.setdefault(topic_of(labels[i]), []).append(int(i))
    selection: dict[str, Any] = {
        "all_retrieval_intents": sorted(by_topic),
        "default": {"response": _response(ranking[0]), "ranking": ranking},
    }
    intent = (message.get(INTENT) or {}).get("name")
    if intent in by_topic:
        members = np.array(by_topic[intent])
        shares = probabilities[members] / max(float(probabilities[members].sum()), 1e-12)
        within = [_entry(labels[members[i]], float(shares[i]), titles)
                  for i in np.argsort(-shares)]
        selection[intent] = {"response": _response(within[0]), "ranking": within}
        _flag_specific(message, intent, within[0], config)
    message.set(RESPONSE_SELECTOR, selection, add_to_output=True)


def _flag_specific(message: Message, intent: str, chosen: Mapping[str, Any],
                   config: Mapping[str, Any]) -> None:
    default_key = (config.get("entity_unless_default") or {}).get(intent)
    key = chosen["intent_response_key"]
    if (default_key is None or key == default_key
            or chosen["confidence"] < float(config["specific_threshold"])):
        return
    entities = list(message.get(ENTITIES) or [])
    entities.append({"entity": SPECIFIC_QUESTION_ENTITY, "value": key,
                     "extractor": "FastLogisticRegressionClassifier", "start": 0,
                     "end": len(message.get(TEXT) or ""),
                     "confidence_entity": chosen["confidence"]})
    message.set(ENTITIES, entities, add_to_output=True)
