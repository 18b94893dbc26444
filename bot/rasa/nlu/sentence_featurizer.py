"""A Rasa dense featurizer that adds a sentence embedding from all-MiniLM-L6-v2.

Word counts tell the classifiers which words a message shares with the training data;
the embedding tells them what it means, so that a long forum-style question or a
paraphrase with none of the training words still lands on the right topic.

Training records which encoder the model was trained with (the SHA-256 of its weights
and tokenizer). Loading checks that the installed encoder is that same one and refuses
to start otherwise: a classifier trained on one encoder's embeddings gives nonsense on
another's.

The embedding is the slowest step of a new message, so it starts first
(`encoding_starter.py`), and this featurizer, placed after the entity extractors, takes
the result.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.encoder import minilm

logger = logging.getLogger(__name__)

IDENTITY_FILE = "encoder.json"


def encoder_identity() -> dict[str, str]:
    """What a trained model needs to know about the encoder it was trained with."""
    return {"package": minilm.MODEL_PACKAGE, "weights_sha256": minilm.WEIGHTS_SHA256,
            "tokenizer_sha256": minilm.TOKENIZER_SHA256, "linear_layers": minilm.INT8_LINEAR}


def with_text(messages: list[Message]) -> list[int]:
    """The indices of the messages that get an embedding: those with some text."""
    return [i for i, message in enumerate(messages)
            if isinstance(message.get(TEXT), str) and message.get(TEXT).strip()]


class EncoderMismatchError(RuntimeError):
    """The model was trained with another sentence encoder than the installed one."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):  # type: ignore[misc]
    """Adds one dense sentence feature (384 floats, unit length) to each message's text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        # The weights' package is not listed: Rasa imports these names to check them,
        # and that package prints a banner on import. Its files are hash-checked instead.
        return ["tokenizers", "safetensors"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate: the encoder has no settings."""

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage,
                 resource: Resource, encoder: minilm.MiniLMEncoder) -> None:
        super().__init__(name, {**self.get_default_config(), **config})
        self._model_storage = model_storage
        self._resource = resource
        self._encoder = encoder

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name, model_storage, resource,
                   minilm.shared_encoder())

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # Rasa's training cache keys a component by its config and inputs only: without
        # this, another encoder would restore the old identity file, which load refuses.
        return json.dumps(encoder_identity(), sort_keys=True)

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / IDENTITY_FILE).write_text(json.dumps(encoder_identity()))
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SentenceEncoderFeaturizer:
        with model_storage.read_from(resource) as directory:
            trained_with = json.loads((directory / IDENTITY_FILE).read_text())
        if trained_with != encoder_identity():
            raise EncoderMismatchError(
                f"this model was trained with the sentence encoder {trained_with}, but "
                f"{encoder_identity()} is installed: retrain the model (`make train`)")
        # The installed files are hashed again as they load (minilm.from_package).
        return cls(config, execution_context.node_name, model_storage, resource,
                   minilm.shared_encoder())

    def process(self, messages: list[Message]) -> list[Message]:
        wanted = with_text(messages)
        if not wanted:
            return messages
        embeddings = self._encoder.encode([messages[i].get(TEXT) for i in wanted])
        for row, index in enumerate(wanted):
            # Only a sentence feature: word pieces do not line up with Rasa's tokens, and
            # nothing in this pipeline reads per-token dense features.
            messages[index].add_features(Features(
                embeddings[row : row + 1].astype(np.float64), FEATURE_TYPE_SENTENCE, TEXT,
                self._identifier))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

