"""A BERT checkpoint (``config.json`` + ``model.safetensors``) -> the ONNX graph of its encoder,
built with numpy and ``onnx.helper``: no torch, no transformers.

The graph is what :class:`desktop_search.models.runtime.text.TextModel` runs: inputs
``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64, batch x sequence), output
``last_hidden_state`` (float32, batch x sequence x hidden). Pooling and normalisation stay in the
runtime, as for a graph exported by torch. The layers follow Hugging Face's ``BertModel`` in eval
mode (dropout off, eager attention): embeddings (word + token type + absolute position) and their
LayerNorm, then per layer self-attention with the additive mask ``(1 - mask) * float32 min``, the
output projection, residual and LayerNorm, the feed-forward block with exact (erf) GELU, residual
and LayerNorm. Node names follow the torch exporter's (``/encoder/layer.0/intermediate/dense/
MatMul``), so quantisation variants that keep layers fp32 by name apply to both.

Only what sentence models of this shape need is supported (``model_type`` bert, absolute
positions, GELU); anything else is refused with a ModelImportError rather than built wrongly.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from desktop_search.errors import ModelImportError
from desktop_search.models.install.files import read_source_json
from desktop_search.models.install.safetensors_numpy import SafetensorsFile

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
ONNX_OPSET = 17  # LayerNormalization is a standard op from 17 on
ONNX_IR_VERSION = 8  # readable by every onnxruntime the project supports (>= 1.18)
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
_ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh")
# Where checkpoints of task models (BertForMaskedLM, ...) keep the encoder's weights.
_PREFIXES = ("", "bert.", "model.")


@dataclass(frozen=True)
class BertConfig:
    """The shape of a BERT encoder, from its ``config.json``."""

    hidden_size: int
    layers: int
    heads: int
    intermediate_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    activation: str

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.heads

    @classmethod
    def from_dict(cls, config: Mapping[str, Any], origin: str) -> BertConfig:
        """Validated: a config this builder cannot reproduce exactly is a ModelImportError."""
        model_type = config.get("model_type")
        if model_type != "bert":
            raise ModelImportError(
                f"{origin}: model_type {model_type!r} is not BERT; this model needs a conversion "
                "with torch",
                hint="pip install 'desktop-search[convert]' and import it again",
            )
        position_type = config.get("position_embedding_type", "absolute")
        activation = config.get("hidden_act", "gelu")
        if position_type != "absolute" or activation not in _ACTIVATIONS:
            raise ModelImportError(
                f"{origin}: position embeddings {position_type!r} with activation "
                f"{activation!r} are not supported without torch (absolute positions and GELU are)",
                hint="pip install 'desktop-search[convert]' and import it again",
            )
        try:
            shape = cls(
                hidden_size=int(config["hidden_size"]),
                layers=int(config["num_hidden_layers"]),
                heads=int(config["num_attention_heads"]),
                intermediate_size=int(config["intermediate_size"]),
                max_positions=int(config.get("max_position_embeddings", 512)),
                type_vocab_size=int(config.get("type_vocab_size", 2)),
                layer_norm_eps=float(config.get("layer_norm_eps", 1e-12)),
                activation=str(activation),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelImportError(f"{origin} is not a BERT config ({exc!r} missing or wrong)"
                                   ) from exc  # fmt: skip
        if min(shape.hidden_size, shape.layers, shape.heads, shape.intermediate_size) < 1 or (
            shape.hidden_size % shape.heads
        ):
            raise ModelImportError(f"{origin}: hidden_size must be a multiple of the head count")
        return shape


def read_bert_config(source_dir: Path) -> BertConfig:
    path = Path(source_dir) / CONFIG_FILE
    return BertConfig.from_dict(read_source_json(path), str(path))


def can_build(source_dir: Path) -> bool:
    """Whether ``source_dir`` holds a checkpoint this module builds exactly: a BERT config it
    supports and safetensors weights (other checkpoints go to the torch converter)."""
    if not (Path(source_dir) / WEIGHTS_FILE).is_file():
        return False
    try:
        read_bert_config(source_dir)
    except ModelImportError as exc:
        log.debug("%s: %s", source_dir, exc)
        return False
    return True


class _Weights:
    """The checkpoint's tensors under their BertModel names, checked for the expected shape."""

    def __init__(self, path: Path) -> None:
        self.file = SafetensorsFile(path)
        self.prefix = next(
            (p for p in _PREFIXES if f"{p}embeddings.word_embeddings.weight" in self.file), None
        )
        if self.prefix is None:
            raise ModelImportError(f"{path} holds no BERT embeddings "
                                   "(embeddings.word_embeddings.weight)")  # fmt: skip

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        array = self.file.array(self.prefix + name, np.float32)
        if array.shape != shape:
            raise ModelImportError(f"{self.file.path}: {name} has shape {array.shape}, the "
                                   f"config says {shape}")  # fmt: skip
        return array

    def vocab_size(self) -> int:
        return self.file.entries[self.prefix + "embeddings.word_embeddings.weight"].shape[0]


