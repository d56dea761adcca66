"""The weightless skeleton: checks, upgrades and shape inference see the graph without its large weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from nbunify.convert.errors import OnnxModelError
from nbunify.convert.loading import load
from nbunify.convert.onnx_graph import OnnxGraph
from nbunify.convert.skeleton import SMALL, join, payload_problem, split


def conv_model(opset: int = 9, channels: int = 64) -> onnx.ModelProto:
    """Conv (a large weight) -> Reshape by a small shape initializer -> MatMul (another large weight)."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((channels, 3, 3, 3)).astype(np.float32)  # > SMALL elements
    dense = rng.standard_normal((channels * 4 * 4, 10)).astype(np.float32)
    shape = np.array([-1, channels * 4 * 4], np.int64)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Reshape", ["c", "shape"], ["f"]),
             helper.make_node("MatMul", ["f", "d"], ["y"])]
    graph = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 3, 4, 4])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 10])],
                              [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(shape, "shape"),
                               numpy_helper.from_array(dense, "d")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 4
    return model


def test_the_skeleton_keeps_small_initializers_and_types_the_large_ones_as_inputs():
    model = conv_model()
    skeleton, large, added = split(model)
    assert set(large) == added == {"w", "d"}
    assert [tensor.name for tensor in skeleton.graph.initializer] == ["shape"]
    inputs = {info.name: info for info in skeleton.graph.input}
    assert tuple(d.dim_value for d in inputs["w"].type.tensor_type.shape.dim) == (64, 3, 3, 3)
    assert skeleton.ByteSize() < model.ByteSize() / 20
    assert len(skeleton.graph.node) == 3 and skeleton.opset_import[0].version == 9
    assert all(np.prod(tensor.dims) <= SMALL for tensor in skeleton.graph.initializer)
    onnx.checker.check_model(skeleton)
    rejoined = join(skeleton, large, added, [tensor.name for tensor in model.graph.initializer])
    assert rejoined.SerializeToString() == model.SerializeToString()


def test_an_upgraded_model_keeps_its_weights_in_order_and_computes_the_same():
    import onnxruntime

    model = conv_model(opset=9)
    loaded = load(model)
    assert loaded.opset_import[0].version == 11
    assert [tensor.name for tensor in loaded.graph.initializer] == ["w", "shape", "d"]
    assert [info.name for info in loaded.graph.input] == ["x"]
    for before, after in zip(model.graph.initializer, loaded.graph.initializer):
        assert np.array_equal(numpy_helper.to_array(before), numpy_helper.to_array(after))
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    run = [onnxruntime.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
           for m in (model, loaded)]
    np.testing.assert_array_equal(run[0], run[1])


def test_shapes_are_inferred_through_small_initializers_without_the_weights():
    graph = OnnxGraph(load(conv_model(opset=13)))
    assert graph.shape("c") == (None, 64, 4, 4)
    assert graph.shape("f") == (None, 1024)
    assert graph.shape("y") == (None, 10)


@pytest.mark.parametrize("damage, message", [
    (lambda t: setattr(t, "raw_data", t.raw_data[:-4]), "holds 6908 bytes, not 6912"),
    (lambda t: t.dims.__setitem__(0, 65), "holds 6912 bytes, not 7020"),
    (lambda t: setattr(t, "data_type", 999), "no valid data type"),
])
def test_a_large_weight_whose_data_does_not_fit_its_shape_is_refused(damage, message):
    model = conv_model(opset=13)
    damage(model.graph.initializer[0])
    with pytest.raises(OnnxModelError, match=f"fails onnx.checker: tensor 'w'.*{message}"):
        load(model)


def test_typed_fields_are_counted_like_raw_bytes():
    tensor = helper.make_tensor("t", onnx.TensorProto.FLOAT, [2, 600], np.zeros(1200, np.float32).tolist())
    assert payload_problem(tensor) is None
    del tensor.float_data[-1]
    assert payload_problem(tensor) == "tensor 't' of shape (2, 600) holds 1199 values, not 1200"


def test_an_ir3_model_whose_upgrade_adds_initializers_gets_the_ir_version_they_need():
    """onnx's Pad 2 -> 11 adapter turns the pads attribute into an initializer that IR 3 would need as an input."""
    import onnxruntime

    path = Path(onnx.__file__).parent / "backend/test/data/pytorch-converted/test_ConstantPad2d/model.onnx"
    original = onnx.load(str(path))
    assert original.ir_version == 3 and original.opset_import[0].version == 6
    loaded = load(path)
    assert loaded.opset_import[0].version == 11 and loaded.ir_version >= 6
    assert any(node.op_type == "Pad" and len(node.input) >= 2 for node in loaded.graph.node)
    x = np.random.default_rng(0).standard_normal(
        [d.dim_value for d in original.graph.input[0].type.tensor_type.shape.dim]).astype(np.float32)
    name = original.graph.input[0].name
    before, after = (onnxruntime.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
                     .run(None, {name: x})[0] for m in (original, loaded))
    np.testing.assert_array_equal(before, after)
