"""Reduction converters: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare, ArgMax/ArgMin."""

from __future__ import annotations

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, axis_list

_NARROW = (paddle.int8, paddle.uint8, paddle.int16, paddle.float16, paddle.bfloat16, paddle.bool)

#: Each reduction: the paddle function over (tensor, axes, keepdim), and its value over an empty set.
_REDUCTIONS = {
    "ReduceSum": (paddle.sum, 0.0),
    "ReduceMean": (paddle.mean, float("nan")),
    "ReduceMax": (paddle.amax, float("-inf")),
    "ReduceMin": (paddle.amin, float("inf")),
    "ReduceProd": (paddle.prod, 1.0),
    "ReduceL1": (lambda tensor, axis, keepdim: paddle.sum(paddle.abs(tensor), axis, keepdim=keepdim), 0.0),
    "ReduceL2": (lambda tensor, axis, keepdim: paddle.sqrt(paddle.sum(tensor * tensor, axis, keepdim=keepdim)), 0.0),
    "ReduceSumSquare": (lambda tensor, axis, keepdim: paddle.sum(tensor * tensor, axis, keepdim=keepdim), 0.0),
    "ReduceLogSum": (lambda tensor, axis, keepdim: paddle.log(paddle.sum(tensor, axis, keepdim=keepdim)),
                     float("-inf")),
    "ReduceLogSumExp": (paddle.logsumexp, float("-inf")),
}


def _empty_value(dtype, value):
    """The empty-set value in an integer dtype: +-inf become the dtype's extremes."""
    if np.issubdtype(dtype, np.integer) and not np.isfinite(value):
        info = np.iinfo(dtype)
        return info.max if value > 0 else info.min
    return value


@REGISTRY.register("ReduceSum", 1, 11, 13)
@REGISTRY.register("ReduceMean", 1, 11, 13, 18)
@REGISTRY.register("ReduceMax", 1, 11, 12, 13, 18, 20)
@REGISTRY.register("ReduceMin", 1, 11, 12, 13, 18, 20)
@REGISTRY.register("ReduceProd", 1, 11, 13, 18)
@REGISTRY.register("ReduceL1", 1, 11, 13, 18)
@REGISTRY.register("ReduceL2", 1, 11, 13, 18)
@REGISTRY.register("ReduceSumSquare", 1, 11, 13, 18)
@REGISTRY.register("ReduceLogSum", 1, 11, 13, 18)
@REGISTRY.register("ReduceLogSumExp", 1, 11, 13, 18)
def reduce(node, context):
    function, empty = _REDUCTIONS[node.op_type]
    keepdim, noop = bool(node.attrs.get("keepdims", 1)), bool(node.attrs.get("noop_with_empty_axes", 0))
    if "axes" in node.attrs:
        axes = axis_list(node.attrs["axes"])
    elif node.input(1) and context.is_static(node.input(1)):
        axes = axis_list(context.value(node.input(1)))
    elif node.input(1):
        axes = "runtime"
    else:
        axes = []

    def run(tensor, runtime_axes=None):
        chosen = axis_list(runtime_axes.numpy()) if axes == "runtime" else axes
        if not chosen:
            if noop:
                return tensor
            chosen = list(range(tensor.ndim))
        chosen = sorted(axis % tensor.ndim for axis in chosen) if tensor.ndim else []
        if any(tensor.shape[axis] == 0 for axis in chosen):
            shape = [1 if axis in chosen else size for axis, size in enumerate(tensor.shape)] if keepdim else [
                size for axis, size in enumerate(tensor.shape) if axis not in chosen]
            dtype = np.dtype(str(tensor.numpy().dtype))
            return paddle.full(shape, _empty_value(dtype, empty), tensor.dtype)
        wide = tensor
        if tensor.dtype in _NARROW:
            wide = tensor.astype("float32" if tensor.dtype in (paddle.float16, paddle.bfloat16) else "int64")
        if tensor.ndim == 0:
            return function(wide, None, keepdim=False).astype(tensor.dtype)
        return function(wide, chosen, keepdim=keepdim).astype(tensor.dtype)

    return run


@REGISTRY.register("ArgMax", 1, 11, 12, 13)
@REGISTRY.register("ArgMin", 1, 11, 12, 13)
def arg_extreme(node, context):
    function = paddle.argmax if node.op_type == "ArgMax" else paddle.argmin
    axis, keepdim = int(node.attrs.get("axis", 0)), bool(node.attrs.get("keepdims", 1))
    last = bool(node.attrs.get("select_last_index", 0))

    def run(tensor):
        position = axis % tensor.ndim
        wide = tensor.astype("float32") if tensor.dtype in _NARROW else tensor
        if not last:
            return function(wide, position, keepdim=keepdim, dtype="int64")
        flipped = function(paddle.flip(wide, [position]), position, keepdim=keepdim, dtype="int64")
        return tensor.shape[position] - 1 - flipped

    return run
