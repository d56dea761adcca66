"""Loading ONNX models safely: corrupt, truncated, foreign, too new, old, and external data inside or outside."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from nbunify.convert.errors import OnnxModelError, UnsupportedModelError
from nbunify.convert.loading import load, newest_opset
from nbunify.convert.onnx_graph import OnnxGraph
from nbunify.convert.registry import Registry, schema_version


def small_model(opset: int = 17, weight: np.ndarray | None = None) -> onnx.ModelProto:
    weight = np.arange(12, dtype=np.float32).reshape(4, 3) if weight is None else weight
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul"), helper.make_node("Relu", ["y"], ["z"])]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 4])],
                              [helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, ["n", 3])],
                              [numpy_helper.from_array(weight, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_a_model_loads_from_proto_bytes_and_path(tmp_path):
    model = small_model()
    path = tmp_path / "small.onnx"
    onnx.save(model, path)
    for source in (model, model.SerializeToString(), path, str(path)):
        loaded = load(source)
        assert [node.op_type for node in loaded.graph.node] == ["MatMul", "Relu"]


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\x00\x01 this is not protobuf \xff\xfe" * 4, "not an ONNX model"),
    (b"hello world", "not an ONNX model"),
])
def test_files_that_are_not_onnx_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(OnnxModelError, match=message):
        load(path)


def test_a_truncated_file_is_refused(tmp_path):
    data = small_model().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(OnnxModelError, match="truncated|corrupt|fails onnx.checker|not an ONNX model"):
        load(path)


def test_missing_paths_and_folders_are_named(tmp_path):
    with pytest.raises(OnnxModelError, match="no ONNX file at .*nowhere.onnx"):
        load(tmp_path / "nowhere.onnx")
    with pytest.raises(OnnxModelError, match="it is a folder"):
        load(tmp_path)
    with pytest.raises(TypeError, match="nu.to_onnx"):
        load(42)


def test_an_opset_newer_than_onnx_knows_is_refused():
    model = small_model()
    model.opset_import[0].version = newest_opset() + 1
    with pytest.raises(OnnxModelError, match=f"opset {newest_opset() + 1}, newer than the newest"):
        load(model)


def test_an_old_opset_is_upgraded_and_says_so():
    loaded = load(small_model(opset=9))
    assert loaded.opset_import[0].version == 11
    assert {entry.key: entry.value for entry in loaded.metadata_props}["nbunify.upgraded_from_opset"] == "9"


def external_model(tmp_path, location: str) -> tuple:
    folder = tmp_path / "model"
    folder.mkdir()
    model = small_model(weight=np.ones((4, 3), np.float32) * 2)
    onnx.save(model, folder / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)
    saved = onnx.load(folder / "model.onnx", load_external_data=False)
    for entry in saved.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = location
    onnx.save(saved, folder / "model.onnx")
    return folder, folder / "model.onnx"


def test_external_data_beside_the_model_loads(tmp_path):
    folder, path = external_model(tmp_path, "weights.bin")
    loaded = load(path)
    assert np.array_equal(numpy_helper.to_array(loaded.graph.initializer[0]), np.full((4, 3), 2, np.float32))


@pytest.mark.parametrize("location", ["../weights.bin", "/etc/passwd", "sub/../../weights.bin"])
def test_external_data_leaving_the_folder_is_refused(tmp_path, location):
    folder, path = external_model(tmp_path, location)
    (tmp_path / "weights.bin").write_bytes((folder / "weights.bin").read_bytes())
    with pytest.raises(OnnxModelError, match="outside the model's folder.*refused"):
        load(path)


def test_missing_external_data_is_named(tmp_path):
    folder, path = external_model(tmp_path, "weights.bin")
    (folder / "weights.bin").unlink()
    with pytest.raises(OnnxModelError, match="external data file 'weights.bin' of tensor 'w' is missing"):
        load(path)
    with pytest.raises(OnnxModelError, match="load it from its path"):
        load(onnx.load(path, load_external_data=False))


def test_a_checker_failure_is_reported():
    model = small_model()
    model.graph.node[0].input[1] = "undefined"
    with pytest.raises(OnnxModelError, match="fails onnx.checker"):
        load(model)


def test_graph_view_folds_static_nodes_and_fills_attribute_defaults():
    shape = helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([-1, 6], np.int64)))
    double = helper.make_node("Mul", ["shape", "two"], ["doubled"])  # static: folded
    reshape = helper.make_node("Reshape", ["x", "shape"], ["y"])
    flatten = helper.make_node("Flatten", ["y"], ["z"])
    graph = helper.make_graph([shape, double, reshape, flatten], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 2, 3])],
                              [helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("doubled", onnx.TensorProto.INT64, [2])],
                              [numpy_helper.from_array(np.array(2, np.int64), "two")])
    view = OnnxGraph(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert [node.op_type for node in view.nodes] == ["Reshape", "Flatten"]
    assert view.value("doubled").tolist() == [-2, 12] and view.is_static("shape")
    assert view.nodes[1].attrs == {"axis": 1}  # the schema's default
    assert view.inputs[0].shape == (None, 2, 3) and view.shape("y") == (None, 6)
    with pytest.raises(KeyError, match="computed at run time"):
        view.value("y")


def test_registry_keys_converters_by_schema_version():
    registry = Registry("test")

    @registry.register("Relu", 6, 13, 14)
    def relu(node, inputs, context):
        return inputs

    assert registry.lookup("Relu", 17) is relu and registry.lookup("Relu", 11) is relu
    assert schema_version("Relu", 17) == 14 and registry.lookup("Relu", 5) is None
    assert registry.lookup("Conv", 17) is None
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("Relu", 13)(relu)
    assert registry.missing([("", "Relu"), ("", "Conv"), ("", "Conv")], {"": 17}) == [("", "Conv", 17)]


def test_unsupported_model_error_lists_every_problem():
    error = UnsupportedModelError("paddle", ["Foo (opset 17): no paddle converter", "Bar (opset 17): no converter"])
    assert "2 problem(s), all listed" in str(error) and "Foo" in str(error) and "Bar" in str(error)
