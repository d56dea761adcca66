"""The static picture of a graph message: layered layout, scope collapse, SVG, PNG and the text summary."""

from __future__ import annotations

import io
import itertools
import json
import re
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from nbunify.graph import onnx_message
from nbunify.graph_layout import collapse_depth, graph_layout, visible_count
from nbunify.graph_picture import (CATEGORY_COLOURS, DRIFT, MAX_HEIGHT, MAX_WIDTH, graph_html, graph_png, graph_svg,
                                   graph_text, picture_layout, text_colour)
from onnx_models import densenet

SVG = "{http://www.w3.org/2000/svg}"
XSS_NAME = "<img src=x onerror=alert(1)>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CATEGORY = {"Conv": "layer", "Gemm": "layer", "Relu": "activation", "Add": "math", "Constant": "constant",
            "Concat": "tensor", "MaxPool": "pool"}


def _message(rows, inputs=("x",), outputs=("y",), parameters=(), title="hand made"):
    """A message from rows of (name, op, input values, output values), scope from the name as torch writes it."""
    values = {name: {"dtype": "float32", "shape": ["N", 4], "parameter": False, "count": 0} for name in inputs}
    for name in parameters:
        values[name] = {"dtype": "float32", "shape": [4, 4], "parameter": True, "count": 16}
    nodes = []
    for index, (name, op, node_inputs, node_outputs) in enumerate(rows):
        for value in [*node_inputs, *node_outputs]:
            values.setdefault(value, {"dtype": "float32", "shape": ["N", 4], "parameter": False, "count": 0})
        parts = [part for part in name.split("/") if part]
        nodes.append({"id": f"n{index}", "name": name, "op": op, "domain": "", "category": CATEGORY.get(op, "other"),
                      "scope": parts[:-1] if "/" in name else [], "attributes": {},
                      "inputs": [{"name": str(position), "values": [value]}
                                 for position, value in enumerate(node_inputs)],
                      "outputs": [{"name": "0", "values": list(node_outputs)}],
                      "parameter_count": 16 * sum(value in parameters for value in node_inputs), "parity": None})
    return {"version": 1, "title": title, "source": "onnx", "framework": "onnx", "inputs": list(inputs),
            "outputs": list(outputs), "values": values, "nodes": nodes,
            "parameter_count": 16 * len(parameters), "parity": None}


def _residual():
    """x -> conv(w) -> relu -> add(conv, relu) -> y, plus a constant that feeds the add's second user."""
    return _message([("conv", "Conv", ["x", "w"], ["c"]), ("relu", "Relu", ["c"], ["r"]),
                     ("add", "Add", ["c", "r"], ["a"]), ("shift", "Constant", [], ["k"]),
                     ("out", "Add", ["a", "k"], ["y"])], parameters=["w"])


def _overlap(first, second):
    return (abs(first.x - second.x) * 2 < first.width + second.width
            and abs(first.y - second.y) * 2 < first.height + second.height)


@pytest.fixture(scope="module")
def densenet_message():
    return onnx_message(densenet((24, 48, 96, 72), growth=12))


