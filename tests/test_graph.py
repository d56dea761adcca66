"""The graph message from ONNX models and specs, its per-node parity overlay, and the golden files jest reads."""

from __future__ import annotations

import json
import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import nbunify as nu
from nbunify.convert.parity import NodeParity, ParityReport
from nbunify.graph import CATEGORIES, CATEGORY_COLOURS, category, onnx_message, scope_of, with_parity
from nbunify.graph_spec import spec_message
from golden_files import check_golden
from onnx_models import densenet, tiny_mlp

XSS_NAME = "<img src=x onerror=window.__xss=1>"


def _edges(message):
    """(producer id or graph input name, consumer id) pairs, as the renderer derives them."""
    producer = {value: node["id"] for node in message["nodes"] for argument in node["outputs"] for value in argument["values"]}
    producer.update({name: name for name in message["inputs"]})
    return [(producer[value], node["id"]) for node in message["nodes"] for argument in node["inputs"]
            for value in argument["values"] if value in producer]


def test_an_onnx_model_becomes_nodes_values_and_parameters():
    message = onnx_message(tiny_mlp())
    assert message["version"] == 1 and message["source"] == "onnx" and message["framework"] == "onnx"
    assert [node["op"] for node in message["nodes"]] == ["Gemm", "Relu", "Gemm", "Softmax"]
    assert [node["id"] for node in message["nodes"]] == ["n0", "n1", "n2", "n3"]
    assert message["inputs"] == ["x"] and message["outputs"] == ["y"]
    first = message["nodes"][0]
    assert first["inputs"] == [{"name": "A", "values": ["x"]}, {"name": "B", "values": ["w1"]},
                               {"name": "C", "values": ["b1"]}]
    assert first["parameter_count"] == 4 * 8 + 8 and first["category"] == "layer"
    assert message["values"]["w1"] == {"dtype": "float32", "shape": [4, 8], "parameter": True, "count": 32}
    assert message["values"]["x"] == {"dtype": "float32", "shape": ["N", 4], "parameter": False, "count": 0}
    assert message["values"]["h"]["shape"] == ["N", 8]  # inferred: the model has no value_info
    assert message["parameter_count"] == 32 + 8 + 24 + 3
    assert message["nodes"][3]["attributes"] == {"axis": 1}
    # parameters are never edges
    assert _edges(message) == [("x", "n0"), ("n0", "n1"), ("n1", "n2"), ("n2", "n3")]
    json.dumps(message, allow_nan=False)


def test_a_variadic_input_is_one_argument_and_scopes_come_from_torch_style_names():
    message = onnx_message(densenet((2, 2), growth=4, classes=3, image=32, concat="all"))
    concat = next(node for node in message["nodes"] if node["op"] == "Concat" and len(node["inputs"][0]["values"]) == 3)
    assert concat["inputs"][0]["name"] == "inputs" and len(concat["inputs"]) == 1
    conv = next(node for node in message["nodes"] if node["name"] == "/features/denseblock1/denselayer1/conv1/Conv")
    assert conv["scope"] == ["features", "denseblock1", "denselayer1", "conv1"]
    assert conv["attributes"]["kernel_shape"] == [1, 1] and conv["category"] == "layer"
    assert scope_of("/pool/GlobalAveragePool") == ["pool"] and scope_of("Conv.0") == [] and scope_of("relu") == []


def test_the_densenet_benchmark_graph_has_1701_nodes_and_every_edge_resolves():
    message = onnx_message(densenet((24, 48, 96, 72), growth=12))
    assert len(message["nodes"]) == 1701
    edges = _edges(message)
    consumed = sum(1 for node in message["nodes"] for argument in node["inputs"] for value in argument["values"]
                   if not message["values"][value]["parameter"])
    assert len(edges) == consumed  # every non-parameter input has a producer
    assert message["parameter_count"] == sum(
        int(np.prod(tensor.dims)) for tensor in densenet((24, 48, 96, 72), growth=12).graph.initializer)


