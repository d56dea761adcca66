"""Index ONNX ops (the rest of the shape family): scatters, OneHot, NonZero, Trilu, CumSum, TopK."""

from __future__ import annotations

import math
import operator

import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder, torch_dtype
from nbunify.convert.onnx_graph import Node

#: ONNX reduction names as torch's scatter_reduce / index_reduce names.
_REDUCTIONS = {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}


def _positive(indices, size):
    return torch.where(indices < 0, indices + size, indices).long()


def _scatter_elements(data, indices, updates, axis: int, reduction: str):
    indices = _positive(indices, data.shape[axis])
    if reduction == "none":
        return torch.scatter(data, axis, indices, updates)
    return torch.scatter_reduce(data, axis, indices, updates, _REDUCTIONS[reduction], include_self=True)


@REGISTRY.register("ScatterElements", 11, 13, 16, 18)
def scatter_elements(builder: Builder, node: Node):
    return builder.call(_scatter_elements, *builder.inputs(node)[:3], int(node.attrs.get("axis", 0)),
                        node.attrs.get("reduction", "none"))


def _scatter_nd(data, indices, updates, reduction: str):
    depth = indices.shape[-1]
    sizes = torch.tensor(data.shape[:depth], device=data.device)
    indices = _positive(indices, sizes)
    strides = torch.tensor([math.prod(data.shape[index + 1:depth]) for index in range(depth)], device=data.device)
    linear = (indices * strides).sum(-1).reshape(-1)  # position in data flattened over its first ``depth`` dims
    flat = data.reshape(-1, *data.shape[depth:]).clone()
    rows = updates.reshape(-1, *data.shape[depth:])
    if reduction == "none":
        flat[linear] = rows
    elif reduction == "add":
        flat.index_add_(0, linear, rows)
    else:
        index = linear.reshape(-1, *[1] * (rows.dim() - 1)).expand_as(rows)
        flat.scatter_reduce_(0, index, rows, _REDUCTIONS[reduction], include_self=True)
    return flat.reshape(data.shape)


@REGISTRY.register("ScatterND", 11, 13, 16, 18)
def scatter_nd(builder: Builder, node: Node):
    return builder.call(_scatter_nd, *builder.inputs(node)[:3], node.attrs.get("reduction", "none"))


def _one_hot(indices, depth, values, axis: int):
    depth = int(depth.reshape(-1)[0].item())
    indices = indices.long() if not indices.is_floating_point() else indices.trunc().long()
    indices = torch.where(indices < 0, indices + depth, indices)
    hot = indices.unsqueeze(-1) == torch.arange(depth, device=indices.device)  # out of range: all "off"
    hot = hot.movedim(-1, axis % hot.dim())
    return torch.where(hot, values[1], values[0])


@REGISTRY.register("OneHot", 11)
def one_hot(builder: Builder, node: Node):
    return builder.call(_one_hot, *builder.inputs(node)[:3], int(node.attrs.get("axis", -1)))


def _non_zero(x):
    return torch.nonzero(x).t().contiguous()


@REGISTRY.register("NonZero", 9, 13)
def non_zero(builder: Builder, node: Node):
    return builder.call(_non_zero, builder.tensor(node.inputs[0]))


def _trilu(x, k, upper: int):
    diagonal = int(k.item()) if isinstance(k, torch.Tensor) else int(k)
    return torch.triu(x, diagonal) if upper else torch.tril(x, diagonal)


@REGISTRY.register("Trilu", 14)
def trilu(builder: Builder, node: Node):
    k = node.input(1)
    k = int(builder.value(k)) if builder.is_static(k) else builder.tensor(k) if k else 0
    return builder.call(_trilu, builder.tensor(node.inputs[0]), k, int(node.attrs.get("upper", 1)))


def _cumsum(x, axis, exclusive: int, reverse: int):
    axis = int(axis.item()) if isinstance(axis, torch.Tensor) else int(axis)
    if reverse:
        x = x.flip(axis)
    y = torch.cumsum(x, axis, dtype=x.dtype)  # torch would widen integers to int64
    if exclusive:
        y = (y - x)
    return y.flip(axis) if reverse else y


