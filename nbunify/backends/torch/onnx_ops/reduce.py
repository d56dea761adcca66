"""Reduction ONNX ops: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare, ArgMax, ArgMin."""

from __future__ import annotations

import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node


def _extreme(x, dims, keepdim, largest: bool):
    if x.numel() == 0:  # torch refuses empty reductions; ONNX gives the identity (-inf for max, +inf for min)
        shape = [1 if index in dims else size for index, size in enumerate(x.shape)] if keepdim else [
            size for index, size in enumerate(x.shape) if index not in dims]
        fill = float("-inf") if largest else float("inf")
        if not x.is_floating_point():
            fill = torch.iinfo(x.dtype).min if largest else torch.iinfo(x.dtype).max
        return torch.full(shape, fill, dtype=x.dtype, device=x.device)
    if x.dtype == torch.bool:
        return (x.any if largest else x.all)(dims, keepdim=keepdim) if len(dims) == 1 else (
            x.to(torch.uint8).amax(dims, keepdim) if largest else x.to(torch.uint8).amin(dims, keepdim)).bool()
    return x.amax(dims, keepdim) if largest else x.amin(dims, keepdim)


def _product(x, dims, keepdim):
    for dim in sorted(dims, reverse=True):
        x = torch.prod(x, dim, keepdim=keepdim, dtype=x.dtype)
    return x


_KINDS = {
    "ReduceSum": lambda x, dims, keep: torch.sum(x, dims, keepdim=keep, dtype=x.dtype),
    "ReduceMean": lambda x, dims, keep: torch.mean(x, dims, keepdim=keep),
    "ReduceMax": lambda x, dims, keep: _extreme(x, dims, keep, True),
    "ReduceMin": lambda x, dims, keep: _extreme(x, dims, keep, False),
    "ReduceProd": _product,
    "ReduceL1": lambda x, dims, keep: torch.sum(torch.abs(x), dims, keepdim=keep, dtype=x.dtype),
    "ReduceL2": lambda x, dims, keep: torch.sqrt(torch.sum(x * x, dims, keepdim=keep)).to(x.dtype),
    "ReduceLogSum": lambda x, dims, keep: torch.log(torch.sum(x, dims, keepdim=keep)),
    "ReduceLogSumExp": lambda x, dims, keep: torch.logsumexp(x, dims, keepdim=keep),
    "ReduceSumSquare": lambda x, dims, keep: torch.sum(x * x, dims, keepdim=keep, dtype=x.dtype),
}


def _reduce(kind: str, x, axes, keepdims: int, noop: int):
    if axes is not None and not isinstance(axes, list):
        axes = [int(axis) for axis in axes.reshape(-1).tolist()]
    if not axes:
        if noop:
            return x
        axes = list(range(x.dim()))
    dims = sorted({axis % x.dim() for axis in axes}) if x.dim() else []
    if not dims:
        return _KINDS[kind](x.reshape(1), [0], False).reshape(x.shape) if x.dim() == 0 else x
    return _KINDS[kind](x, dims, bool(keepdims))


@REGISTRY.register("ReduceSum", 11, 13)
@REGISTRY.register("ReduceMean", 11, 13, 18)
@REGISTRY.register("ReduceMax", 11, 12, 13, 18, 20)
@REGISTRY.register("ReduceMin", 11, 12, 13, 18, 20)
@REGISTRY.register("ReduceProd", 11, 13, 18)
@REGISTRY.register("ReduceL1", 11, 13, 18)
@REGISTRY.register("ReduceL2", 11, 13, 18)
@REGISTRY.register("ReduceLogSum", 11, 13, 18)
@REGISTRY.register("ReduceLogSumExp", 11, 13, 18)
@REGISTRY.register("ReduceSumSquare", 11, 13, 18)
def reduce(builder: Builder, node: Node):
    x = builder.tensor(node.inputs[0])
    if node.attrs.get("axes") is not None:  # the attribute, before axes became an input
        axes = [int(axis) for axis in node.attrs["axes"]]
    elif node.input(1):
        axes = builder.ints(node.input(1)) if builder.is_static(node.input(1)) else builder.tensor(node.input(1))
    else:
        axes = None
    return builder.call(_reduce, node.op_type, x, axes, int(node.attrs.get("keepdims", 1)),
                        int(node.attrs.get("noop_with_empty_axes", 0)))


def _arg(x, axis: int, keepdims: int, last: int, largest: bool):
    function = torch.argmax if largest else torch.argmin
    if not last:
        return function(x, axis, keepdim=bool(keepdims))
    # The last extreme of x is the first one of x reversed along the axis.
    index = function(x.flip(axis), axis, keepdim=bool(keepdims))
    return x.shape[axis] - 1 - index


@REGISTRY.register("ArgMax", 11, 12, 13)
@REGISTRY.register("ArgMin", 11, 12, 13)
def arg_extreme(builder: Builder, node: Node):
    return builder.call(_arg, builder.tensor(node.inputs[0]), int(node.attrs.get("axis", 0)),
                        int(node.attrs.get("keepdims", 1)), int(node.attrs.get("select_last_index", 0)),
                        node.op_type == "ArgMax")
