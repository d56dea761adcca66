"""Shape arithmetic kept symbolic at import: Shape -> Gather/Unsqueeze/Concat/Slice/Cast/+-*/ chains as ShapeValues.

Exporters compute reshape targets from ``Shape`` at run time so the batch stays dynamic; done with tensors, that
is a dozen tiny ops per Reshape. Here the chain is evaluated once at import on Python ints and ``x.size(i)`` fx
nodes; each rule returns None when its inputs are not symbolic, and the converter then builds tensor ops.
"""

from __future__ import annotations

import operator

import numpy as np
import torch

from nbunify.backends.torch.onnx_import import Builder, ShapeValue, torch_dtype
from nbunify.convert.onnx_graph import Node


def shape(builder: Builder, node: Node) -> ShapeValue | None:
    dims = builder.graph.shape(node.inputs[0])
    known = builder.dims.get(node.inputs[0])
    if known is not None and (dims is None or len(dims) == len(known)):
        dims = [size if size is not None else other for size, other in zip(known, dims or known)]
    if dims is None:
        return None
    x = builder.tensor(node.inputs[0])
    rank = len(dims)
    start, end = int(node.attrs.get("start", 0)), node.attrs.get("end")
    indices = range(rank)[slice(start, None if end is None else int(end))]
    # Dimensions the model fixes stay ints (onnxruntime refuses other sizes too); the others are asked at run time.
    return ShapeValue([dims[index] if dims[index] is not None else builder.method("size", x, index)
                       for index in indices])


def gather(builder: Builder, node: Node) -> ShapeValue | None:
    data = builder.symbolic(node.inputs[0])
    if data is None or data.scalar or int(node.attrs.get("axis", 0)) != 0 or not builder.is_static(node.inputs[1]):
        return None
    indices = np.asarray(builder.value(node.inputs[1]))
    if indices.ndim > 1:
        return None
    picked = [data.items[int(index)] for index in indices.reshape(-1)]
    return ShapeValue(picked, indices.ndim == 0, data.dtype)


def unsqueeze(builder: Builder, node: Node, axes: list[int] | None) -> ShapeValue | None:
    data = builder.symbolic(node.inputs[0])
    if data is None or not data.scalar or axes is None or list(axes) not in ([0], [-1]):
        return None
    return ShapeValue(data.items, False, data.dtype)


def squeeze(builder: Builder, node: Node, axes: list[int] | None) -> ShapeValue | None:
    data = builder.symbolic(node.inputs[0])
    if data is None or data.scalar or len(data.items) != 1 or (axes is not None and list(axes) not in ([0], [-1])):
        return None
    return ShapeValue(data.items, True, data.dtype)


def concat(builder: Builder, node: Node) -> ShapeValue | None:
    parts = [builder.symbolic(name) for name in node.inputs]
    if any(part is None or part.scalar for part in parts) or not any(name in builder.values for name in node.inputs):
        return None
    return ShapeValue([item for part in parts for item in part.items], False, parts[0].dtype)


def slice_(builder: Builder, node: Node) -> ShapeValue | None:
    data = builder.symbolic(node.inputs[0])
    names = [node.input(index) for index in range(1, 5)]
    if data is None or data.scalar or not all(not name or builder.is_static(name) for name in names):
        return None
    starts, ends, axes, steps = (builder.ints(name) for name in names)
    if len(starts) != 1 or (axes is not None and axes[0] not in (0, -1)):
        return None
    return ShapeValue(data.items[slice(starts[0], ends[0], steps[0] if steps else 1)], False, data.dtype)


def cast(builder: Builder, node: Node) -> ShapeValue | None:
    data = builder.symbolic(node.inputs[0])
    target = torch_dtype(int(node.attrs["to"]))
    if data is None or target not in (torch.int64, torch.int32):
        return None
    return ShapeValue(data.items, data.scalar, target)


def _truncating_division(left, right):
    return int(left / right) if isinstance(left, int) and isinstance(right, int) else left // right


_ARITHMETIC = {"Add": operator.add, "Sub": operator.sub, "Mul": operator.mul, "Div": _truncating_division}


def arithmetic(builder: Builder, node: Node) -> ShapeValue | None:
    left, right = builder.symbolic(node.inputs[0]), builder.symbolic(node.inputs[1])
    if (left is None or right is None or node.op_type not in _ARITHMETIC
            or not any(name in builder.values for name in node.inputs[:2])):
        return None
    if len(left.items) != len(right.items) and 1 not in (len(left.items), len(right.items)):
        return None
    count = max(len(left.items), len(right.items))
    lefts = left.items * count if len(left.items) == 1 else left.items
    rights = right.items * count if len(right.items) == 1 else right.items
    function = _ARITHMETIC[node.op_type]
    items = [function(a, b) if isinstance(a, int) and isinstance(b, int) else builder.call(function, a, b)
             for a, b in zip(lefts, rights)]
    return ShapeValue(items, left.scalar and right.scalar, left.dtype)
