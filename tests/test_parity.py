"""nu.parity: per-output error measures, class agreement, tolerances by dtype, and clear errors for bad inputs."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import nbunify as nu
from nbunify.convert.parity import compare


def linear(weight: np.ndarray, extra_output: bool = False) -> onnx.ModelProto:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["scores"])]
    outputs = [helper.make_tensor_value_info("scores", onnx.TensorProto.FLOAT, ["n", weight.shape[1]])]
    if extra_output:
        nodes.append(helper.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0))
        outputs.append(helper.make_tensor_value_info("label", onnx.TensorProto.INT64, ["n"]))
    graph = helper.make_graph(nodes, "linear", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                                              ["n", weight.shape[0]])],
                              outputs, [numpy_helper.from_array(weight.astype(np.float32), "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_identical_models_agree_exactly_and_a_perturbed_one_is_measured():
    weight = np.random.default_rng(0).standard_normal((6, 10)).astype(np.float32)
    same = nu.parity(linear(weight, True), linear(weight, True))
    assert same.ok and same.max_abs_error == 0.0 and [o.name for o in same.outputs] == ["scores", "label"]
    assert same.outputs[0].cosine_similarity == pytest.approx(1.0) and same.outputs[0].top1_agreement == 1.0
    assert same.outputs[0].top5_agreement == 1.0 and same.outputs[1].top1_agreement is None
    x = np.random.default_rng(1).standard_normal((50, 6)).astype(np.float32)
    shifted = nu.parity(linear(weight + 1e-3), linear(weight), inputs=x)
    expected = np.abs(x @ (weight + 1e-3) - x @ weight).max()
    assert shifted.batch == 50 and shifted.outputs[0].max_abs_error == pytest.approx(expected, rel=1e-3)
    assert not shifted.ok  # beyond float32's default 1e-4 / 1e-3
    assert "DIFFERS" in str(shifted) and "<table>" in shifted._repr_html_()


def test_class_agreement_is_per_row_on_the_outputs_as_they_are():
    reference = np.array([[0.1, 0.9, 0.0, 0.0, 0.0, 0.0], [0.8, 0.1, 0.05, 0.02, 0.02, 0.01]], np.float32)
    swapped = reference.copy()
    swapped[1] = [0.1, 0.8, 0.05, 0.02, 0.02, 0.01]  # row 2's top-1 changes, its top-5 set does not
    result = compare("p", swapped, reference)
    assert result.top1_agreement == 0.5 and result.top5_agreement == 1.0
    dropped = reference.copy()
    dropped[0] = [0.1, 0.9, 0.0, 0.0, 0.0, 0.5]  # class 5 enters row 1's top 5 instead of one of the zeros
    assert compare("p", dropped, reference).top5_agreement < 1.0


def test_tolerances_depend_on_the_dtype():
    base = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    assert compare("f32", base + np.float32(5e-5), base).ok
    assert not compare("f32", base + np.float32(5e-3), base).ok
    assert compare("f16", (base + 5e-3).astype(np.float16), base.astype(np.float16)).ok
    integers = np.arange(6).reshape(2, 3)
    assert compare("int", integers, integers).ok and not compare("int", integers + 1, integers).ok


def test_wrong_inputs_are_refused_with_the_expected_signature():
    model = linear(np.ones((6, 4), np.float32))
    with pytest.raises(ValueError, match=r"input 'x' of onnx \(onnxruntime\) has shape \?x6 .* got 3x5"):
        nu.parity(model, model, inputs=np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="takes float32, got int64"):
        nu.parity(model, model, inputs=np.zeros((3, 6), np.int64))
    with pytest.raises(ValueError, match="takes 1 input"):
        nu.parity(model, model, inputs=[np.zeros((3, 6), np.float32)] * 2)
    report = nu.parity(model, model, inputs=np.zeros((3, 6)))  # float64 data: cast to the model's float32
    assert report.ok and report.batch == 3


def test_models_with_different_outputs_are_refused():
    weight = np.ones((6, 4), np.float32)
    with pytest.raises(ValueError, match="returns 2 output.* returns 1"):
        nu.parity(linear(weight, True), linear(weight))


def residual_import(framework: str):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from reference_specs import random_weights, residual_cnn

    spec = residual_cnn()
    source = nu.build(spec, "torch", weights=random_weights(spec))
    return source, nu.from_onnx(nu.to_onnx(source), framework)


@pytest.mark.parametrize("framework", ["torch", "keras", "paddle"])
def test_per_node_parity_compares_every_held_value_and_finds_no_drift(framework):
    source, imported = residual_import(framework)
    report = nu.parity(imported, source, per_node=True)
    assert report.ok and report.first_drift is None and len(report.nodes) >= 10
    assert {"Conv", "Relu", "Add"} <= {node.op_type for node in report.nodes}
    assert all(node.max_abs_error <= 1e-4 for node in report.nodes)
    assert "all within tolerance" in report.node_summary() and "per node:" in str(report)


def test_per_node_parity_names_the_first_node_that_drifts():
    import torch

    source, imported = residual_import("torch")
    proto = imported._nbunify_onnx
    first_conv = next(node for node in proto.graph.node if node.op_type == "Conv")
    weight_name = first_conv.input[1]
    # the imported model's own copy of that weight, found by value: a small change that only this node sees
    target = numpy_helper.to_array(next(t for t in proto.graph.initializer if t.name == weight_name))
    parameter = next(p for p in imported.parameters() if tuple(p.shape) == target.shape
                     and np.allclose(p.detach().numpy(), target))
    with torch.no_grad():
        parameter[0, 0, 0, 0] += 0.5
    report = nu.parity(imported, source, per_node=True)
    drift = report.first_drift
    assert not report.ok and drift is not None and drift.op_type == "Conv"
    assert drift.output == first_conv.output[0] and drift.max_abs_error > 1e-3
    assert "first drift at Conv node" in report.node_summary()


def test_per_node_parity_needs_an_imported_model():
    weight = np.ones((6, 10), np.float32)
    with pytest.raises(ValueError, match="per_node=True compares the nodes of a model imported by nu.from_onnx"):
        nu.parity(linear(weight), linear(weight), per_node=True)