def test_attributes_are_plain_json():
    tensor = numpy_helper.from_array(np.zeros((2, 3), np.float32), "value")
    nodes = [helper.make_node("Constant", [], ["c"], name="c", value=tensor),
             helper.make_node("Add", ["x", "c"], ["y"], name="add"),
             helper.make_node("Pad", ["y"], ["z"], name="pad", mode="reflect", pads=list(range(40)))]
    graph = helper.make_graph(nodes, "attrs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    message = onnx_message(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 1)]))
    attributes = [node["attributes"] for node in message["nodes"]]
    assert attributes[0] == {"value": "tensor float32[2x3]"}
    assert attributes[2]["mode"] == "reflect" and attributes[2]["pads"] == "[0, 1, 2, 3, 4, 5, 6, 7, ... 40 values]"
    assert [node["category"] for node in message["nodes"]] == ["constant", "math", "tensor"]


def _blocks_spec():
    layers = nu.layers
    return nu.Sequential([
        layers.Conv2d(4, 3, padding="same"),
        nu.spec.Residual([layers.Conv2d(4, 3, padding="same"), layers.Activation("relu")], name="res"),
        nu.spec.Concat([layers.Conv2d(2, 1)], [], name="mix"),
        layers.Flatten(), layers.Dense(10),
    ], input_shape=(1, 6, 6), name="blocks")


def test_a_spec_becomes_layers_with_block_nodes_and_scopes():
    spec = _blocks_spec()
    message = spec_message(spec)
    assert message["source"] == "spec" and message["title"] == "blocks (spec)"
    ops = [(node["op"], node["name"], node["scope"]) for node in message["nodes"]]
    assert ops == [("conv2d", "conv2d_1", []), ("conv2d", "conv2d_2", ["res"]), ("relu", "activation_1", ["res"]),
                   ("add", "res", ["res"]), ("conv2d", "conv2d_3", ["mix"]), ("concat", "mix", ["mix"]),
                   ("flatten", "flatten_1", []), ("dense", "dense_1", [])]
    add = message["nodes"][3]
    assert add["inputs"] == [{"name": "inputs", "values": ["activation_1", "conv2d_1"]}]  # the empty shortcut is x
    assert message["nodes"][5]["inputs"][0]["values"] == ["conv2d_3", "res"]
    assert message["values"]["mix"]["shape"] == ["N", 6, 6, 6]
    assert message["parameter_count"] == spec.parameter_count()
    assert [node["category"] for node in message["nodes"]] == [
        "layer", "layer", "activation", "math", "layer", "tensor", "shape", "layer"]
    assert message["nodes"][0]["attributes"]["padding"] == "same"


def _report(outputs_errors, tolerance=(1e-4, 1e-3)):
    report = ParityReport("keras (imported)", "onnxruntime")
    report.nodes = [NodeParity(f"node of {output}", "Op", output, (2, 3), error, error, tolerance)
                    for output, error in outputs_errors]
    report.unobserved = ["folded"]
    return report


def test_per_node_parity_marks_each_node_and_the_first_drift():
    message = with_parity(onnx_message(tiny_mlp()), _report([("h", 1e-7), ("a", 0.5), ("logits", math.inf)]))
    parity = [node["parity"] for node in message["nodes"]]
    assert parity[0] == {"output": "h", "max_abs_error": 1e-7, "relative_error": 1e-7, "ok": True}
    assert parity[1]["ok"] is False and parity[1]["max_abs_error"] == 0.5
    assert parity[2]["max_abs_error"] is None and parity[2]["ok"] is False  # infinite: not JSON, sent as null
    assert parity[3] is None  # not compared
    assert message["parity"] == {"a": "keras (imported)", "b": "onnxruntime", "max_abs_error": None,
                                 "first_drift": "n1", "tolerance": [1e-4, 1e-3], "unobserved": 1}
    json.dumps(message, allow_nan=False)


def test_parity_without_per_node_or_for_another_graph_is_refused():
    with pytest.raises(ValueError, match="per_node=True"):
        with_parity(onnx_message(tiny_mlp()), ParityReport("a", "b"))
    with pytest.raises(ValueError, match="none of this graph's values"):
        with_parity(onnx_message(tiny_mlp()), _report([("elsewhere", 0.0)]))


def _xss_model():
    model = tiny_mlp("xss")
    model.graph.node[1].name = XSS_NAME
    return model


def test_golden_messages_for_the_lab_extension():
    """tests/golden/graph-*.json: jest parses, groups and lays out these very messages."""
    def dump(message):
        return json.dumps(message, indent=1, sort_keys=True, allow_nan=False) + "\n"

    check_golden("graph-tiny.json", dump(onnx_message(_xss_model())))
    check_golden("graph-spec.json", dump(spec_message(_blocks_spec())))
    scoped = densenet((2, 2), growth=4, classes=3, image=32)
    check_golden("graph-scoped.json", dump(onnx_message(scoped)))
    parity = with_parity(onnx_message(tiny_mlp()), _report([("h", 1e-7), ("a", 0.5), ("logits", 2e-6)]))
    check_golden("graph-parity.json", dump(parity))
    check_golden("graph-categories.json", dump({"colours": CATEGORY_COLOURS, "ops": CATEGORIES}))
    assert set(CATEGORY_COLOURS) == {category(op) for op in CATEGORIES} | {"other"}


def test_a_model_of_each_framework_goes_through_its_exporter():
    from nbunify.graph_display import graph_message

    spec = nu.Sequential([nu.layers.Conv2d(4, 3), nu.layers.Activation("relu"), nu.layers.Flatten(),
                          nu.layers.Dense(10)], input_shape=(1, 8, 8), name="small")
    model = nu.build(spec, "torch", seed=0)
    message = graph_message(model)
    assert message["framework"] == "torch" and message["title"].startswith("small (torch, ")
    assert [node["op"] for node in message["nodes"]] == ["Conv", "Relu", "Flatten", "Gemm"]
    assert [node["scope"] for node in message["nodes"]] == [["conv2d_1"], ["activation_1"], ["flatten_1"], ["dense_1"]]
    assert message["parameter_count"] == spec.parameter_count()


def test_an_imported_model_shows_its_onnx_graph_coloured_by_a_real_parity_report():
    from nbunify.graph_display import graph_message

    spec = nu.Sequential([nu.layers.Dense(6, activation="relu"), nu.layers.Dense(3)], input_shape=(5,), name="mlp")
    source = nu.build(spec, "torch", seed=0)
    imported = nu.convert(source, "torch")
    report = nu.parity(imported, source, per_node=True)
    message = graph_message(imported, parity=report)
    assert message["framework"] == "torch (imported)"
    compared = [node for node in message["nodes"] if node["parity"] is not None]
    assert len(compared) == len(report.nodes) and all(node["parity"]["ok"] for node in compared)
    assert message["parity"]["first_drift"] is None and message["parity"]["max_abs_error"] <= 1e-5


def test_show_refuses_what_it_cannot_draw():
    from nbunify.graph_display import graph_message

    with pytest.raises(TypeError, match="nu.show draws a spec"):
        graph_message(42)
    with pytest.raises(ValueError, match="no ONNX file"):
        graph_message("missing.onnx")
