"""copy.deepcopy of a model nbunify made is still such a model, with its own weights, in every framework."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import nbunify as nu
from nbunify import backends
from nbunify.backends import train_spec

FRAMEWORKS = ["torch", "keras", "paddle"]
RNG = np.random.default_rng(0)
L = nu.layers
SPEC = nu.Sequential([L.Conv2d(4, 3, padding=1), L.Activation("relu"), L.Flatten(), L.Dense(3)], input_shape=(2, 4, 4))


def conv_classifier():
    """x (n, 2, 4, 4) -> Conv -> Relu -> Flatten -> Gemm -> y (n, 3): keras keeps "r" channels-last inside."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]), helper.make_node("Gemm", ["f", "d", "db"], ["y"], transB=1)]
    weights = {"w": (4, 2, 3, 3), "b": (4,), "d": (3, 64), "db": (3,)}
    graph = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
                              [numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)
                               for name, shape in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def shifted(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: value + 1.0 for name, value in weights.items()}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_copy_of_a_built_model_is_a_built_model_with_its_own_weights(framework):
    model = nu.build(SPEC, [framework], seed=0)[framework]
    x = RNG.standard_normal((2, 2, 4, 4)).astype(np.float32)
    before = nu.predict(model, x)  # a keras model now holds a traced call of itself: the copy must not share it
    duplicate = copy.deepcopy(model)
    assert duplicate is not model
    assert duplicate._nbunify_spec.to_text() == model._nbunify_spec.to_text()
    assert train_spec(duplicate, framework).to_text() == SPEC.to_text()
    weights = nu.weights(model)
    assert all(np.array_equal(nu.weights(duplicate)[name], value) for name, value in weights.items())
    np.testing.assert_array_equal(nu.predict(duplicate, x), before)
    nu.load_weights(duplicate, shifted(weights))  # the copy's weights are its own
    assert not np.allclose(nu.predict(duplicate, x), before)
    np.testing.assert_array_equal(nu.predict(model, x), before)
    again = copy.deepcopy(duplicate)  # and a copy of the copy
    np.testing.assert_allclose(nu.predict(again, x), nu.predict(duplicate, x), rtol=1e-6, atol=1e-6)
    assert nu.summary(again) is not None


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_copy_of_an_imported_model_keeps_its_graph_and_its_values_follow_its_weights(framework):
    proto = conv_classifier()
    native = nu.from_onnx(proto, framework)
    x = RNG.standard_normal((2, 2, 4, 4)).astype(np.float32)
    before = nu.predict(native, x)
    duplicate = copy.deepcopy(native)
    assert duplicate._nbunify_onnx == native._nbunify_onnx
    assert train_spec(duplicate, framework) is not None  # nu.fit takes it
    np.testing.assert_allclose(nu.predict(duplicate, x), before, rtol=1e-6, atol=1e-6)
    # per-node values (nu.parity(..., per_node=True)) are the copy's own: a shifted conv bias shows in "c" and "r"
    importer = backends.part(framework, "onnx_import")
    original = importer.intermediates(native, [x], ["c", "r"])
    shift_conv_bias(duplicate, framework)
    copied = importer.intermediates(duplicate, [x], ["c", "r"])
    assert set(copied) == set(original) == {"c", "r"}
    for name in ("c", "r"):
        assert copied[name].shape == original[name].shape == (2, 4, 4, 4)  # ONNX's channels-first layout
    np.testing.assert_allclose(copied["c"] - original["c"], np.ones_like(original["c"]), atol=1e-5)
    assert (copied["r"] >= original["r"]).all() and (copied["r"] > original["r"]).any()
    np.testing.assert_array_equal(importer.intermediates(native, [x], ["c"])["c"], original["c"])  # untouched


def shift_conv_bias(model, framework: str) -> None:
    """Add 1 to the copy's conv bias (its only 4-element weight), through the framework itself."""
    if framework == "torch":
        import torch

        with torch.no_grad():
            next(p for p in model.parameters() if tuple(p.shape) == (4,)).add_(1.0)
    elif framework == "paddle":
        parameter = next(p for p in model.parameters() if tuple(p.shape) == (4,))
        parameter.set_value(parameter.numpy() + 1.0)
    else:
        variable = next(v for v in model.weights if tuple(v.shape) == (4,))
        variable.assign(variable.numpy() + 1.0)
