"""`FastLogisticRegressionClassifier` predicts what Rasa's logistic regression predicts.

Both are trained here on the same small data and real Rasa featurizers (word and
character counts, as in config.yml), then compared message by message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa.nlu.intent_classifier import WEIGHTS_FILE, FastLogisticRegressionClassifier

EXAMPLES = {
    "ask_cost": ["how much does a vm cost", "what is the price of containers",
                 "is windows licensing expensive", "pricing for kubernetes nodes",
                 "are containers cheaper than vms"],
    "ask_isolation_security": ["are containers secure", "can a container escape to the host",
                               "is a vm better isolated", "untrusted code in docker safe?",
                               "kernel exploits and containers"],
    "greet": ["hello", "hi there", "good morning", "hey", "hello bot"],
}
UNSEEN = ["is it cheaper to run docker", "can root in a container hurt the host", "hiya",
          "blorp fizzwick", "what does a secure and cheap vm cost"]
# Same solver and a tight tolerance on both sides, so that both reach the same optimum.
CONFIG = {"solver": "lbfgs", "max_iter": 5000, "tol": 1e-10}


class Pipeline:
    """Tokenizer and two count featurizers, trained once, applied to any message."""

    def __init__(self, storage: LocalModelStorage, context: ExecutionContext,
                 data: TrainingData, node_names: bool = True) -> None:
        self.tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        self.featurizers = [
            CountVectorsFeaturizer.create({**CountVectorsFeaturizer.get_default_config(),
                                           **config}, storage, Resource(name),
                                          ExecutionContext(context.graph_schema, "test", name)
                                          if node_names else context)
            for name, config in (("words", {"max_ngram": 2}),
                                 ("chars", {"analyzer": "char_wb", "min_ngram": 3,
                                            "max_ngram": 6}))]
        self.tokenizer.process_training_data(data)
        for featurizer in self.featurizers:
            featurizer.train(data)
            featurizer.process_training_data(data)

    def features_of(self, text: str) -> Message:
        message = Message.build(text=text)
        self.tokenizer.process([message])
        for featurizer in self.featurizers:
            featurizer.process([message])
        return message


@pytest.fixture
def trained(tmp_path: Path) -> dict[str, Any]:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    data = TrainingData([Message.build(text=text, intent=intent)
                         for intent, texts in EXAMPLES.items() for text in texts])
    pipeline = Pipeline(storage, context, data)
    rasa = LogisticRegressionClassifier.create(
        {**LogisticRegressionClassifier.get_default_config(), **CONFIG}, storage,
        Resource("rasa_lr"), context)
    rasa.train(data)
    ours = FastLogisticRegressionClassifier.create(CONFIG, storage, Resource("fast_lr"),
                                                   context)
    ours.train(data)
    return {"storage": storage, "context": context, "pipeline": pipeline, "rasa": rasa,
            "ours": ours}


def ranking(classifier: Any, message: Message) -> dict[str, float]:
    classifier.process([message])
    return {entry["name"]: entry["confidence"] for entry in message.get("intent_ranking")}


@pytest.mark.parametrize("text", UNSEEN)
def test_same_probabilities_as_rasa_logistic_regression(trained: dict[str, Any],
                                                         text: str) -> None:
    expected = ranking(trained["rasa"], trained["pipeline"].features_of(text))
    actual = ranking(trained["ours"], trained["pipeline"].features_of(text))
    assert actual.keys() == expected.keys()
    for intent, confidence in expected.items():
        assert actual[intent] == pytest.approx(confidence, abs=1e-4), intent


def test_the_top_intent_and_a_sorted_ranking(trained: dict[str, Any]) -> None:
    message = trained["pipeline"].features_of("are vms more expensive")
    trained["ours"].process([message])
    confidences = [entry["confidence"] for entry in message.get("intent_ranking")]
    assert message.get("intent")["name"] == "ask_cost"
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)


def test_a_saved_model_loads_and_predicts_the_same(trained: dict[str, Any]) -> None:
    loaded = FastLogisticRegressionClassifier.load(CONFIG, trained["storage"],
                                                   Resource("fast_lr"), trained["context"])
    for text in UNSEEN:
        before = ranking(trained["ours"], trained["pipeline"].features_of(text))
        after = ranking(loaded, trained["pipeline"].features_of(text))
        assert after == before


def test_a_model_saved_with_weights_one_row_per_class_still_loads(
        trained: dict[str, Any]) -> None:
    """Models trained before 2026-12-01 stored each featurizer's weights transposed."""
    with trained["storage"].write_to(Resource("fast_lr")) as directory:
        path = directory / WEIGHTS_FILE
        with np.load(path) as arrays:
            stored = dict(arrays)
        legacy = {(name.replace("feature_weights_", "weights_")
                   if name.startswith("feature_weights_") else name):
                  (array.T if name.startswith("feature_weights_") else array)
                  for name, array in stored.items()}
        assert any(name.startswith("weights_") for name in legacy)
        np.savez(path, **legacy)
    loaded = FastLogisticRegressionClassifier.load(CONFIG, trained["storage"],
                                                   Resource("fast_lr"), trained["context"])
    for text in UNSEEN:
        before = ranking(trained["ours"], trained["pipeline"].features_of(text))
        assert ranking(loaded, trained["pipeline"].features_of(text)) == pytest.approx(before)