def test_every_edge_goes_downwards_and_no_two_boxes_overlap():
    layout = graph_layout(_residual())
    boxes = {box.key: box for box in layout.boxes}
    assert sorted(boxes) == ["input:x", "n0", "n1", "n2", "n3", "n4", "output:y"]  # the parameter w is no box
    assert {(edge.source, edge.target) for edge in layout.edges} == {
        ("input:x", "n0"), ("n0", "n1"), ("n0", "n2"), ("n1", "n2"), ("n2", "n4"), ("n3", "n4"), ("n4", "output:y")}
    for edge in layout.edges:
        source, target = boxes[edge.source], boxes[edge.target]
        assert not edge.reversed and source.layer < target.layer
        assert edge.points[0] == (source.x, source.y + source.height / 2)
        assert edge.points[-1] == (target.x, target.y - target.height / 2)
        assert all(upper[1] <= lower[1] for upper, lower in zip(edge.points, edge.points[1:]))
    assert [boxes[key].layer for key in ("input:x", "n0", "n1", "n2", "n4", "output:y")] == [0, 1, 2, 3, 4, 5]
    assert boxes["n3"].layer == boxes["n4"].layer - 1  # the constant sits above its consumer, not beside the input
    # the skip edge conv -> add crosses layer 2 through a dummy: its polyline has a vertical run there
    (skip,) = [edge for edge in layout.edges if (edge.source, edge.target) == ("n0", "n2")]
    assert len(skip.points) == 4
    assert not any(_overlap(first, second) for first, second in itertools.combinations(layout.boxes, 2))
    for first, second in itertools.combinations(layout.boxes, 2):
        assert (first.layer == second.layer) == (first.y == second.y)
    assert min(box.x - box.width / 2 for box in layout.boxes) == pytest.approx(0)
    assert max(box.x + box.width / 2 for box in layout.boxes) == pytest.approx(layout.width)


def test_ordering_sweeps_remove_the_crossing_graph_order_would_make():
    # graph order puts "below_b" left of "below_a" in layer 2, under a and b in the other order: one crossing
    message = _message([("a", "Relu", ["x"], ["a"]), ("b", "Relu", ["x"], ["b"]), ("below_b", "Relu", ["b"], ["c"]),
                        ("below_a", "Relu", ["a"], ["d"]), ("join", "Add", ["c", "d"], ["y"])])
    boxes = {box.key: box for box in graph_layout(message).boxes}
    assert boxes["n0"].layer == boxes["n1"].layer and boxes["n2"].layer == boxes["n3"].layer
    assert (boxes["n0"].x < boxes["n1"].x) == (boxes["n3"].x < boxes["n2"].x)


def test_collapse_keeps_the_deepest_scope_depth_that_fits():
    rows = [("/stem/Conv", "Conv", ["x"], ["s"])]
    previous = "s"
    for block, layer in itertools.product((1, 2), (1, 2, 3)):
        rows += [(f"/body/block{block}/layer{layer}/conv/Conv", "Conv", [previous], [f"c{block}{layer}"]),
                 (f"/body/block{block}/layer{layer}/Relu", "Relu", [f"c{block}{layer}"], [f"r{block}{layer}"])]
        previous = f"r{block}{layer}"
    message = _message(rows + [("Gemm", "Gemm", [previous], ["y"])])  # 14 nodes; "Gemm" has no scope
    assert [visible_count(message, depth) for depth in (1, 2, 3, 4)] == [3, 4, 8, 14]
    assert collapse_depth(message, max_items=20) is None
    assert collapse_depth(message, max_items=8) == 3
    assert collapse_depth(message, max_items=5) == 2
    assert collapse_depth(message, max_items=2) == 1  # nothing fits: the fewest boxes
    layout = graph_layout(message, max_items=5)
    groups = {box.key: box for box in layout.boxes if box.kind == "group"}
    assert layout.depth == 2 and sorted(groups) == ["group:body/block1", "group:body/block2"]
    assert groups["group:body/block1"].lines == ["body/block1", "6 nodes"]
    assert groups["group:body/block1"].node_ids == [f"n{index}" for index in range(1, 7)]
    # a one-node scope ("stem") is drawn as its node
    assert sorted(box.key for box in layout.boxes if box.kind == "node") == ["n0", "n13"]
    chain = sorted(layout.boxes, key=lambda box: box.layer)
    assert [box.key for box in chain] == ["input:x", "n0", "group:body/block1", "group:body/block2", "n13", "output:y"]
    assert graph_layout(message, max_items=100, max_layers=5).depth == 1  # too many layers: collapse further


