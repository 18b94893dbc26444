"""Embeddings started early on the encoder's thread (bot/rasa/nlu/encoding_starter.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.encoder import minilm
from bot.rasa.nlu.answer_fields import AnswerReader, shared_reader
from bot.rasa.nlu.encoding_starter import SentenceEncodingStarter
from bot.rasa.nlu.sentence_featurizer import SentenceEncoderFeaturizer

Batch = list[list[int]]


@pytest.fixture()
def encoder() -> minilm.MiniLMEncoder:
    return minilm.shared_encoder()


@pytest.fixture()
def passes(encoder: minilm.MiniLMEncoder, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[list[tuple[str, Batch]]]:
    """Every encoder pass from now on: the thread it ran on and the texts' word pieces."""
    recorded: list[tuple[str, Batch]] = []
    encode_ids = encoder._encode_ids

    def recording(encodings: Batch) -> npt.NDArray[np.float32]:
        recorded.append((threading.current_thread().name, encodings))
        return encode_ids(encodings)

    monkeypatch.setattr(encoder, "_encode_ids", recording)
    yield recorded


@pytest.fixture()
def featurizer_of(tmp_path: Path) -> Callable[[], SentenceEncoderFeaturizer]:
    def make() -> SentenceEncoderFeaturizer:
        storage = LocalModelStorage(tmp_path)
        context = ExecutionContext(GraphSchema({}), "test", "encoder")
        return SentenceEncoderFeaturizer.create({}, storage, Resource("encoder"), context)

    return make


def _fresh(encoder: minilm.MiniLMEncoder, text: str) -> npt.NDArray[np.float32]:
    """The text's embedding computed afresh, past the cache and the recording."""
    vectors: npt.NDArray[np.float32] = minilm.MiniLMEncoder._encode_ids(
        encoder, [encoder.token_ids(text)])
    vector: npt.NDArray[np.float32] = vectors[0]
    return vector


def test_a_started_text_is_encoded_once_on_the_encoders_thread(
        encoder: minilm.MiniLMEncoder, passes: list[tuple[str, Batch]]) -> None:
    text = "Can we run Windows containers on Linux hosts? (started once)"
    encoder.start_encoding([text])
    # The featurizer's text and the answer reader's lowercased clause are one entry.
    vectors = encoder.encode([text, text.lower()])
    assert [thread.startswith("sentence-encoder") for thread, _ in passes] == [True]
    assert passes[0][1] == [encoder.token_ids(text)]
    assert np.array_equal(vectors[0], _fresh(encoder, text))
    assert np.array_equal(vectors[1], vectors[0])


def test_encode_waits_for_a_text_being_encoded_instead_of_encoding_it_again(
        encoder: minilm.MiniLMEncoder, monkeypatch: pytest.MonkeyPatch,
        passes: list[tuple[str, Batch]]) -> None:
    released = threading.Event()
    recording = encoder._encode_ids

    def held(encodings: Batch) -> npt.NDArray[np.float32]:
        assert released.wait(10), "the test never released the encoder"
        return recording(encodings)

    monkeypatch.setattr(encoder, "_encode_ids", held)
    text = "is ESXi still free for a home lab (held in flight)"
    encoder.start_encoding([text])
    assert tuple(encoder.token_ids(text)) in encoder._in_flight
    threading.Timer(0.05, released.set).start()
    vector = encoder.encode([text])[0]
    assert len(passes) == 1 and passes[0][0].startswith("sentence-encoder")
    assert np.array_equal(vector, _fresh(encoder, text))
    assert tuple(encoder.token_ids(text)) not in encoder._in_flight


