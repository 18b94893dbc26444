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
from dataclasses import dataclass
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
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.npz"
META_FILE = "meta.json"


@dataclass(frozen=True)
class SparseRow:
    """One message's sentence features from one featurizer: column indices and counts."""

    columns: npt.NDArray[np.int64]
    counts: npt.NDArray[np.float64]
    width: int  # the featurizer's vocabulary size


@dataclass
class LinearModel:
    """What serving needs: one weight block per featurizer, and the biases."""

    classes: list[str]
    origins: list[str]  # featurizer names, in block order
    weights: list[npt.NDArray[np.float64]]  # one (n_classes, n_features) matrix per featurizer
    intercept: npt.NDArray[np.float64]  # (n_classes,)

    def probabilities(self, rows: dict[str, SparseRow]) -> npt.NDArray[np.float64]:
        """Class probabilities for one message, the same as the fitted model's."""
        scores = self.intercept.copy()
        for origin, weights in zip(self.origins, self.weights, strict=True):
            row = rows.get(origin)
            if row is not None and len(row.columns):
                scores += weights[:, row.columns] @ row.counts
        return softmax(scores)

    def save(self, directory: Path) -> None:
        arrays = {f"weights_{i}": block for i, block in enumerate(self.weights)}
        np.savez(directory / WEIGHTS_FILE, intercept=self.intercept, **arrays)
        (directory / META_FILE).write_text(json.dumps({"classes": self.classes,
                                                       "origins": self.origins}))

    @classmethod
    def load(cls, directory: Path) -> LinearModel:
        meta = json.loads((directory / META_FILE).read_text())
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            return cls(classes=list(meta["classes"]), origins=list(meta["origins"]),
                       weights=[arrays[f"weights_{i}"] for i in range(len(meta["origins"]))],
                       intercept=arrays["intercept"])


def softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    exp = np.exp(scores - scores.max())
    normalized: npt.NDArray[np.float64] = exp / exp.sum()
    return normalized


def sentence_rows(message: Message) -> dict[str, SparseRow]:
    """The message's sparse sentence features of its text, one row per featurizer.

    Rows are keyed by the featurizer's name; a name that comes twice (two featurizers
    sharing one, as outside a trained pipeline) gets its position appended.
    """
    rows: dict[str, SparseRow] = {}
    for features in message.features:
        if (features.attribute != TEXT or features.type != FEATURE_TYPE_SENTENCE
                or not features.is_sparse()):
            continue
        matrix = features.features.tocoo()
        matrix.sum_duplicates()
        key = str(features.origin)
        if key in rows:
            key = f"{key}#{len(rows)}"
        rows[key] = SparseRow(matrix.col.astype(np.int64), matrix.data.astype(np.float64),
                              int(matrix.shape[1]))
    return rows


def feature_matrix(rows: list[dict[str, SparseRow]], origins: list[str],
                   dims: dict[str, int]) -> Any:
    """The messages' counts side by side, featurizer blocks in `origins` order."""
    from scipy.sparse import csr_matrix

    offsets = dict(zip(origins, np.cumsum([0] + [dims[o] for o in origins[:-1]]), strict=True))
    data, indices, indptr = [], [], [0]
    for message_rows in rows:
        row_data = [message_rows[o].counts for o in origins if o in message_rows]
        row_columns = [message_rows[o].columns + offsets[o] for o in origins
                       if o in message_rows]
        data.extend(row_data)
        indices.extend(row_columns)
        indptr.append(indptr[-1] + sum(len(d) for d in row_data))
    return csr_matrix((np.concatenate(data) if data else np.zeros(0),
                       np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                       indptr), shape=(len(rows), sum(dims.values())))


def fit(rows: list[dict[str, SparseRow]], labels: list[str], dims: dict[str, int],
        config: dict[str, Any]) -> LinearModel:
    """Fit a class-balanced multinomial logistic regression, as Rasa's classifier does."""
    from sklearn.linear_model import LogisticRegression

    origins = sorted(dims)
    classifier = LogisticRegression(
        C=float(config["C"]), solver=str(config["solver"]), max_iter=int(config["max_iter"]),
        tol=float(config["tol"]), class_weight="balanced", random_state=42)
    classifier.fit(feature_matrix(rows, origins, dims), labels)
    coef, intercept = np.asarray(classifier.coef_), np.asarray(classifier.intercept_)
    if coef.shape[0] == 1:  # two classes: one logit; as a softmax over two, split it
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-1, 1]) * intercept / 2
    bounds = np.cumsum([0] + [dims[origin] for origin in origins])
    return LinearModel(classes=[str(label) for label in classifier.classes_], origins=origins,
                       weights=[np.ascontiguousarray(coef[:, start:end])
                                for start, end in itertools.pairwise(bounds)],
                       intercept=intercept)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(IntentClassifier, GraphComponent):  # type: ignore[misc]
    """Logistic regression on the featurizers' sentence counts, scored without scipy."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Rasa's LogisticRegressionClassifier defaults (scikit-learn's C=1).
        return {"C": 1.0, "solver": "lbfgs", "max_iter": 100, "tol": 1e-4,
                "ranking_length": LABEL_RANKING_LENGTH}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage,
                 resource: Resource, model: LinearModel | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FastLogisticRegressionClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("No intent examples: %s is not trained.", type(self).__name__)
            return self._resource
        rows = [sentence_rows(example) for example in examples]
        dims = {origin: row.width for message_rows in rows
                for origin, row in message_rows.items()}
        self.model = fit(rows, [str(e.get(INTENT)) for e in examples], dims, self.config)
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any
             ) -> FastLogisticRegressionClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                return cls(config, model_storage, resource, LinearModel.load(directory))
        except ValueError:  # the resource does not exist: trained without intents
            logger.debug("No trained %s found; it will predict nothing.", cls.__name__)
            return cls(config, model_storage, resource)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        for message in messages:
            probabilities = self.model.probabilities(sentence_rows(message))
            order = np.argsort(-probabilities)
            ranking = [{"name": self.model.classes[i], "confidence": float(probabilities[i])}
                       for i in order]
            if self.config["ranking_length"] > 0:
                ranking = ranking[: self.config["ranking_length"]]
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
