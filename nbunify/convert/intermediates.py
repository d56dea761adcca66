"""Every node's output of an ONNX graph as onnxruntime computes it, for nu.parity(..., per_node=True)."""

from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np


def node_outputs(proto: Any) -> list[tuple[str, str, str]]:
    """(node name, op type, output name) of every node output in the graph's (topological) order."""
    found = []
    for index, node in enumerate(proto.graph.node):
        for output in node.output:
            if output:
                found.append((node.name or f"{node.op_type}_{index}", node.op_type, output))
    return found


def onnxruntime_values(proto: Any, inputs: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """The value of every node output onnxruntime can expose, on ``inputs`` (graph-input order).

    Each node output becomes a graph output (its type from ONNX shape inference), and the session runs with
    graph optimizations off, so no value is fused away: what comes back is each node's own result. Outputs whose
    element type shape inference cannot tell are left out.
    """
    import onnx
    import onnxruntime

    model = copy.deepcopy(proto)
    types = _inferred_types(model)
    exposed = {output.name for output in model.graph.output}
    initializers = {tensor.name for tensor in model.graph.initializer}
    for _, _, name in node_outputs(model):
        if name in exposed or name in initializers:
            continue
        kind = types.get(name)
        if kind is None or not kind.HasField("tensor_type") or kind.tensor_type.elem_type == 0:
            continue
        info = onnx.ValueInfoProto(name=name)
        info.type.tensor_type.elem_type = kind.tensor_type.elem_type  # the element type only: any shape goes
        model.graph.output.append(info)
        exposed.add(name)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {value.name: np.asarray(array) for value, array in zip(session.get_inputs(), inputs)}
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def _inferred_types(model: Any) -> dict[str, Any]:
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # noqa: BLE001 - inference is a help here: without it fewer values are exposed
        inferred = model
    graph = inferred.graph
    return {info.name: info.type for info in (*graph.value_info, *graph.output, *graph.input)}
