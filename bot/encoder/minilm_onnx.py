"""The MiniLM forward pass as an ONNX graph, built in memory from the verified weights.

onnxruntime runs the same arithmetic as the numpy reference in `minilm.py` (cosine
similarity of the embeddings above 0.99999) two to three times faster on a short
message: its kernels fuse what numpy runs as separate passes over memory. The graph is
written here from the weights that `minilm.py` loaded and hash-checked, so nothing else
is downloaded or stored: the model archive stays small and the weights have one source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from bot.encoder.minilm import MiniLMEncoder, Packed

OPSET = 17  # LayerNormalization is a standard operator from opset 17


# Arrays larger than this are handed to onnxruntime as they are (external initializers)
# instead of being copied into the graph: the session reads the encoder's own arrays.
EXTERNAL_MIN_ELEMENTS = 4096


DISABLED_FUSIONS = ["DynamicQuantizeMatMulFusion", "MatMulIntegerToFloatFusion"]


class _GraphBuilder:
    """Collects nodes and weights; each helper returns the name of its output."""

    def __init__(self, int8_linear: bool) -> None:
        self.int8_linear = int8_linear
        self.named: set[str] = set()
        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self.external: dict[str, npt.NDArray[Any]] = {}

    def const(self, name: str, value: Any) -> str:
        from onnx import TensorProto, helper, numpy_helper

        array = np.asarray(value)
        if name in self.named:
            return name  # a shared constant, already in the graph
        self.named.add(name)
        if array.size < EXTERNAL_MIN_ELEMENTS:
            self.weights.append(numpy_helper.from_array(array, name))
            return name
        if array.dtype != np.int8:
            array = array.astype(np.float32, copy=False)
        # A placeholder that names the data; the data itself is given to the session.
        tensor = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(array.dtype),
                             data_location=TensorProto.EXTERNAL)
        tensor.dims.extend(array.shape)
        location = tensor.external_data.add()
        location.key, location.value = "location", "in-memory"
        self.weights.append(tensor)
        self.external[name] = np.ascontiguousarray(array)
        return name

    def op(self, op_type: str, inputs: Sequence[str], output: str | None = None,
           **attributes: Any) -> str:
        from onnx import helper

        name = output or f"{op_type.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [name], **attributes))
        return name

    def linear(self, x: str, weight: npt.NDArray[Any], bias: npt.NDArray[Any], tag: str) -> str:
        if self.int8_linear:
            return self.int8_linear_layer(x, weight, bias, tag)
        return self.op("Add", [self.op("MatMul", [x, self.const(f"{tag}.w", weight)]),
                               self.const(f"{tag}.b", bias)])

    def int8_linear_layer(self, x: str, weight: npt.NDArray[Any], bias: npt.NDArray[Any],
                          tag: str) -> str:
        """`minilm.Int8Linear`'s arithmetic: int8 weights per column, int8 inputs per row.

        onnxruntime multiplies uint8 by int8, so a row's rounded inputs (-127..127) are
        shifted by 128 and given 128 as their zero point.
        """
        from onnx import TensorProto

        from bot.encoder import minilm

        quantized, column_scale = minilm.quantize_columns(weight)
        largest = self.op("ReduceMax", [self.op("Abs", [x])], axes=[-1], keepdims=1)
        row_scale = self.op("Div", [
            self.op("Max", [largest, self.const("tiny", np.array(1e-12, np.float32))]),
            self.const("int8_max", np.array(minilm.INT8_MAX, np.float32))])
        shifted = self.op("Cast", [self.op("Add", [
            self.op("Round", [self.op("Div", [x, row_scale])]),
            self.const("shift", np.array(128, np.float32))])], to=TensorProto.UINT8)
        products = self.op("MatMulInteger", [shifted, self.const(f"{tag}.w8", quantized),
                                             self.const("zero_point", np.array(128, np.uint8))])
        # Column scale first, then the row's: onnxruntime fuses MatMulInteger, Cast and the
        # first Mul into one kernel that takes a per-column scale only (a per-row scale
        # there gives wrong results).
        by_column = self.op("Mul", [self.op("Cast", [products], to=TensorProto.FLOAT),
                                    self.const(f"{tag}.scale", column_scale)])
        return self.op("Add", [self.op("Mul", [by_column, row_scale]),
                               self.const(f"{tag}.b", bias)])

    def layer_norm(self, x: str, norm: tuple[npt.NDArray[Any], npt.NDArray[Any]], tag: str,
                   epsilon: float) -> str:
        return self.op("LayerNormalization", [x, self.const(f"{tag}.g", norm[0]),
                                              self.const(f"{tag}.b", norm[1])],
                       axis=-1, epsilon=epsilon)


def build_graph(encoder: MiniLMEncoder) -> tuple[Any, dict[str, npt.NDArray[Any]]]:
    """The ONNX model (a ModelProto: a `minilm.Packed`'s arrays in, embeddings out) and
    the arrays of its large weights, which the model names but does not contain.

    Its linear layers are in 8 or 32 bits, as `encoder.int8_linear` says."""
    from onnx import TensorProto, helper

    from bot.encoder import minilm

    heads, width = minilm.HEADS, minilm.DIMENSION
    head_width = width // heads
    g = _GraphBuilder(encoder.int8_linear)
    int64 = np.int64
    x = g.op("Gather", [g.const("word_embeddings", encoder.word_embeddings), "input_ids"])
    x = g.op("Add", [x, g.op("Gather", [g.const("position_embeddings",
                                                 encoder.position_embeddings), "position_ids"])])
    x = g.layer_norm(x, encoder.embedding_norm, "embeddings.norm", minilm.LAYER_NORM_EPS)
    # A word piece attends only to its own text's (packed texts share a row): the other
    # keys get a large negative score, as in the numpy reference.
    own_text = g.op("Equal", [
        g.op("Unsqueeze", ["segment_ids", g.const("axis2", np.array([2], int64))]),
        g.op("Unsqueeze", ["segment_ids", g.const("axis1", np.array([1], int64))])])
    key_bias = g.op("Unsqueeze", [
        g.op("Where", [own_text, g.const("zero", np.array(0.0, np.float32)),
                       g.const("minus", np.array(-1e9, np.float32))]),
        g.const("heads_axis", np.array([1], int64))])
    scale = g.const("scale", np.array(1 / np.sqrt(head_width), np.float32))
    for i, layer in enumerate(encoder.layers):
        tag = f"layer{i}"
        qkv = g.linear(x, layer.qkv_weight, layer.qkv_bias, f"{tag}.qkv")
        qkv = g.op("Transpose", [g.op("Reshape", [qkv, g.const(f"{tag}.split", np.array(
            [0, 0, 3, heads, head_width], int64))])], perm=[2, 0, 3, 1, 4])
        query, key, value = (g.op("Gather", [qkv, g.const(f"{tag}.{n}", np.array(j, int64))],
                                  axis=0) for j, n in enumerate(("q", "k", "v")))
        scores = g.op("MatMul", [g.op("Mul", [query, scale]),
                                 g.op("Transpose", [key], perm=[0, 1, 3, 2])])
        weights = g.op("Softmax", [g.op("Add", [scores, key_bias])], axis=-1)
        context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [weights, value])],
                                        perm=[0, 2, 1, 3]),
                                   g.const(f"{tag}.merge", np.array([0, 0, width], int64))])
        attended = g.linear(context, layer.attention_out_weight, layer.attention_out_bias,
                            f"{tag}.attention_out")
        x = g.layer_norm(g.op("Add", [x, attended]), layer.attention_norm, f"{tag}.norm1",
                         minilm.LAYER_NORM_EPS)
        hidden = g.linear(x, layer.intermediate_weight, layer.intermediate_bias, f"{tag}.up")
        hidden = g.op("Gelu", [hidden], domain="com.microsoft")  # the exact (erf) GELU
        out = g.linear(hidden, layer.output_weight, layer.output_bias, f"{tag}.down")
        x = g.layer_norm(g.op("Add", [x, out]), layer.output_norm, f"{tag}.norm2",
                         minilm.LAYER_NORM_EPS)
    # Each text's mean over its own word pieces: (batch, texts per row, width).
    pooled = g.op("MatMul", ["pooling", x])
    norm = g.op("Max", [g.op("ReduceL2", [pooled], axes=[2], keepdims=1),
                        g.const("tiny", np.array(1e-12, np.float32))])
    g.op("Div", [pooled, norm], output="embeddings")
    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "length"])
         for name in ("input_ids", "position_ids", "segment_ids")]
        + [helper.make_tensor_value_info("pooling", TensorProto.FLOAT,
                                         ["batch", "texts", "length"])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT,
                                       ["batch", "texts", width])],
        initializer=g.weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("com.microsoft", 1)])
    return model, g.external


class OnnxForward:
    """Runs the graph; called like the numpy forward pass."""

    def __init__(self, encoder: MiniLMEncoder, threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread by default (ENCODER_THREADS): a message's matrices are small, and
        # the server's concurrent turns and the action server use the other core.
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        # The large weights stay the encoder's numpy arrays: the graph only names them, and
        # the session reads them in place, so the weights are in memory once, not three
        # times (arrays, graph, session), and the server's peak stays near its steady size.
        model, self._weights = build_graph(encoder)
        options.add_external_initializers(
            list(self._weights),
            [onnxruntime.OrtValue.ortvalue_from_numpy(array) for array in self._weights.values()])
        self._session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"],
            # This fusion would turn a layer's 8-bit rounding into DynamicQuantizeMatMul,
            # which rounds the whole pass with one scale: a text's embedding would then
            # depend on the texts packed beside it.
            disabled_optimizers=DISABLED_FUSIONS)

    def __call__(self, packed: Packed) -> npt.NDArray[np.float32]:
        [embeddings] = self._session.run(None, {
            "input_ids": packed.ids, "position_ids": packed.positions,
            "segment_ids": packed.segments, "pooling": packed.pooling})
        result: npt.NDArray[np.float32] = np.asarray(embeddings, dtype=np.float32)
        return result
