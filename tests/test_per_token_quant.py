"""int8 MatMuls quantised per token (models/install/per_token.py), on small real graphs run by
onnxruntime: close to fp32, every row independent of the others (onnxruntime's dynamic int8 is
not: one scale for the whole tensor), only the MatMuls asked for rewritten."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from desktop_search.models.install.per_token import quantize_per_token

IN, HIDDEN, OUT = 32, 64, 16
UP = "/encoder/layer.0/intermediate/dense/MatMul"
DOWN = "/encoder/layer.0/output/dense/MatMul"


def two_matmuls(path: Path, opset: int = 17) -> Path:
    """x [batch, tokens, IN] -> MatMul (UP) -> MatMul (DOWN) -> y, seeded weights."""
    rng = np.random.default_rng(7)
    up = numpy_helper.from_array(rng.normal(0, 0.2, (IN, HIDDEN)).astype(np.float32), "up.w")
    down = numpy_helper.from_array(rng.normal(0, 0.2, (HIDDEN, OUT)).astype(np.float32), "down.w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "up.w"], ["h"], name=UP),
         helper.make_node("MatMul", ["h", "down.w"], ["y"], name=DOWN)],
        "two", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", IN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", OUT])], [up, down],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def tokens(rows: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (1, rows, IN)).astype(np.float32)


@pytest.mark.parametrize("opset", [13, 17, 18])  # ReduceMax takes its axes as an input from 18
def test_the_named_matmul_becomes_int8_per_token_and_stays_close_to_fp32(tmp_path, opset):
    fp32 = two_matmuls(tmp_path / "fp32.onnx", opset)
    int8 = tmp_path / "int8.onnx"
    assert quantize_per_token(fp32, int8, ["intermediate/dense"]) == 1
    graph = onnx.load(str(int8)).graph
    ops = [node.op_type for node in graph.node]
    assert "MatMulInteger" in ops and ops.count("MatMul") == 1  # DOWN was not asked for
    assert not any(init.name == "up.w" for init in graph.initializer)  # fp32 weights gone
    x = tokens(40)
    expected, got = run(fp32, x), run(int8, x)
    error = np.abs(got - expected).max() / np.abs(expected).max()
    assert error < 0.02, error
    norms = np.linalg.norm(got, axis=-1) * np.linalg.norm(expected, axis=-1)
    assert ((got * expected).sum(-1) / norms).min() > 0.999


def test_each_token_is_quantised_alone_unlike_onnxruntimes_dynamic_int8(tmp_path):
    fp32 = two_matmuls(tmp_path / "fp32.onnx")
    per_token = tmp_path / "per-token.onnx"
    quantize_per_token(fp32, per_token, ["intermediate/dense"])
    per_tensor = tmp_path / "per-tensor.onnx"
    quantize_dynamic(str(fp32), str(per_tensor), weight_type=QuantType.QInt8,
                     nodes_to_exclude=[DOWN])  # fmt: skip
    quiet = tokens(8)
    loud = np.concatenate([quiet, 500 * tokens(1, seed=9)], axis=1)  # one token of huge values
    # Per token: the quiet rows come out the same whatever shares the tensor with them.
    np.testing.assert_array_equal(run(per_token, loud)[:, :8], run(per_token, quiet))
    # Per tensor (the test can fail): the loud token coarsens every other token's steps.
    alone, shared = run(per_tensor, quiet), run(per_tensor, loud)[:, :8]
    per_token_error = np.abs(run(per_token, quiet) - run(fp32, quiet)).max()
    assert np.abs(shared - alone).max() > 10 * per_token_error


def test_a_zero_token_stays_zero_and_seven_bit_weights_stay_in_range(tmp_path):
    fp32 = two_matmuls(tmp_path / "fp32.onnx")
    seven = tmp_path / "seven.onnx"
    quantize_per_token(fp32, seven, ["intermediate/dense"], reduce_range=True)
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(seven)).graph.initializer}
    int8 = weights["up.w_per_token_int8"]
    assert int8.dtype == np.int8 and np.abs(int8).max() == 63
    x = tokens(3)
    x[0, 1] = 0.0
    out = run(seven, x)
    assert np.all(np.isfinite(out)) and np.array_equal(out[0, 1], np.zeros(OUT, np.float32))


def test_nothing_matching_leaves_the_graph_as_it_was(tmp_path):
    fp32 = two_matmuls(tmp_path / "fp32.onnx")
    same = tmp_path / "same.onnx"
    assert quantize_per_token(fp32, same, ["attention"]) == 0
    x = tokens(5)
    np.testing.assert_array_equal(run(same, x), run(fp32, x))