def _path(scope: str) -> str:
    """A weight scope as the torch exporter names its nodes: "encoder.layer.0.attention.self"
    -> "/encoder/layer.0/attention/self"."""
    return re.sub(r"layer/(\d+)", r"layer.\1", "/" + scope.replace(".", "/"))


class _GraphBuilder:
    """Nodes and initializers of one graph, named like the torch exporter names them."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, name: str, inputs: list[str], **attributes: Any) -> str:
        output = f"{name}_output_0"
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attributes))
        return output

    def linear(self, scope: str, x: str, weight: np.ndarray, bias: np.ndarray) -> str:
        """x @ weight.T + bias (torch's Linear keeps weights as out x in)."""
        w = self.constant(f"{scope}.weight_T", np.ascontiguousarray(weight.T))
        b = self.constant(f"{scope}.bias", bias)
        product = self.node("MatMul", f"{_path(scope)}/MatMul", [x, w])
        return self.node("Add", f"{_path(scope)}/Add", [product, b])

    def layer_norm(self, scope: str, x: str, weights: _Weights, size: int, eps: float) -> str:
        gamma = self.constant(f"{scope}.weight", weights.get(f"{scope}.weight", (size,)))
        beta = self.constant(f"{scope}.bias", weights.get(f"{scope}.bias", (size,)))
        return self.node("LayerNormalization", f"{_path(scope)}/LayerNormalization",
                         [x, gamma, beta], axis=-1, epsilon=eps)  # fmt: skip


def _gelu(g: _GraphBuilder, scope: str, x: str, activation: str) -> str:
    """GELU as transformers computes it: exact (erf) for "gelu", the tanh form otherwise."""
    half = g.constant(f"{scope}.half", np.array(0.5, np.float32))
    one = g.constant(f"{scope}.one", np.array(1.0, np.float32))
    if activation == "gelu":
        root2 = g.constant(f"{scope}.sqrt2", np.array(math.sqrt(2.0), np.float32))
        inner = g.node("Erf", f"{scope}/Erf", [g.node("Div", f"{scope}/Div", [x, root2])])
    else:
        cube = g.node("Mul", f"{scope}/Cube", [x, g.node("Mul", f"{scope}/Square", [x, x])])
        c = g.constant(f"{scope}.c", np.array(0.044715, np.float32))
        k = g.constant(f"{scope}.k", np.array(math.sqrt(2.0 / math.pi), np.float32))
        poly = g.node("Add", f"{scope}/Poly", [x, g.node("Mul", f"{scope}/CubeScaled", [cube, c])])
        inner = g.node("Tanh", f"{scope}/Tanh", [g.node("Mul", f"{scope}/Scaled", [poly, k])])
    gate = g.node("Add", f"{scope}/Add", [inner, one])
    return g.node("Mul", f"{scope}/Mul_1", [g.node("Mul", f"{scope}/Mul", [x, half]), gate])


def _attention(g: _GraphBuilder, i: int, x: str, bias: str, w: _Weights, c: BertConfig) -> str:
    scope = f"encoder.layer.{i}.attention"
    h = c.hidden_size
    split = g.constant(f"{scope}.split_heads", np.array([0, 0, c.heads, c.head_size], np.int64))
    merge = g.constant(f"{scope}.merge_heads", np.array([0, 0, h], np.int64))
    heads = {}
    for part in ("query", "key", "value"):
        weight = w.get(f"{scope}.self.{part}.weight", (h, h))
        projected = g.linear(f"{scope}.self.{part}", x, weight,
                             w.get(f"{scope}.self.{part}.bias", (h,)))  # fmt: skip
        shaped = g.node("Reshape", f"{_path(scope)}/self/{part}/Reshape",
                        [projected, split])  # fmt: skip
        # batch, head, sequence, size; keys as batch, head, size, sequence for Q @ K^T
        perm = [0, 2, 3, 1] if part == "key" else [0, 2, 1, 3]
        heads[part] = g.node("Transpose", f"{_path(scope)}/self/{part}/Transpose",
                             [shaped], perm=perm)  # fmt: skip
    base = f"{_path(scope)}/self"
    scores = g.node("MatMul", f"{base}/MatMul", [heads["query"], heads["key"]])
    root = g.constant(f"{scope}.scale", np.array(math.sqrt(c.head_size), np.float32))
    masked = g.node("Add", f"{base}/Add", [g.node("Div", f"{base}/Div", [scores, root]), bias])
    probabilities = g.node("Softmax", f"{base}/Softmax", [masked], axis=-1)
    context = g.node("MatMul", f"{base}/MatMul_1", [probabilities, heads["value"]])
    context = g.node("Transpose", f"{base}/Transpose", [context], perm=[0, 2, 1, 3])
    context = g.node("Reshape", f"{base}/Reshape", [context, merge])
    out = g.linear(f"{scope}.output.dense", context,
                   w.get(f"{scope}.output.dense.weight", (h, h)),
                   w.get(f"{scope}.output.dense.bias", (h,)))  # fmt: skip
    residual = g.node("Add", f"{_path(scope)}/output/Add", [out, x])
    return g.layer_norm(f"{scope}.output.LayerNorm", residual, w, h, c.layer_norm_eps)


def _feed_forward(g: _GraphBuilder, i: int, x: str, w: _Weights, c: BertConfig) -> str:
    scope = f"encoder.layer.{i}"
    h, inner = c.hidden_size, c.intermediate_size
    up = g.linear(f"{scope}.intermediate.dense", x,
                  w.get(f"{scope}.intermediate.dense.weight", (inner, h)),
                  w.get(f"{scope}.intermediate.dense.bias", (inner,)))  # fmt: skip
    activated = _gelu(g, f"{_path(scope)}/intermediate/intermediate_act_fn", up, c.activation)
    down = g.linear(f"{scope}.output.dense", activated,
                    w.get(f"{scope}.output.dense.weight", (h, inner)),
                    w.get(f"{scope}.output.dense.bias", (h,)))  # fmt: skip
    residual = g.node("Add", f"{_path(scope)}/output/Add", [down, x])
    return g.layer_norm(f"{scope}.output.LayerNorm", residual, w, h, c.layer_norm_eps)


def build_bert_graph(source_dir: Path) -> onnx.ModelProto:
    """The encoder of the BERT checkpoint in ``source_dir`` as an ONNX model (fp32)."""
    source_dir = Path(source_dir)
    config = read_bert_config(source_dir)
    weights_path = source_dir / WEIGHTS_FILE
    if not weights_path.is_file():
        raise ModelImportError(
            f"{source_dir} has no {WEIGHTS_FILE}",
            hint="only safetensors weights are imported (pickled .bin files can run code)",
        )
    w = _Weights(weights_path)
    try:
        return _build(w, config)
    finally:
        w.file.close()


def _build(w: _Weights, c: BertConfig) -> onnx.ModelProto:
    g = _GraphBuilder()
    h = c.hidden_size
    words = g.constant("embeddings.word_embeddings.weight",
                       w.get("embeddings.word_embeddings.weight", (w.vocab_size(), h)))  # fmt: skip
    positions = g.constant("embeddings.position_embeddings.weight",
                           w.get("embeddings.position_embeddings.weight", (c.max_positions, h)))
    types = g.constant("embeddings.token_type_embeddings.weight",
                       w.get("embeddings.token_type_embeddings.weight", (c.type_vocab_size, h)))
    word_vectors = g.node("Gather", "/embeddings/word_embeddings/Gather", [words, "input_ids"])
    type_vectors = g.node("Gather", "/embeddings/token_type_embeddings/Gather",
                          [types, "token_type_ids"])  # fmt: skip
    # Positions 0 .. sequence-1, as BertModel uses when given no position_ids.
    shape = g.node("Shape", "/embeddings/Shape", ["input_ids"])
    index_one = g.constant("embeddings.sequence_axis", np.array(1, np.int64))
    length = g.node("Gather", "/embeddings/Gather", [shape, index_one], axis=0)
    start = g.constant("embeddings.position_start", np.array(0, np.int64))
    step = g.constant("embeddings.position_step", np.array(1, np.int64))
    position_ids = g.node("Range", "/embeddings/Range", [start, length, step])
    position_vectors = g.node("Gather", "/embeddings/position_embeddings/Gather",
                              [positions, position_ids])  # fmt: skip
    summed = g.node("Add", "/embeddings/Add", [word_vectors, type_vectors])
    summed = g.node("Add", "/embeddings/Add_1", [summed, position_vectors])
    x = g.layer_norm("embeddings.LayerNorm", summed, w, h, c.layer_norm_eps)

    # The additive mask: 0 where attended, float32's most negative value where padded, shaped
    # batch x 1 x 1 x sequence to broadcast over heads and query positions.
    mask = g.node("Cast", "/Cast", ["attention_mask"], to=TensorProto.FLOAT)
    axes = g.constant("mask.axes", np.array([1, 2], np.int64))
    mask = g.node("Unsqueeze", "/Unsqueeze", [mask, axes])
    one = g.constant("mask.one", np.array(1.0, np.float32))
    lowest = g.constant("mask.lowest", np.array(np.finfo(np.float32).min, np.float32))
    bias = g.node("Mul", "/Mul", [g.node("Sub", "/Sub", [one, mask]), lowest])

    for i in range(c.layers):
        x = _attention(g, i, x, bias, w, c)
        x = _feed_forward(g, i, x, w, c)
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name="/output/Identity"))

    dims = ["batch", "sequence"]
    graph = helper.make_graph(
        g.nodes,
        "bert_encoder",
        [helper.make_tensor_value_info(n, TensorProto.INT64, dims) for n in INPUT_NAMES],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [*dims, h])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
                              producer_name="desktop-search bert_graph")  # fmt: skip
    model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(model)
    return model


def write_bert_onnx(source_dir: Path, out_path: Path) -> BertConfig:
    """Build the encoder of ``source_dir``'s checkpoint and save it at ``out_path``; its shape."""
    config = read_bert_config(source_dir)
    model = build_bert_graph(source_dir)
    onnx.save(model, str(out_path))
    log.info("built the %d-layer BERT encoder of %s (no torch)", config.layers, source_dir)
    return config
