"""The graph message (``application/vnd.nbunify.graph+json``): a netron-shaped graph of an ONNX model or a spec.

The message is the contract with the Lab renderer (``labextension/src/graph/message.ts`` mirrors it):
nodes in graph order, each with its op, category, module scope, attributes, arguments (formal name and
value names), parameter count and (with a per-node parity report) its parity; ``values`` describes every
named value (dtype, shape, and whether it is a parameter). Edges are not listed: a node input that another
node outputs (or that is a graph input) is an edge; parameters are never edges.
"""

from __future__ import annotations

from typing import Any, Iterable

from nbunify.display import MESSAGE_VERSION

#: Fill colour per op category, the same as CATEGORY_COLOURS in labextension/src/graph/message.ts.
CATEGORY_COLOURS = {
    "layer": "#3b7dd8", "activation": "#c0392b", "pool": "#2e8b57", "normalization": "#6a5acd",
    "recurrent": "#8e44ad", "dropout": "#7f8c8d", "shape": "#8d6e63", "tensor": "#b7950b", "math": "#16a085",
    "control": "#e67e22", "constant": "#95a5a6", "other": "#555555",
}
_CATEGORY_OPS = {
    "layer": "Conv ConvTranspose ConvInteger Gemm MatMul MatMulInteger QLinearConv QLinearMatMul Einsum Attention "
             "conv1d conv2d conv_transpose2d dense embedding multihead_attention transformer_encoder",
    "activation": "Relu LeakyRelu PRelu Elu Selu Celu Gelu Sigmoid HardSigmoid HardSwish Tanh Softmax LogSoftmax "
                  "Softplus Softsign Mish ThresholdedRelu Hardmax activation relu leaky_relu gelu silu tanh sigmoid softmax",
    "pool": "MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxRoiPool MaxUnpool "
            "maxpool1d avgpool1d maxpool2d avgpool2d global_avgpool1d global_avgpool2d",
    "normalization": "BatchNormalization LayerNormalization InstanceNormalization GroupNormalization LRN "
                     "LpNormalization MeanVarianceNormalization batchnorm layernorm",
    "recurrent": "LSTM GRU RNN simple_rnn lstm gru",
    "dropout": "Dropout dropout",
    "shape": "Reshape Flatten Transpose Squeeze Unsqueeze Shape Size Expand DepthToSpace SpaceToDepth "
             "flatten reshape transpose",
    "tensor": "Concat Split Slice Gather GatherElements GatherND Scatter ScatterElements ScatterND Pad Tile "
              "Identity Cast CastLike Resize Upsample Where OneHot TopK NonZero Compress Range Trilu concat",
    "math": "Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Floor Ceil Round Sign Erf Min Max Mean Sum Mod "
            "ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSumExp ReduceSumSquare "
            "ArgMax ArgMin CumSum Clip Equal Greater Less GreaterOrEqual LessOrEqual And Or Not Xor Sin Cos "
            "add",
    "control": "If Loop Scan",
    "constant": "Constant ConstantOfShape EyeLike RandomNormal RandomUniform RandomNormalLike RandomUniformLike",
}
CATEGORIES = {op: category for category, ops in _CATEGORY_OPS.items() for op in ops.split()}
#: Longest attribute list sent as is; longer ones become a short text.
MAX_LIST = 32


def category(op: str) -> str:
    """The colour group of an op type (ONNX) or a spec layer kind; "other" when unknown."""
    return CATEGORIES.get(op, "other")


