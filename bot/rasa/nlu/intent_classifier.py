"""Rasa's logistic-regression intent classifier, fitted the same way and served faster.

`LogisticRegressionClassifier` (Rasa 3.6) spends most of each parse stacking sparse
matrices: every featurizer's sentence row is combined, wrapped with an empty dense block,
stacked again, and handed to scikit-learn's input checks. The model itself is a small
dot product. This component fits the same class-balanced multinomial logistic
regression on the same counts, keeps the weights as one plain array per featurizer
(saved with numpy, no pickle), and scores a message by indexing the weight columns of its
non-zero features: the same probabilities in a fraction of the time
(`tests/unit/test_intent_classifier.py` checks both).
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa.nlu import answer_selector

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.npz"
META_FILE = "meta.json"
TITLES_FILE = "titles.json"


@dataclass(frozen=True)
class SparseRow:
    """One message's sentence features from one featurizer: column indices and counts."""

    columns: npt.NDArray[np.int64]
    counts: npt.NDArray[np.float64]
    width: int  # the featurizer's vocabulary size


@dataclass(frozen=True)
class MessageFeatures:
    """One message's sentence features: sparse counts and dense vectors, by featurizer."""

    sparse: dict[str, SparseRow]
    dense: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def with_unit_counts(self) -> MessageFeatures:
        """Each featurizer's counts scaled to unit length, so that a long message's many
        words do not drown the embedding, which has unit length whatever the message."""
        return MessageFeatures(
            {origin: SparseRow(row.columns, row.counts / max(float(np.linalg.norm(row.counts)),
                                                             1e-12), row.width)
             for origin, row in self.sparse.items()}, self.dense)


@dataclass
class LinearModel:
    """What serving needs: one weight block per featurizer, and the biases.

    Dense features (a sentence embedding) are multiplied by `dense_scale` before they
    meet their weights, in fitting and in scoring alike: unit-length embeddings are tiny
    next to word counts, and the scale decides how much the shared regularisation lets
    them speak.
    """

    classes: list[str]
    origins: list[str]  # sparse featurizer names, in block order
    # One (n_features, n_classes) matrix per featurizer: a message's few counted features
    # are a few contiguous rows. Laid out the other way, every feature's weights were
    # scattered over 100 rows of a 20 MB block, and gathering them cost 2 ms a message
    # (0.2 ms this way), longer while the encoder shares the memory bus.
    weights: list[npt.NDArray[np.float64]]
    intercept: npt.NDArray[np.float64]  # (n_classes,)
    dense_origins: list[str] = field(default_factory=list)
    dense_weights: list[npt.NDArray[np.float64]] = field(default_factory=list)
    dense_scale: float = 1.0
    unit_counts: bool = False

    def probabilities(self, features: MessageFeatures) -> npt.NDArray[np.float64]:
        """Class probabilities for one message, the same as the fitted model's."""
        if self.unit_counts:
            features = features.with_unit_counts()
        scores = self.intercept.copy()
        for origin, weights in zip(self.origins, self.weights, strict=True):
            row = features.sparse.get(origin)
            if row is not None and len(row.columns):
                scores += row.counts @ weights[row.columns]
        for origin, weights in zip(self.dense_origins, self.dense_weights, strict=True):
            vector = features.dense.get(origin)
            if vector is not None:
                scores += weights @ (vector * self.dense_scale)
        return softmax(scores)

    def save(self, directory: Path) -> None:
        arrays = {f"feature_weights_{i}": block for i, block in enumerate(self.weights)}
        arrays.update({f"dense_weights_{i}": block for i, block in enumerate(self.dense_weights)})
        np.savez(directory / WEIGHTS_FILE, intercept=self.intercept, **arrays)
        (directory / META_FILE).write_text(json.dumps({
            "classes": self.classes, "origins": self.origins,
            "dense_origins": self.dense_origins, "dense_scale": self.dense_scale,
            "unit_counts": self.unit_counts}))

    @classmethod
    def load(cls, directory: Path) -> LinearModel:
        meta = json.loads((directory / META_FILE).read_text())
        dense_origins = list(meta.get("dense_origins", []))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            return cls(classes=list(meta["classes"]), origins=list(meta["origins"]),
                       weights=[_feature_rows(arrays, i) for i in range(len(meta["origins"]))],
                       intercept=arrays["intercept"], dense_origins=dense_origins,
                       dense_weights=[arrays[f"dense_weights_{i}"]
                                      for i in range(len(dense_origins))],
                       dense_scale=float(meta.get("dense_scale", 1.0)),
                       unit_counts=bool(meta.get("unit_counts", False)))


