"""Weights the graph folds at import (a Transpose or Cast of an initializer) stay trainable in every framework."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nbunify.convert.hub import from_onnx, run
from nbunify.convert.onnx_graph import OnnxGraph
from nbunify.frameworks import load

onnxruntime = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)
WEIGHT = RNG.standard_normal((3, 4)).astype(np.float32)
BIAS = RNG.standard_normal(3)  # float64, cast to float32 in the graph


def relaid_model(tied: bool = False) -> onnx.ModelProto:
    """y = x @ Transpose(w) + Cast(b); with ``tied``, w is also read directly: y2 = x @ Transpose(w) @ w."""
    nodes = [helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]), helper.make_node("MatMul", ["x", "wt"], ["h"]),
             helper.make_node("Cast", ["b"], ["bf"], to=TensorProto.FLOAT), helper.make_node("Add", ["h", "bf"], ["y"])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])]
    if tied:
        nodes.append(helper.make_node("MatMul", ["y", "w"], ["y2"]))
        outputs.append(helper.make_tensor_value_info("y2", TensorProto.FLOAT, ["n", 4]))
    graph = helper.make_graph(nodes, "relaid", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
                              outputs, [numpy_helper.from_array(WEIGHT, "w"), numpy_helper.from_array(BIAS, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def expected(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


def trainable_shapes_and_gradients(native, framework: str, x: np.ndarray) -> tuple[list[tuple[int, ...]], bool]:
    """The shapes of the model's trainable weights, and whether the loss reaches every one of them."""
    if framework == "torch":
        torch = load("torch")
        parameters = [parameter for parameter in native.parameters() if parameter.requires_grad]
        outputs = native(torch.from_numpy(x))
        sum(output.sum() for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs])).backward()
        return sorted(tuple(parameter.shape) for parameter in parameters), all(
            parameter.grad is not None and bool(parameter.grad.abs().sum() > 0) for parameter in parameters)
    if framework == "paddle":
        paddle = load("paddle")
        parameters = [parameter for parameter in native.parameters() if not parameter.stop_gradient]
        outputs = native(paddle.to_tensor(x))
        sum(output.sum() for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs])).backward()
        return sorted(tuple(parameter.shape) for parameter in parameters), all(
            parameter.grad is not None and float(parameter.grad.abs().sum()) > 0 for parameter in parameters)
    tf = load("tensorflow")
    with tf.GradientTape() as tape:
        outputs = native(x)
        loss = sum(tf.reduce_sum(output) for output in (outputs if isinstance(outputs, (list, tuple)) else [outputs]))
    gradients = tape.gradient(loss, native.trainable_weights)
    return sorted(tuple(weight.shape) for weight in native.trainable_weights), all(
        gradient is not None and float(tf.reduce_sum(tf.abs(gradient))) > 0 for gradient in gradients)


def test_the_graph_names_relaid_weights_and_only_those():
    graph = OnnxGraph(relaid_model())
    assert graph.initializer_names == {"w", "b"}
    assert graph.weight_names == {"w", "b", "wt", "bf"}
    assert [node.op_type for node in graph.nodes] == ["MatMul", "Add"]
    # w is also read directly: its transposed copy is not a weight of its own (the two would drift apart)
    assert OnnxGraph(relaid_model(tied=True)).weight_names == {"w", "b", "bf"}


@pytest.mark.parametrize("framework", ["torch", "keras", "paddle"])
def test_a_transposed_and_a_cast_weight_are_trained(framework):
    model = relaid_model()
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    native = from_onnx(model, framework)
    np.testing.assert_allclose(run(native, [x])[0], expected(model, x)[0], atol=1e-5, rtol=1e-5)
    shapes, reached = trainable_shapes_and_gradients(native, framework, x)
    # torch computes the copies from w and b at run time; keras and paddle train the copies themselves
    assert shapes == ([(3,), (3, 4)] if framework == "torch" else [(3,), (4, 3)])
    assert reached


@pytest.mark.parametrize("framework", ["keras", "paddle"])
def test_a_weight_also_read_directly_stays_one_weight(framework):
    model = relaid_model(tied=True)
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    native = from_onnx(model, framework)
    for output, wanted in zip(run(native, [x]), expected(model, x)):
        np.testing.assert_allclose(output, wanted, atol=1e-5, rtol=1e-5)
    shapes, reached = trainable_shapes_and_gradients(native, framework, x)
    if framework == "paddle":
        assert shapes == [(3,), (3, 4)]  # b's cast copy and w; w's transposed copy is a constant
    else:  # keras makes every static float kernel of a MatMul a Dense layer's own kernel, this copy too
        assert shapes == [(3,), (3, 4), (4, 3)]
    assert reached