@REGISTRY.register("CumSum", 11, 14)
def cumsum(builder: Builder, node: Node):
    axis = int(builder.value(node.inputs[1])) if builder.is_static(node.inputs[1]) else builder.tensor(node.inputs[1])
    return builder.call(_cumsum, builder.tensor(node.inputs[0]), axis, int(node.attrs.get("exclusive", 0)),
                        int(node.attrs.get("reverse", 0)))


def _top_k(x, k, axis: int, largest: int, sorted_: int):
    k = int(k.reshape(-1)[0].item()) if isinstance(k, torch.Tensor) else int(k)
    # A stable sort keeps ONNX's tie rule (the lower index first); torch.topk does not promise it.
    values, indices = torch.sort(x, dim=axis, descending=bool(largest), stable=True)
    return values.narrow(axis, 0, k), indices.narrow(axis, 0, k)


@REGISTRY.register("TopK", 11)
def top_k(builder: Builder, node: Node):
    k = builder.ints(node.inputs[1])[0] if builder.is_static(node.inputs[1]) else builder.tensor(node.inputs[1])
    pair = builder.call(_top_k, builder.tensor(node.inputs[0]), k, int(node.attrs.get("axis", -1)),
                        int(node.attrs.get("largest", 1)), int(node.attrs.get("sorted", 1)))
    return [builder.call(operator.getitem, pair, 0), builder.call(operator.getitem, pair, 1)]


def _eye_like(x, k: int, dtype):
    rows, columns = x.shape
    eye = torch.arange(columns, device=x.device).unsqueeze(0) - torch.arange(rows, device=x.device).unsqueeze(1) == k
    return eye.to(dtype if dtype is not None else x.dtype)


@REGISTRY.register("EyeLike", 9, 22)
def eye_like(builder: Builder, node: Node):
    dtype = node.attrs.get("dtype")
    return builder.call(_eye_like, builder.tensor(node.inputs[0]), int(node.attrs.get("k", 0)),
                        torch_dtype(int(dtype)) if dtype else None)


def _compress(x, condition, axis):
    if axis is None:
        x, axis = x.reshape(-1), 0
    keep = torch.nonzero(condition.reshape(-1)[:x.shape[axis]]).reshape(-1)
    return x.index_select(axis, keep)


@REGISTRY.register("Compress", 11)
def compress(builder: Builder, node: Node):
    axis = node.attrs.get("axis")
    return builder.call(_compress, *builder.inputs(node)[:2], None if axis is None else int(axis))


def _reverse_sequence(x, lengths, batch_axis: int, time_axis: int):
    steps = x.shape[time_axis]
    time = torch.arange(steps, device=x.device).unsqueeze(0)  # (1, T)
    lengths = lengths.long().unsqueeze(1)  # (B, 1)
    source = torch.where(time < lengths, lengths - 1 - time, time)  # (B, T): reversed inside each length
    shape = [1] * x.dim()
    shape[batch_axis], shape[time_axis] = source.shape[0], steps
    if batch_axis > time_axis:
        source = source.t()
    return torch.gather(x, time_axis, source.reshape(shape).expand_as(x))


@REGISTRY.register("ReverseSequence", 10)
def reverse_sequence(builder: Builder, node: Node):
    return builder.call(_reverse_sequence, *builder.inputs(node)[:2], int(node.attrs.get("batch_axis", 1)),
                        int(node.attrs.get("time_axis", 0)))


def _unique(x, axis, sorted_: int):
    values, inverse, counts = torch.unique(x if axis is not None else x.reshape(-1), sorted=True, return_inverse=True,
                                           return_counts=True, dim=axis)
    positions = torch.arange(inverse.numel(), device=x.device)
    first = torch.full((counts.numel(),), inverse.numel(), dtype=torch.int64, device=x.device)
    first = first.scatter_reduce(0, inverse, positions, "amin")  # where each unique value first occurs
    if not sorted_:  # in order of first occurrence
        order = torch.argsort(first)
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.numel(), device=x.device)
        values = values.index_select(axis if axis is not None else 0, order)
        first, inverse, counts = first[order], rank[inverse], counts[order]
    return values, first, inverse, counts


@REGISTRY.register("Unique", 11)
def unique(builder: Builder, node: Node):
    axis = node.attrs.get("axis")
    result = builder.call(_unique, builder.tensor(node.inputs[0]), None if axis is None else int(axis),
                          int(node.attrs.get("sorted", 1)))
    return [builder.call(operator.getitem, result, index) for index in range(len(node.outputs))]