def _feature_rows(arrays: Any, index: int) -> npt.NDArray[np.float64]:
    """A featurizer's weights, one row per feature; models trained before 2026-12-01
    stored them one row per class."""
    if f"feature_weights_{index}" in arrays:
        rows: npt.NDArray[np.float64] = arrays[f"feature_weights_{index}"]
        return rows
    return np.ascontiguousarray(arrays[f"weights_{index}"].T)


def softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    exp = np.exp(scores - scores.max())
    normalized: npt.NDArray[np.float64] = exp / exp.sum()
    return normalized


def sentence_features(message: Message) -> MessageFeatures:
    """The message's sentence features of its text, one entry per featurizer.

    Entries are keyed by the featurizer's name; a name that comes twice (two featurizers
    sharing one, as outside a trained pipeline) gets its position appended.
    """
    rows: dict[str, SparseRow] = {}
    dense: dict[str, npt.NDArray[np.float64]] = {}
    for features in message.features:
        if features.attribute != TEXT or features.type != FEATURE_TYPE_SENTENCE:
            continue
        key = str(features.origin)
        if key in rows or key in dense:
            key = f"{key}#{len(rows) + len(dense)}"
        if not features.is_sparse():
            dense[key] = np.asarray(features.features, dtype=np.float64).reshape(-1)
            continue
        matrix = features.features.tocoo()
        matrix.sum_duplicates()
        rows[key] = SparseRow(matrix.col.astype(np.int64), matrix.data.astype(np.float64),
                              int(matrix.shape[1]))
    return MessageFeatures(rows, dense)


def feature_matrix(messages: list[MessageFeatures], origins: list[str], dims: dict[str, int],
                   dense_origins: list[str], dense_scale: float) -> Any:
    """The messages' features side by side: sparse blocks in `origins` order, then dense."""
    from scipy.sparse import csr_matrix, hstack

    offsets = dict(zip(origins, np.cumsum([0] + [dims[o] for o in origins])[:-1], strict=True))
    data, indices, indptr = [], [], [0]
    for message in messages:
        row_data = [message.sparse[o].counts for o in origins if o in message.sparse]
        row_columns = [message.sparse[o].columns + offsets[o] for o in origins
                       if o in message.sparse]
        data.extend(row_data)
        indices.extend(row_columns)
        indptr.append(indptr[-1] + sum(len(d) for d in row_data))
    sparse = csr_matrix((np.concatenate(data) if data else np.zeros(0),
                         np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                         indptr), shape=(len(messages), sum(dims[o] for o in origins)))
    if not dense_origins:
        return sparse
    blocks = [sparse]
    for origin in dense_origins:
        width = dims[origin]
        blocks.append(csr_matrix(np.vstack([
            message.dense.get(origin, np.zeros(width)) * dense_scale for message in messages])))
    return hstack(blocks, format="csr")