def test_a_cycle_made_by_collapsing_is_drawn_with_one_edge_upwards():
    # /outer holds n0 and n2, n1 sits between them outside: outer -> n1 -> outer
    message = _message([("/outer/first", "Relu", ["x"], ["a"]), ("between", "Relu", ["a"], ["b"]),
                        ("/outer/second", "Relu", ["b"], ["c"]), ("/other/one", "Relu", ["c"], ["d"]),
                        ("/other/two", "Relu", ["d"], ["y"])])
    layout = graph_layout(message, max_items=3)
    assert layout.depth == 1
    edges = {(edge.source, edge.target): edge for edge in layout.edges}
    assert set(edges) == {("input:x", "group:outer"), ("group:outer", "n1"), ("n1", "group:outer"),
                          ("group:outer", "group:other"), ("group:other", "output:y")}
    assert [key for key, edge in edges.items() if edge.reversed] == [("n1", "group:outer")]
    upwards = edges[("n1", "group:outer")].points
    assert upwards[0][1] > upwards[-1][1]


def test_the_1701_node_densenet_collapses_to_at_most_300_boxes(densenet_message):
    assert len(densenet_message["nodes"]) == 1701
    assert collapse_depth(densenet_message) == 3 and visible_count(densenet_message, 3) == 265
    layout, elapsed_layout = _timed(graph_layout, densenet_message)
    boxes = [box for box in layout.boxes if box.kind in ("node", "group")]
    assert len(boxes) == 265 <= 300 and layout.depth == 3
    assert sum(len(box.node_ids) for box in boxes) == 1701
    assert "group:features/denseblock3/denselayer96" in {box.key for box in boxes}
    picture, elapsed_picture = _timed(picture_layout, densenet_message)
    svg, elapsed_svg = _timed(graph_svg, densenet_message)
    png, elapsed_png = _timed(graph_png, densenet_message)
    assert picture is picture_layout(densenet_message)  # one layout for the SVG and the PNG
    assert picture.depth == 2 and picture.layer_count == 18  # 265 layers would not fit MAX_HEIGHT
    assert 'class="nbunify-group"' in svg and png.startswith(PNG_SIGNATURE)
    print(f"\n1,701-node DenseNet: layout (max 300 items) {elapsed_layout:.3f} s, picture layout "
          f"{elapsed_picture:.3f} s, SVG {elapsed_svg:.3f} s ({len(svg):,} chars), PNG {elapsed_png:.3f} s "
          f"({len(png):,} bytes)")


def _timed(function, *arguments):
    start = time.perf_counter()
    result = function(*arguments)
    return result, time.perf_counter() - start


def test_svg_parses_draws_one_box_per_node_and_escapes_names():
    message = _residual()
    message["nodes"][1]["name"] = XSS_NAME
    message["title"] = "a <b>bold</b> title & more"
    svg = graph_svg(message)
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg" and float(root.get("width")) <= MAX_WIDTH
    classes = [group.get("class") for group in root.iter(f"{SVG}g")]
    assert classes.count("nbunify-node") == 5 and classes.count("nbunify-input") == 1
    assert classes.count("nbunify-output") == 1
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert XSS_NAME in texts and "Relu" in texts and "Conv" in texts and "float32 N×4" in texts
    assert "a <b>bold</b> title & more — 5 nodes, 16 parameters" in texts
    assert not [element for element in root.iter() if element.tag.rsplit("}", 1)[-1] in ("img", "b", "script")]
    assert "<img" not in svg and "&lt;img src=x onerror=alert(1)&gt;" in svg
    html = graph_html(message)
    assert html.startswith('<div class="nbunify-graph-fallback">') and "<img" not in html and "<b>" not in html
    assert "JupyterLab with nbunify" in html and svg in html