def onnx_message(proto: Any, title: str = "", framework: str | None = None) -> dict[str, Any]:
    """The message of an ``onnx.ModelProto`` (shapes inferred on a weightless copy when the model lacks them)."""
    graph = _with_shapes(proto).graph
    opsets = {entry.domain or "": entry.version for entry in proto.opset_import}
    metadata = {entry.key: entry.value for entry in proto.metadata_props}
    framework = framework or metadata.get("nbunify.source_framework", "onnx")
    values: dict[str, dict[str, Any]] = {}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        values[info.name] = _value_info(info)
    for tensor in graph.initializer:
        count = 1
        for size in tensor.dims:
            count *= int(size)
        # a float initializer is a parameter; an integer one (a Reshape's shape, Slice's bounds) is a constant
        parameter = _dtype_name(tensor.data_type).startswith(("float", "bfloat"))
        values[tensor.name] = {"dtype": _dtype_name(tensor.data_type), "shape": [int(size) for size in tensor.dims],
                               "parameter": parameter, "count": count if parameter else 0}
    parameters = {name for name, value in values.items() if value["parameter"]}
    nodes = []
    for index, node in enumerate(graph.node):
        for name in [*node.input, *node.output]:
            if name and name not in values:
                values[name] = {"dtype": None, "shape": None, "parameter": False, "count": 0}
        nodes.append({
            "id": f"n{index}", "name": node.name, "op": node.op_type, "domain": node.domain,
            "category": category(node.op_type) if node.domain in ("", "ai.onnx") else "other",
            "scope": scope_of(node.name),
            "attributes": {attribute.name: _attribute(attribute) for attribute in node.attribute},
            "inputs": _arguments(node, node.input, opsets.get(node.domain or "", 0), "inputs"),
            "outputs": _arguments(node, node.output, opsets.get(node.domain or "", 0), "outputs"),
            "parameter_count": sum(values[name]["count"] for name in set(node.input) if name in parameters),
            "parity": None,
        })
    initializers = {tensor.name for tensor in graph.initializer}
    inputs = [info.name for info in graph.input if info.name not in initializers]
    name = title or metadata.get("nbunify.spec") or graph.name or "model"
    if not title and framework != "onnx":
        name = f"{name} ({framework}, {metadata.get('nbunify.exporter', 'ONNX')})"
    return {"version": MESSAGE_VERSION, "title": name, "source": "onnx", "framework": framework,
            "inputs": inputs, "outputs": [info.name for info in graph.output], "values": values, "nodes": nodes,
            "parameter_count": sum(values[name]["count"] for name in parameters), "parity": None}


def scope_of(name: str) -> list[str]:
    """Module scope from a node name: "/features/conv1/Conv" -> ["features", "conv1"]; no "/" -> []."""
    parts = [part for part in name.split("/") if part]
    return parts[:-1] if "/" in name else []


def with_parity(message: dict[str, Any], report: Any) -> dict[str, Any]:
    """The message with a per-node parity report (``nu.parity(..., per_node=True)``) laid over its nodes.

    A report entry matches the node that outputs its value; a node with several compared outputs keeps the
    worst. ``parity.first_drift`` is the id of the node of ``report.first_drift``.
    """
    if not getattr(report, "nodes", None):
        raise ValueError("this parity report has no per-node comparison: make it with "
                         "nu.parity(imported, reference, per_node=True)")
    producer = {value: node for node in message["nodes"] for argument in node["outputs"] for value in argument["values"]}
    missing = [entry.output for entry in report.nodes if entry.output not in producer]
    if len(missing) == len(report.nodes):
        raise ValueError("the parity report compares none of this graph's values: show the imported model the "
                         "report was made with (nu.show(imported, parity=report))")
    for entry in report.nodes:
        node = producer.get(entry.output)
        if node is None:
            continue
        current = node["parity"]
        if current is None or (current["ok"] and not entry.ok) or (
                current["ok"] == entry.ok and entry.max_abs_error > current["max_abs_error"]):
            node["parity"] = {"output": entry.output, "max_abs_error": _number(entry.max_abs_error),
                              "relative_error": _number(entry.relative_error), "ok": bool(entry.ok)}
    drift = report.first_drift
    tolerance = report.nodes[0].tolerance
    message["parity"] = {
        "a": report.a, "b": report.b, "max_abs_error": _number(max(entry.max_abs_error for entry in report.nodes)),
        "first_drift": producer[drift.output]["id"] if drift is not None and drift.output in producer else None,
        "tolerance": [float(tolerance[0]), float(tolerance[1])], "unobserved": len(report.unobserved),
    }
    return message