def fit(messages: list[MessageFeatures], labels: list[str], config: dict[str, Any]
        ) -> LinearModel:
    """Fit a class-balanced multinomial logistic regression, as Rasa's classifier does."""
    from sklearn.linear_model import LogisticRegression

    dims = {origin: row.width for message in messages
            for origin, row in message.sparse.items()}
    dense_dims = {origin: len(vector) for message in messages
                  for origin, vector in message.dense.items()}
    origins, dense_origins = sorted(dims), sorted(dense_dims)
    dense_scale = float(config.get("dense_scale", 1.0))
    unit_counts = bool(config.get("unit_counts", False))
    if unit_counts:
        messages = [message.with_unit_counts() for message in messages]
    classifier = LogisticRegression(
        C=float(config["C"]), solver=str(config["solver"]), max_iter=int(config["max_iter"]),
        tol=float(config["tol"]), class_weight="balanced", random_state=42)
    classifier.fit(feature_matrix(messages, origins, {**dims, **dense_dims}, dense_origins,
                                  dense_scale), labels)
    coef, intercept = np.asarray(classifier.coef_), np.asarray(classifier.intercept_)
    if coef.shape[0] == 1:  # two classes: one logit; as a softmax over two, split it
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-1, 1]) * intercept / 2
    bounds = np.cumsum([0] + [dims[origin] for origin in origins]
                       + [dense_dims[origin] for origin in dense_origins])
    blocks = [coef[:, start:end] for start, end in itertools.pairwise(bounds)]
    return LinearModel(classes=[str(label) for label in classifier.classes_], origins=origins,
                       weights=[np.ascontiguousarray(block.T) for block in blocks[:len(origins)]],
                       intercept=intercept, dense_origins=dense_origins,
                       dense_weights=[np.ascontiguousarray(b) for b in blocks[len(origins):]],
                       dense_scale=dense_scale, unit_counts=unit_counts)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(IntentClassifier, GraphComponent):  # type: ignore[misc]
    """Logistic regression on the featurizers' sentence features, scored without scipy.

    With `answers: true` it learns the specific answers of retrieval intents
    (`ask_cost/esxi_free`) as classes of their own, beside the plain intents. A topic's
    probability is then the sum of its answers', and the chosen answer goes out as Rasa's
    `response_selector` output (bot/rasa/nlu/answer_selector.py), which Rasa's retrieval
    actions read. One model does both jobs: a topic is what its answers have in common,
    and the answers' own examples sharpen the topic's boundary.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Rasa's LogisticRegressionClassifier defaults (scikit-learn's C=1).
        return {"C": 1.0, "solver": "lbfgs", "max_iter": 100, "tol": 1e-4,
                "ranking_length": LABEL_RANKING_LENGTH, "dense_scale": 1.0,
                "unit_counts": False, "answers": False,
                **answer_selector.DEFAULT_CONFIG}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage,
                 resource: Resource, model: LinearModel | None = None,
                 titles: dict[str, str] | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.titles = titles or {}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FastLogisticRegressionClassifier:
        return cls(config, model_storage, resource)

    def _label(self, example: Message) -> str:
        if self.config["answers"] and example.get(INTENT_RESPONSE_KEY):
            return str(example.get(INTENT_RESPONSE_KEY))
        return str(example.get(INTENT))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("No intent examples: %s is not trained.", type(self).__name__)
            return self._resource
        self.model = fit([sentence_features(e) for e in examples],
                         [self._label(e) for e in examples], self.config)
        self.titles = answer_selector.titles_from_responses(training_data.responses)
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
            (directory / TITLES_FILE).write_text(json.dumps(self.titles))
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any
             ) -> FastLogisticRegressionClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                titles_file = directory / TITLES_FILE
                titles = json.loads(titles_file.read_text()) if titles_file.exists() else {}
                return cls(config, model_storage, resource, LinearModel.load(directory), titles)
        except ValueError:  # the resource does not exist: trained without intents
            logger.debug("No trained %s found; it will predict nothing.", cls.__name__)
            return cls(config, model_storage, resource)

    def process(self, messages: list[Message]) -> list[Message]:
        return self._classify(messages, select_answers=bool(self.config["answers"]))

    def _classify(self, messages: list[Message], select_answers: bool) -> list[Message]:
        if self.model is None:
            return messages
        for message in messages:
            probabilities = self.model.probabilities(sentence_features(message))
            intents, intent_probabilities = answer_selector.topic_probabilities(
                self.model.classes, probabilities)
            order = np.argsort(-intent_probabilities)
            ranking = [{"name": intents[i], "confidence": float(intent_probabilities[i])}
                       for i in order]
            if self.config["ranking_length"] > 0:
                ranking = ranking[: self.config["ranking_length"]]
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            if select_answers:
                answer_selector.select_answer(message, self.model.classes, probabilities,
                                              self.titles, self.config)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # As Rasa's classifier does, but without answers: the entity that flags a
        # specific question must not reach the entity extractors' training data.
        self._classify(training_data.training_examples, select_answers=False)
        return training_data
