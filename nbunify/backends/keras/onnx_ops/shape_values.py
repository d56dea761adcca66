"""Shape vectors known in part at import time (static sizes, None where the batch decides), for Reshape targets."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import Context, channels_first_permutation

#: How many producers back a shape vector is followed (torch's attention shape arithmetic takes about six).
DEPTH = 12
_ARITHMETIC = {"Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
               "Div": lambda a, b: abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)}  # ONNX Div truncates


def partial_shape(context: Context, name: str, depth: int = DEPTH) -> list[int | None] | None:
    """The integer vector (or scalar, as a list of one) ``name`` holds, an entry None where it depends on run-time
    sizes; None when the producers are not plain shape arithmetic (Shape, Gather, (Un)Squeeze, Concat, Cast, Slice,
    Add/Sub/Mul/Div by integers) on values whose inferred shapes ONNX knows."""
    if context.is_static(name):
        value = np.asarray(context.value(name))
        return [int(item) for item in value.reshape(-1)] if value.dtype.kind in "iu" and value.ndim <= 1 else None
    node = context.producers.get(name)
    if node is None or depth == 0 or node.domain not in ("", "ai.onnx"):
        return None
    return _evaluated(context, node, depth - 1)


def _evaluated(context: Context, node: Any, depth: int) -> list[int | None] | None:
    op = node.op_type
    if op == "Shape":
        shape = _known_shape(context, node.inputs[0])
        return None if shape is None else shape[node.attrs.get("start", 0):node.attrs.get("end")]
    operands = [partial_shape(context, name, depth) if name else None for name in node.inputs]
    first = operands[0]
    if first is None:
        return None
    if op in ("Unsqueeze", "Squeeze", "Cast", "Identity"):
        return first if len(first) == 1 or op in ("Cast", "Identity") else None
    if op == "Concat":
        return None if any(part is None for part in operands) else [item for part in operands for item in part]
    if op == "Gather":
        indices = operands[1]
        if indices is None or None in indices or node.attrs.get("axis", 0) != 0:
            return None
        return [first[index] for index in indices]
    if op == "Slice" and all(part is not None and None not in part for part in operands[1:]):
        starts, ends = operands[1], operands[2]
        steps = operands[4] if len(operands) > 4 else [1]
        return first[starts[0]:ends[0]:steps[0]] if len(starts) == 1 else None
    if op in _ARITHMETIC and operands[1] is not None:
        second = operands[1]
        if len(first) != len(second) and 1 not in (len(first), len(second)):
            return None
        pairs = zip(first * len(second) if len(first) == 1 else first, second * len(first) if len(second) == 1 else second)
        return [None if a is None or b is None else _ARITHMETIC[op](a, b) for a, b in pairs]
    return None


def _known_shape(context: Context, name: str) -> list[int | None] | None:
    """Each size of ``name`` that ONNX shape inference or the keras tensor built for it knows (a reshape to a
    partly known target gives keras sizes ONNX left open)."""
    inferred = context.graph.shape(name)
    held = None
    if name in context.values and hasattr(context.values[name], "shape"):
        held = list(context.values[name].shape)
    elif name in context.channels_last:
        laid = list(context.channels_last[name].shape)
        held = [laid[axis] for axis in channels_first_permutation(len(laid))]
    if inferred is None or held is None or len(held) != len(inferred):
        return list(inferred) if inferred is not None else held
    return [size if size is not None else other for size, other in zip(inferred, held)]
