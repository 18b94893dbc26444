"""Start a message's sentence embeddings first, on the encoder's own thread.

Embedding a new message is the slowest step of the NLU pipeline: the message (the
featurizer's) and its clauses (the answer reader's), which is 2 to 5 ms on this machine
in 8 bits. Nothing but those two components reads the embeddings, so this component,
placed right after the spelling normaliser, hands them to the encoder's thread, and the
tokenizer, the word counts, the entity extractors and the intent classifier run meanwhile
on the other core (onnxruntime lets go of Python's lock while it computes). The
featurizer and the reader then take the results from the encoder (`MiniLMEncoder.encode`
waits for a text being encoded instead of encoding it again).

The message and its clauses go in one pass, packed into rows (`minilm.pack`). A pass of
a few dozen word pieces mostly streams the weights, so two passes cost nearly twice one:
in-process, one pass made a new FAQ text's parse about 2 ms faster at p50 than the
message's pass followed by the clauses' (2026-12-02, bench/README.md).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.encoder import minilm
from bot.rasa.nlu.answer_fields import AnswerReader, shared_reader
from bot.rasa.nlu.sentence_featurizer import with_text
from bot.settings import load_settings


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncodingStarter(GraphComponent):  # type: ignore[misc]
    """Starts each message's embeddings; adds nothing to the message itself."""

    def __init__(self, encoder: minilm.MiniLMEncoder, reader: AnswerReader | None,
                 pin_cpu: bool = False) -> None:
        self._encoder = encoder
        self._reader = reader
        # Pinned on the first message, from the thread that runs the pipeline (the
        # server's event loop), not at load: `rasa train` loads this component too, and
        # training should keep both CPUs.
        self._pin_cpu = pin_cpu

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEncodingStarter:
        # Training needs no reader: it only calls process_training_data.
        return cls(minilm.shared_encoder(), None)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SentenceEncodingStarter:
        settings = load_settings()
        return cls(minilm.shared_encoder(), shared_reader(),
                   pin_cpu=bool(settings.encoder_pin_cpu) and settings.encoder_threads == 1)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._pin_cpu:
            self._pin_cpu = False
            self._encoder.pin_to_own_cpu()
        texts = [messages[i].get(TEXT) for i in with_text(messages)]
        clauses = ([clause for text in texts for clause in self._reader.texts_to_encode(text)]
                   if self._reader is not None else [])
        self._encoder.start_encoding([*texts, *clauses])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training encodes every example in batches, in the featurizer; nothing to start.
        return training_data