def test_featurizers_that_share_a_name_keep_their_own_weights(tmp_path: Path) -> None:
    """Outside a trained pipeline two featurizers can carry the same origin."""
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")  # no node names: origin None
    data = TrainingData([Message.build(text=text, intent=intent)
                         for intent, texts in EXAMPLES.items() for text in texts])
    pipeline = Pipeline(storage, context, data, node_names=False)
    ours = FastLogisticRegressionClassifier.create(CONFIG, storage, Resource("fast"), context)
    ours.train(data)
    assert ours.model is not None and len(ours.model.origins) == 2
    assert ranking(ours, pipeline.features_of("hello there"))["greet"] > 0.5


def test_weights_are_saved_without_pickle(trained: dict[str, Any]) -> None:
    with (trained["storage"].read_from(Resource("fast_lr")) as directory,
          np.load(directory / "weights.npz", allow_pickle=False) as arrays):
        assert all(arrays[name].dtype != object for name in arrays.files)


ANSWER_EXAMPLES = {
    "ask_cost/esxi_free": ["is esxi still free", "can I get the free esxi hypervisor",
                           "free vmware esxi gone?", "esxi free licence"],
    "ask_cost/docker_desktop": ["is docker desktop free for companies",
                                "docker desktop licence cost", "do we pay for docker desktop",
                                "docker desktop subscription"],
    "ask_use_case_recommendation/databases": ["postgres in docker in production?",
                                              "should a database run in a container",
                                              "mysql in kubernetes good idea",
                                              "databases in containers"],
    "ask_use_case_recommendation/my_workload": ["we run 40 services, what should we use",
                                                "our app is on windows, vms or containers",
                                                "recommend something for our saas",
                                                "what fits our platform"],
    "greet": ["hello", "hi there", "good morning", "hey"],
}
ANSWERS_CONFIG = {**CONFIG, "answers": True, "unit_counts": True,
                  "entity_unless_default": {
                      "ask_use_case_recommendation": "ask_use_case_recommendation/my_workload"}}


@pytest.fixture
def with_answers(tmp_path: Path) -> dict[str, Any]:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    labelled = [(Message.build(text=text, intent=label.partition("/")[0]), label)
                for label, texts in ANSWER_EXAMPLES.items() for text in texts]
    responses = {"utter_ask_cost/esxi_free": [{"text": "...", "metadata": {"title": "ESXi"}}]}
    data = TrainingData([message for message, _ in labelled], responses=responses)
    pipeline = Pipeline(storage, context, data)
    # The answer key is set as Rasa's reader sets it for `- intent: ask_cost/esxi_free`.
    for message, label in labelled:
        if "/" in label:
            message.set("intent_response_key", label)
    ours = FastLogisticRegressionClassifier.create(ANSWERS_CONFIG, storage, Resource("lr"),
                                                   context)
    ours.train(data)
    return {"storage": storage, "context": context, "pipeline": pipeline, "ours": ours}


def test_a_topics_confidence_is_the_sum_of_its_answers(with_answers: dict[str, Any]) -> None:
    message = with_answers["pipeline"].features_of("is the free esxi still available")
    with_answers["ours"].process([message])
    selector = message.get("response_selector")
    within = selector["ask_cost"]
    assert message.get("intent")["name"] == "ask_cost"
    assert within["response"]["intent_response_key"] == "ask_cost/esxi_free"
    assert within["response"]["utter_action"] == "utter_ask_cost/esxi_free"
    everything = {e["intent_response_key"]: e["confidence"]
                  for e in selector["default"]["ranking"]}
    topic = everything["ask_cost/esxi_free"] + everything["ask_cost/docker_desktop"]
    assert message.get("intent")["confidence"] == pytest.approx(topic)
    assert selector["default"]["ranking"][0]["title"] == "ESXi"


def test_a_general_workload_question_is_flagged_and_a_description_is_not(
        with_answers: dict[str, Any]) -> None:
    question = with_answers["pipeline"].features_of("is running postgres in docker a good idea")
    description = with_answers["pipeline"].features_of("we run 40 services on windows")
    with_answers["ours"].process([question, description])
    assert [e["value"] for e in question.get("entities")] == [
        "ask_use_case_recommendation/databases"]
    assert not description.get("entities")


def test_training_examples_get_intents_but_no_flag(with_answers: dict[str, Any]) -> None:
    message = with_answers["pipeline"].features_of("mysql in a container in prod")
    data = TrainingData([message])
    with_answers["ours"].process_training_data(data)
    assert message.get("intent")["name"] == "ask_use_case_recommendation"
    assert not message.get("entities") and not message.get("response_selector")


def test_answers_and_titles_survive_a_reload(with_answers: dict[str, Any]) -> None:
    loaded = FastLogisticRegressionClassifier.load(ANSWERS_CONFIG, with_answers["storage"],
                                                   Resource("lr"), with_answers["context"])
    before = with_answers["pipeline"].features_of("docker desktop pricing for a big company")
    after = with_answers["pipeline"].features_of("docker desktop pricing for a big company")
    with_answers["ours"].process([before])
    loaded.process([after])
    assert before.get("response_selector") == after.get("response_selector")
    assert loaded.titles == {"ask_cost/esxi_free": "ESXi"}