def test_a_failed_encoding_is_computed_again_on_the_callers_thread(
        encoder: minilm.MiniLMEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    encode_ids = encoder._encode_ids

    def failing_once(encodings: Batch) -> npt.NDArray[np.float32]:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            raise RuntimeError("onnxruntime failed")
        return encode_ids(encodings)

    monkeypatch.setattr(encoder, "_encode_ids", failing_once)
    text = "how many VMs fit on one host (fails once)"
    encoder.start_encoding([text])
    vector = encoder.encode([text])[0]
    assert calls[0].startswith("sentence-encoder")
    assert calls[1:] == [threading.current_thread().name]
    assert np.array_equal(vector, _fresh(encoder, text))
    assert not encoder._in_flight


def test_a_cached_text_is_not_started_again(encoder: minilm.MiniLMEncoder,
                                            passes: list[tuple[str, Batch]]) -> None:
    text = "what does a hypervisor do (cached before)"
    encoder.encode([text])
    encoder.start_encoding([text.upper()])
    assert len(passes) == 1 and not encoder._in_flight


def test_the_reader_encodes_what_it_says_it_will(encoder: minilm.MiniLMEncoder) -> None:
    encoded: list[str] = []

    def recording(texts: list[str]) -> npt.NDArray[np.float32]:
        encoded.extend(texts)
        return encoder.encode(texts)

    reader = shared_reader()
    spy = AnswerReader.__new__(AnswerReader)
    spy.__dict__.update(reader.__dict__, _encode=recording)
    for text in ("We have VMs or containers? Mostly Windows, but no databases",
                 "windows only", "hi, what is a container? thanks"):
        encoded.clear()
        spy.read(text)
        assert encoded == reader.texts_to_encode(text)


def _message(text: str) -> Message:
    message = Message.build(text=text)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    return message


def _sentence_features(featurizer: SentenceEncoderFeaturizer, message: Message
                       ) -> npt.NDArray[np.float64]:
    featurizer.process([message])
    [features] = [f for f in message.features if f.attribute == "text"]
    return np.asarray(features.features)


def test_the_starter_encodes_the_message_and_its_clauses_in_one_pass(
        encoder: minilm.MiniLMEncoder, passes: list[tuple[str, Batch]],
        featurizer_of: Callable[[], SentenceEncoderFeaturizer]) -> None:
    reader = shared_reader()
    featurizer = featurizer_of()
    passes.clear()  # the descriptions' embeddings, when the reader was built just now
    text = "We mostly run Windows, but some Linux too. No databases at all (starter)"
    message = _message(text)
    SentenceEncodingStarter(encoder, reader).process([message])
    features = _sentence_features(featurizer, message)
    reader.read(text)
    # One pass: a second would stream the weights again for a few word pieces.
    [(thread, batch)] = passes
    assert thread.startswith("sentence-encoder")
    # The message first; the whole message lowercased is the same entry (uncased word
    # pieces), so the pass holds it once, then the clauses.
    clause_ids = [tuple(encoder.token_ids(t)) for t in reader.texts_to_encode(text)]
    assert batch[0] == encoder.token_ids(text)
    assert [tuple(ids) for ids in batch[1:]] == [
        ids for ids in dict.fromkeys(clause_ids) if ids != tuple(batch[0])]
    # Packed beside its clauses, the message's sums run in another order: the same
    # embedding up to float32 rounding.
    np.testing.assert_allclose(features[0], _fresh(encoder, text), rtol=0, atol=1e-6)


def test_messages_without_text_start_nothing(encoder: minilm.MiniLMEncoder,
                                             passes: list[tuple[str, Batch]]) -> None:
    SentenceEncodingStarter(encoder, shared_reader()).process([Message.build(text="  ")])
    assert passes == [] and not encoder._in_flight


def test_the_loaded_starter_pins_the_encoder_once_on_its_first_message(
        encoder: minilm.MiniLMEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    pins: list[str] = []

    def pin() -> bool:
        pins.append(threading.current_thread().name)
        return True

    monkeypatch.setattr(encoder, "pin_to_own_cpu", pin)
    starter = SentenceEncodingStarter(encoder, None, pin_cpu=True)
    assert pins == []  # not at load: `rasa train` loads it too
    starter.process([Message.build(text="first message (pin test)")])
    starter.process([Message.build(text="second message (pin test)")])
    assert pins == [threading.current_thread().name]
    SentenceEncodingStarter(encoder, None).process([Message.build(text="unpinned (pin test)")])
    assert len(pins) == 1


PIN_SCRIPT = """
import json, os, threading
from bot.encoder import minilm
encoder = minilm.shared_encoder()
allowed = sorted(os.sched_getaffinity(0))
pinned = encoder.pin_to_own_cpu()
worker = encoder._executor().submit(lambda: sorted(os.sched_getaffinity(0))).result()
vector = encoder.encode(["still encodes after pinning"])
print(json.dumps({"allowed": allowed, "pinned": pinned, "caller": sorted(os.sched_getaffinity(0)),
                  "worker": worker, "norm": float((vector ** 2).sum())}))
"""


def test_pinning_gives_the_encoder_a_cpu_of_its_own_and_the_caller_the_others() -> None:
    # In a process of its own: pinning this test's thread would pin every later test.
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", PIN_SCRIPT], cwd=root, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    result = json.loads(out.strip().splitlines()[-1])
    allowed = result["allowed"]
    assert abs(result["norm"] - 1.0) < 1e-4
    if len(allowed) < 2:
        assert result["pinned"] is False and result["caller"] == allowed
        return
    assert result["pinned"] is True
    assert result["worker"] == [allowed[-1]]
    assert result["caller"] == allowed[:-1]