def _number(value: float) -> float | None:
    """JSON has no infinity: an unmeasurable error (a shape mismatch) is sent as null."""
    return float(value) if value == value and abs(value) != float("inf") else None


def _with_shapes(proto: Any) -> Any:
    if len(proto.graph.value_info) >= len(proto.graph.node) // 2:
        return proto
    import onnx

    from nbunify.convert.skeleton import split

    skeleton = split(proto)[0]
    try:
        inferred = onnx.shape_inference.infer_shapes(skeleton)
    except Exception:  # noqa: BLE001 - a graph without shapes is still a graph
        return proto
    result = onnx.ModelProto()
    result.CopyFrom(proto)
    result.graph.ClearField("value_info")
    result.graph.value_info.extend(inferred.graph.value_info)
    return result


def _value_info(info: Any) -> dict[str, Any]:
    tensor = info.type.tensor_type if info.type.HasField("tensor_type") else None
    if tensor is None:
        return {"dtype": info.type.WhichOneof("value") or None, "shape": None, "parameter": False, "count": 0}
    shape = None
    if tensor.HasField("shape"):
        shape = [dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or None) for dim in tensor.shape.dim]
    return {"dtype": _dtype_name(tensor.elem_type) if tensor.elem_type else None, "shape": shape,
            "parameter": False, "count": 0}


def _dtype_name(elem_type: int) -> str:
    import onnx

    try:
        return str(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        return onnx.TensorProto.DataType.Name(elem_type).lower()


def _arguments(node: Any, names: Iterable[str], opset: int, which: str) -> list[dict[str, Any]]:
    """Formal parameter names from the op schema (a variadic one takes the rest); positions when unknown."""
    import onnx

    names = list(names)
    try:
        schema = onnx.defs.get_schema(node.op_type, opset or onnx.defs.onnx_opset_version(), node.domain)
        formal = schema.inputs if which == "inputs" else schema.outputs
    except Exception:  # noqa: BLE001 - a custom op has no schema
        formal = []
    arguments, position = [], 0
    for parameter in formal:
        if position >= len(names):
            break
        variadic = parameter.option == onnx.defs.OpSchema.FormalParameterOption.Variadic
        taken = names[position:] if variadic else names[position:position + 1]
        arguments.append({"name": parameter.name, "values": taken})
        position += len(taken)
    arguments.extend({"name": str(index), "values": [name]} for index, name in enumerate(names[position:], position))
    return arguments


def _attribute(attribute: Any) -> Any:
    import onnx

    kind = attribute.type
    if kind == onnx.AttributeProto.TENSOR:
        tensor = attribute.t
        dims = "x".join(str(size) for size in tensor.dims)
        return f"tensor {_dtype_name(tensor.data_type)}[{dims}]"
    if kind in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        graphs = [attribute.g] if kind == onnx.AttributeProto.GRAPH else list(attribute.graphs)
        return ", ".join(f"graph of {len(graph.node)} nodes" for graph in graphs)
    if kind in (onnx.AttributeProto.TENSORS, onnx.AttributeProto.SPARSE_TENSOR, onnx.AttributeProto.SPARSE_TENSORS,
                onnx.AttributeProto.TYPE_PROTO, onnx.AttributeProto.TYPE_PROTOS):
        return onnx.AttributeProto.AttributeType.Name(kind).lower()
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        value = [item.decode("utf-8", "replace") if isinstance(item, bytes) else item for item in value]
        if len(value) > MAX_LIST:
            shown = ", ".join(str(item) for item in value[:8])
            return f"[{shown}, ... {len(value)} values]"
        return [_plain(item) for item in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and (value != value or abs(value) == float("inf")):
        return str(value)
    return value