def test_a_failing_node_gets_a_red_outline_thicker_for_the_first_drift():
    message = _residual()
    for node, ok in zip(message["nodes"], (True, False, False, True, True)):
        node["parity"] = {"output": node["outputs"][0]["values"][0], "max_abs_error": 0.0 if ok else 0.5,
                          "relative_error": 0.0 if ok else 0.1, "ok": ok}
    message["parity"] = {"a": "paddle (imported)", "b": "onnxruntime", "max_abs_error": 0.5, "first_drift": "n1",
                         "tolerance": [1e-4, 1e-3], "unobserved": 0}
    root = ElementTree.fromstring(graph_svg(message))
    strokes = {group.get("data-id"): (rect.get("stroke"), float(rect.get("stroke-width")))
               for group in root.iter(f"{SVG}g") if group.get("data-id")
               for rect in group.iter(f"{SVG}rect")}
    assert strokes["n1"][0] == DRIFT and strokes["n2"][0] == DRIFT and strokes["n1"][1] > strokes["n2"][1]
    assert strokes["n0"][0] != DRIFT and strokes["n3"][0] != DRIFT
    classes = {group.get("data-id"): group.get("class") for group in root.iter(f"{SVG}g") if group.get("data-id")}
    assert classes["n1"] == "nbunify-node nbunify-beyond-tolerance nbunify-first-drift"
    assert classes["n2"] == "nbunify-node nbunify-beyond-tolerance" and classes["n0"] == "nbunify-node"
    legend = " ".join(element.text for element in root.iter(f"{SVG}text"))
    assert "parity paddle (imported) vs onnxruntime" in legend and "first drift: n1 Relu relu" in legend
    assert "red outline" in legend


def test_png_is_a_decodable_picture_of_bounded_size(densenet_message):
    from PIL import Image

    small = graph_png(_residual())
    assert small.startswith(PNG_SIGNATURE)
    width, height = Image.open(io.BytesIO(small)).size
    assert 600 <= width <= MAX_WIDTH and 400 < height < 1000  # 6 layers of boxes under the title
    tall = _message([(f"relu{index}", "Relu", [f"v{index}"], [f"v{index + 1}"]) for index in range(120)],
                    inputs=["v0"], outputs=["v120"])
    width, height = Image.open(io.BytesIO(graph_png(tall))).size  # 122 layers, no scope to collapse: scaled down
    assert height == MAX_HEIGHT and width < MAX_WIDTH
    width, height = Image.open(io.BytesIO(graph_png(densenet_message))).size
    assert width <= MAX_WIDTH and height <= MAX_HEIGHT


def test_png_is_none_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert graph_png(_residual()) is None


def test_text_summary_lists_counts_shapes_ops_and_the_first_drift(densenet_message):
    text = graph_text(densenet_message)
    lines = text.splitlines()
    assert lines[0] == f"densenet: 1,701 nodes, {densenet_message['parameter_count']:,} parameters"
    assert lines[1] == "inputs: input float32 N×3×224×224"
    assert lines[2] == "outputs: /classifier/Gemm_output_0 float32 N×1000"
    assert lines[3].startswith("ops: BatchNormalization 485, Relu 485, Conv 484, Concat 240, AveragePool 3")
    assert len(lines) == 4
    message = _residual()
    message["nodes"][4]["parity"] = {"output": "y", "max_abs_error": 2.0, "relative_error": 1.0, "ok": False}
    message["parity"] = {"a": "keras (imported)", "b": "onnxruntime", "max_abs_error": 2.0, "first_drift": "n4",
                         "tolerance": [1e-4, 1e-3], "unobserved": 0}
    text = graph_text(message)
    assert "ops: Add 2, Conv 1, Relu 1, Constant 1" in text
    assert text.splitlines()[-1] == ("parity keras (imported) vs onnxruntime: max abs error 2 (tolerance abs 0.0001, "
                                     "rel 0.001); 1 node beyond tolerance, first drift: n4 Add out")


def test_colours_match_the_lab_contract_and_text_stays_readable():
    source = (Path(__file__).resolve().parents[1] / "labextension/src/graph/message.ts").read_text()
    block = source[source.index("CATEGORY_COLOURS"):]
    block = block[block.index("{"):block.index("}") + 1]
    assert json.loads(re.sub(r"(\w+):", r'"\1":', block.replace("'", '"'))) == CATEGORY_COLOURS
    assert text_colour("#ffffff") != text_colour("#000000")
    assert text_colour(CATEGORY_COLOURS["layer"]) == "#ffffff"
    assert text_colour(CATEGORY_COLOURS["constant"]) != "#ffffff"
