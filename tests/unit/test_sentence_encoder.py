"""The sentence encoder: the packaged weights, their hash check, and the Rasa component."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.encoder import minilm
from bot.rasa.nlu.sentence_featurizer import (
    IDENTITY_FILE,
    EncoderMismatchError,
    SentenceEncoderFeaturizer,
)


@pytest.fixture(scope="module")
def encoder() -> minilm.MiniLMEncoder:
    return minilm.shared_encoder()


def test_embeddings_have_unit_length_and_the_model_width(encoder: minilm.MiniLMEncoder
                                                          ) -> None:
    vectors = encoder.encode(["What is a container?", "is ESXi still free"])
    assert vectors.shape == (2, minilm.DIMENSION)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_sentences(encoder: minilm.MiniLMEncoder
                                                         ) -> None:
    age, age_again, weather = encoder.encode(
        ["How old are you?", "What is your age?", "The weather is lovely today"])
    assert float(age @ age_again) > 0.6
    assert float(age @ weather) < 0.3


@pytest.mark.parametrize("backend", ["onnxruntime", "numpy"])
def test_a_batch_gives_the_same_vectors_as_one_message_at_a_time(
        backend: str, float32_encoder: minilm.MiniLMEncoder,
        float32_reference: minilm.MiniLMEncoder) -> None:
    encoder = float32_encoder if backend == "onnxruntime" else float32_reference
    together = _computed(encoder, BATCH_TEXTS)
    apart = np.vstack([_computed(encoder, [text]) for text in BATCH_TEXTS])
    assert np.allclose(together, apart, atol=1e-5)


BATCH_TEXTS = ["short one", "a somewhat longer question about hypervisors and kernels",
               "short two"]


@pytest.mark.parametrize("backend", ["onnxruntime", "numpy"])
def test_in_8_bits_a_text_is_rounded_on_its_own_whatever_is_packed_beside_it(
        backend: str, encoder: minilm.MiniLMEncoder, reference: minilm.MiniLMEncoder) -> None:
    # Each word piece has its own scale, so a long neighbour with large activations
    # cannot coarsen a short text's rounding. What remains is float noise in the
    # surrounding 32-bit steps, which can flip a rounding now and then.
    encoder = encoder if backend == "onnxruntime" else reference
    long_neighbour = " ".join(["kubernetes clusters hypervisors"] * 20)
    together = _computed(encoder, [*BATCH_TEXTS, long_neighbour])[:3]
    apart = np.vstack([_computed(encoder, [text]) for text in BATCH_TEXTS])
    assert np.all((together * apart).sum(axis=1) > 0.999)


def _computed(encoder: minilm.MiniLMEncoder, texts: list[str]) -> npt.NDArray[np.float32]:
    """The embeddings computed afresh, past the cache."""
    return encoder._encode_ids([encoder.token_ids(text) for text in texts])


def test_texts_that_differ_only_in_case_are_encoded_once(
        encoder: minilm.MiniLMEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    # The answer reader lowercases the clauses of a message the featurizer has encoded.
    computed: list[int] = []
    encode_ids = encoder._encode_ids

    def counting(encodings: list[list[int]]) -> npt.NDArray[np.float32]:
        computed.append(len(encodings))
        return encode_ids(encodings)

    monkeypatch.setattr(encoder, "_encode_ids", counting)
    first = encoder.encode(["Can I run Windows inside a container? (case test)"])
    again = encoder.encode(["can i run windows inside a container? (case test)",
                            "a clause not seen before (case test)"])
    assert computed == [1, 1]
    assert np.array_equal(first[0], again[0])


@pytest.fixture(scope="module")
def reference() -> minilm.MiniLMEncoder:
    return minilm.MiniLMEncoder.from_package(backend="numpy")


@pytest.fixture(scope="module")
def float32_encoder() -> minilm.MiniLMEncoder:
    return minilm.MiniLMEncoder.from_package(int8_linear=False)


@pytest.fixture(scope="module")
def float32_reference() -> minilm.MiniLMEncoder:
    return minilm.MiniLMEncoder.from_package(backend="numpy", int8_linear=False)


REFERENCE_TEXTS = ["hi", "How come docker images are so much smaller than VM images?",
                   "We run a code review SaaS that executes customers' code on Linux hosts."]


def test_the_32_bit_graph_computes_what_the_numpy_reference_computes(
        float32_encoder: minilm.MiniLMEncoder, float32_reference: minilm.MiniLMEncoder
) -> None:
    served = _computed(float32_encoder, REFERENCE_TEXTS)  # packed into one row
    expected = np.vstack([_computed(float32_reference, [text]) for text in REFERENCE_TEXTS])
    assert np.all((served * expected).sum(axis=1) > 0.99999)


def test_the_served_8_bit_graph_computes_what_the_8_bit_reference_computes(
        encoder: minilm.MiniLMEncoder, reference: minilm.MiniLMEncoder) -> None:
    assert encoder.backend == "onnxruntime" and encoder.int8_linear
    assert reference.int8_linear
    served = np.vstack([_computed(encoder, [text]) for text in REFERENCE_TEXTS])
    expected = np.vstack([_computed(reference, [text]) for text in REFERENCE_TEXTS])
    # Equal up to float noise in the 32-bit steps (sums in another order), which flips
    # an input's rounding to 8 bits now and then: cosines from 0.9991 to 1 here. A wrong
    # scale or zero point gives 0.7 or less (seen while writing the graph).
    assert np.all((served * expected).sum(axis=1) > 0.998)
    assert np.max((served * expected).sum(axis=1)) > 0.99999


def test_8_bit_embeddings_stay_close_to_the_32_bit_ones(
        encoder: minilm.MiniLMEncoder, float32_encoder: minilm.MiniLMEncoder) -> None:
    texts = [*REFERENCE_TEXTS, "mostly linux", "our team knows docker well",
             "can I run windows inside a container? thanks"]
    int8 = _computed(encoder, texts)
    float32 = _computed(float32_encoder, texts)
    # 0.989 ("hi") to 0.998 here; 0.993 or more, 0.998 on average, on 100 FAQ questions.
    assert np.all((int8 * float32).sum(axis=1) > 0.985)
    # ...but not equal: the served graph is the 8-bit one.
    assert not np.allclose(int8, float32, atol=1e-4)


def test_weights_are_rounded_per_column_and_back_within_half_a_step() -> None:
    weight = np.array([[0.5, -0.002, 0.0], [-1.0, 0.001, 0.0]], dtype=np.float32)
    quantized, scale = minilm.quantize_columns(weight)
    assert quantized.dtype == np.int8
    assert list(quantized[:, 0]) == [64, -127]  # the largest weight gets the full range
    assert list(quantized[:, 1]) == [-127, 64]  # a column of small weights too
    assert list(quantized[:, 2]) == [0, 0] and scale[2] == 1  # a zero column stays zero
    assert np.all(np.abs(quantized * scale - weight) <= scale / 2 + 1e-9)


def test_packed_texts_keep_their_own_positions_and_segments() -> None:
    encodings = [[101, 7, 102], [101, 8, 9, 10, 102], [101, 102]]
    [(indices, packed)] = minilm.pack(encodings, row_tokens=16)
    assert packed.ids.shape == (1, 10)  # one row, no padding
    for index, row, slot in zip(indices, packed.rows, packed.slots, strict=True):
        own = packed.segments[row] == slot + 1
        assert packed.ids[row, own].tolist() == encodings[index]
        assert packed.positions[row, own].tolist() == list(range(len(encodings[index])))
        assert np.isclose(packed.pooling[row, slot].sum(), 1.0)
        assert np.count_nonzero(packed.pooling[row, slot]) == len(encodings[index])


def test_rows_hold_at_most_their_budget_and_a_longer_text_gets_a_row_of_its_own() -> None:
    encodings = [[1] * 6, [2] * 5, [3] * 4, [4] * 12, [5] * 3]
    passes = minilm.pack(encodings, row_tokens=10, rows_per_pass=2)
    seen = sorted(index for indices, _ in passes for index in indices)
    assert seen == list(range(len(encodings)))
    for _, packed in passes:
        assert packed.ids.shape[0] <= 2
        for row in range(packed.ids.shape[0]):
            used = int(np.count_nonzero(packed.segments[row]))
            texts = {int(s) for s in packed.segments[row] if s}
            assert used <= 10 or texts == {1}  # over budget only when alone
    assert any(packed.ids.shape[1] == 12 for _, packed in passes)


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        minilm.MiniLMEncoder({}, "{}", backend="abacus")


def test_long_messages_are_cut_at_the_models_limit(encoder: minilm.MiniLMEncoder) -> None:
    assert len(encoder.token_ids("container " * 1000)) == minilm.MAX_TOKENS


def test_weights_whose_hash_differs_are_refused(tmp_path: Path) -> None:
    forged = tmp_path / "model.zip"
    with zipfile.ZipFile(forged, "w") as archive:
        archive.writestr(minilm.WEIGHTS_MEMBER, b"not the pinned weights")
        archive.writestr(minilm.TOKENIZER_MEMBER, b"{}")
    with pytest.raises(minilm.ModelIntegrityError, match="SHA-256"):
        minilm.MiniLMEncoder.from_package(forged)


def test_a_missing_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(minilm.ModelIntegrityError, match="cannot read"):
        minilm.MiniLMEncoder.from_package(tmp_path / "absent.zip")


def _featurize(component: SentenceEncoderFeaturizer, text: str) -> npt.NDArray[Any]:
    message = Message.build(text=text)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    component.process([message])
    [features] = [f for f in message.features if f.attribute == "text"]
    assert features.type == "sentence"
    return np.asarray(features.features)


def test_the_component_saves_loads_and_gives_identical_features(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test", "encoder")
    component = SentenceEncoderFeaturizer.create({}, storage, Resource("encoder"), context)
    component.train(TrainingData([Message.build(text="hello", intent="greet")]))
    loaded = SentenceEncoderFeaturizer.load({}, storage, Resource("encoder"), context)
    text = "Would you run MySQL in a container in production?"
    before = _featurize(component, text)
    # Computed afresh, not served from the cache that the first call filled.
    minilm.shared_encoder()._cache.clear()
    assert np.array_equal(before, _featurize(loaded, text))
    assert before.shape == (1, minilm.DIMENSION)


def test_a_model_trained_with_another_encoder_is_refused(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test", "encoder")
    SentenceEncoderFeaturizer.create({}, storage, Resource("encoder"), context).train(
        TrainingData([]))
    with storage.write_to(Resource("encoder")) as directory:
        (directory / IDENTITY_FILE).write_text('{"weights_sha256": "another model"}')
    with pytest.raises(EncoderMismatchError, match="retrain"):
        SentenceEncoderFeaturizer.load({}, storage, Resource("encoder"), context)


def test_empty_messages_get_no_feature(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test", "encoder")
    component = SentenceEncoderFeaturizer.create({}, storage, Resource("encoder"), context)
    message = Message.build(text="   ")
    component.process([message])
    assert message.features == []


def test_rasas_training_cache_is_keyed_by_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    # Otherwise a retrain after an encoder change restores the old identity file from
    # the cache, and the new model refuses to load.
    before = SentenceEncoderFeaturizer.fingerprint_addon({})
    assert before is not None and minilm.WEIGHTS_SHA256 in before
    monkeypatch.setattr(minilm, "WEIGHTS_SHA256", "another encoder")
    assert SentenceEncoderFeaturizer.fingerprint_addon({}) != before


def test_more_threads_compute_the_same_vectors(encoder: minilm.MiniLMEncoder) -> None:
    two_threads = minilm.MiniLMEncoder.from_package(threads=2)
    texts = ["hi", "We run a code review SaaS that executes customers' code on Linux hosts."]
    both = (_computed(two_threads, texts) * _computed(encoder, texts)).sum(axis=1)
    assert np.all(both > 0.9999)
