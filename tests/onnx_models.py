"""Small ONNX models built with onnx.helper, for tests that need a real model file without a framework."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny_mlp(name: str = "tiny_mlp", hidden: int = 8, seed: int = 0) -> onnx.ModelProto:
    """x[N,4] -> Gemm -> Relu -> Gemm -> Softmax -> y[N,3]; passes onnx.checker."""
    rng = np.random.default_rng(seed)
    weights = {
        "w1": rng.standard_normal((4, hidden)).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "w2": rng.standard_normal((hidden, 3)).astype(np.float32),
        "b2": np.zeros(3, np.float32),
    }
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="dense_1"),
        helper.make_node("Relu", ["h"], ["a"], name="relu_1"),
        helper.make_node("Gemm", ["a", "w2", "b2"], ["logits"], name="dense_2"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(value, key) for key, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="nbunify-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
