"""Shape ONNX ops: reshaping, slicing, gathering, scattering, padding, casting and index-producing ops."""

from __future__ import annotations

import math
import operator

import numpy as np
import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder, torch_dtype
from nbunify.backends.torch.onnx_ops import symbolic
from nbunify.convert.onnx_graph import Node


def _ints(values) -> list[int]:
    """A runtime shape/index tensor (or list) as Python ints."""
    return [int(value) for value in (values.reshape(-1).tolist() if isinstance(values, torch.Tensor) else values)]


def _reshape(x, shape, allowzero: int):
    shape = _ints(shape)
    if not allowzero:  # 0 copies the input's dimension
        shape = [x.shape[index] if size == 0 else size for index, size in enumerate(shape)]
    return x.reshape(shape)


@REGISTRY.register("Reshape", 5, 13, 14, 19, 21)
def reshape(builder: Builder, node: Node):
    x = builder.tensor(node.inputs[0])
    allowzero = int(node.attrs.get("allowzero", 0))
    target = builder.symbolic(node.inputs[1])
    if target is None:
        return builder.call(_reshape, x, builder.tensor(node.inputs[1]), allowzero)
    shape = target.items
    if not allowzero:  # copying a dimension: ask for it at run time, so a dynamic batch stays dynamic
        known = builder.graph.shape(node.inputs[0]) or ()
        shape = [(known[index] if index < len(known) and known[index] is not None
                  else builder.method("size", x, index)) if isinstance(size, int) and size == 0 else size
                 for index, size in enumerate(shape)]
    # What is fixed here stays known to Shape ops downstream (shape inference cannot see through symbolic targets).
    builder.dims[node.outputs[0]] = [size if isinstance(size, int) and size >= 0 else None for size in shape]
    return builder.method("reshape", x, shape)


def _flatten(x, axis: int):
    axis = axis % x.dim() if x.dim() else 0
    return x.reshape(math.prod(x.shape[:axis]), -1)


@REGISTRY.register("Flatten", 11, 13, 21)
def flatten(builder: Builder, node: Node):
    axis = int(node.attrs.get("axis", 1))
    shape = builder.graph.shape(node.inputs[0])
    if axis == 1 and shape is not None and len(shape) >= 2:
        return builder.call(torch.flatten, builder.tensor(node.inputs[0]), 1)
    return builder.call(_flatten, builder.tensor(node.inputs[0]), axis)


def _transpose(x, perm):
    return x.permute(perm if perm is not None else list(reversed(range(x.dim()))))


@REGISTRY.register("Transpose", 1, 13, 21)
def transpose(builder: Builder, node: Node):
    perm = node.attrs.get("perm")
    if perm is not None:
        return builder.method("permute", builder.tensor(node.inputs[0]), list(perm))
    return builder.call(_transpose, builder.tensor(node.inputs[0]), None)


def _axes(builder: Builder, node: Node, input_index: int = 1):
    """Axes from the attribute (older versions) or the input (newer; a list when static), None when not given."""
    if "axes" in node.attrs and node.attrs["axes"] is not None:
        return [int(axis) for axis in node.attrs["axes"]]
    name = node.input(input_index)
    if not name:
        return None
    return builder.ints(name) if builder.is_static(name) else builder.tensor(name)


def _squeeze(x, axes):
    if axes is None:
        return torch.squeeze(x)
    axes = _ints(axes)
    return torch.squeeze(x, tuple(axes)) if axes else x


@REGISTRY.register("Squeeze", 11, 13, 21)
def squeeze(builder: Builder, node: Node):
    folded = symbolic.squeeze(builder, node, _axes(builder, node))
    if folded is not None:
        return folded
    axes = _axes(builder, node)
    if isinstance(axes, list) and axes:
        return builder.call(torch.squeeze, builder.tensor(node.inputs[0]), tuple(axes))
    return builder.call(_squeeze, builder.tensor(node.inputs[0]), axes)


def _unsqueeze(x, axes):
    axes = _ints(axes)
    rank = x.dim() + len(axes)
    for axis in sorted(axis % rank for axis in axes):
        x = x.unsqueeze(axis)
    return x


@REGISTRY.register("Unsqueeze", 11, 13, 21)
def unsqueeze(builder: Builder, node: Node):
    folded = symbolic.unsqueeze(builder, node, _axes(builder, node))
    if folded is not None:
        return folded
    axes = _axes(builder, node)
    shape = builder.graph.shape(node.inputs[0]) or builder.dims.get(node.inputs[0])
    if isinstance(axes, list) and len(axes) == 1 and shape is not None:
        return builder.method("unsqueeze", builder.tensor(node.inputs[0]), axes[0] % (len(shape) + 1))
    return builder.call(_unsqueeze, builder.tensor(node.inputs[0]), axes)


@REGISTRY.register("Concat", 11, 13)
def concat(builder: Builder, node: Node):
    folded = symbolic.concat(builder, node)
    if folded is not None:
        return folded
    return builder.call(torch.cat, builder.inputs(node), int(node.attrs["axis"]))


def _split(x, axis: int, sizes, count: int, ceil: bool):
    if sizes is None:
        length = x.shape[axis]
        sizes = math.ceil(length / count) if ceil else length // count
    return torch.split(x, sizes if isinstance(sizes, int) else _ints(sizes), axis)


@REGISTRY.register("Split", 11, 13, 18)
def split(builder: Builder, node: Node):
    axis = int(node.attrs.get("axis", 0))
    sizes = node.attrs.get("split") or None
    if sizes is None and node.input(1):
        sizes = builder.ints(node.input(1)) if builder.is_static(node.input(1)) else builder.tensor(node.input(1))
    count = int(node.attrs.get("num_outputs") or len(node.outputs))
    parts = builder.call(_split, builder.tensor(node.inputs[0]), axis, sizes, count, builder.since(node) >= 18)
    return [builder.call(operator.getitem, parts, index) for index in range(len(node.outputs))]


def _slice(x, starts, ends, axes, steps):
    starts, ends = _ints(starts), _ints(ends)
    axes = _ints(axes) if axes is not None else list(range(len(starts)))
    steps = _ints(steps) if steps is not None else [1] * len(starts)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis %= x.dim()
        first, stop, step = slice(start, end, step).indices(x.shape[axis])  # Python clamps exactly as ONNX
        if step > 0:
            x = x[(slice(None),) * axis + (slice(first, stop, step),)]
        else:
            index = torch.arange(first, stop, step, device=x.device)
            x = x.index_select(axis, index)
    return x


@REGISTRY.register("Slice", 11, 13)
def slice_(builder: Builder, node: Node):
    folded = symbolic.slice_(builder, node)
    if folded is not None:
        return folded
    x = builder.tensor(node.inputs[0])
    names = [node.input(index) for index in range(1, 5)]
    if all(not name or builder.is_static(name) for name in names):
        starts, ends, axes, steps = (builder.ints(name) for name in names)
        if steps is None or all(step > 0 for step in steps):
            rank = builder.rank(node.inputs[0]) if builder.graph.shape(node.inputs[0]) is not None else None
            if rank is not None:
                axes = [axis % rank for axis in (axes if axes is not None else range(len(starts)))]
                index = [slice(None)] * (max(axes) + 1)
                for start, end, axis, step in zip(starts, ends, axes, steps or [1] * len(starts)):
                    index[axis] = slice(start, end, step)
                return builder.call(operator.getitem, x, tuple(index))
        return builder.call(_slice, x, starts, ends, axes, steps)
    return builder.call(_slice, x, *(builder.tensor(name) if name else None for name in names))


def _gather(x, indices, axis: int):
    # Advanced indexing takes negative indices as ONNX does, and any index shape, in one op.
    if indices.dtype != torch.int64:
        indices = indices.long()
    return x[(slice(None),) * (axis % x.dim()) + (indices,)]


@REGISTRY.register("Gather", 11, 13)
def gather(builder: Builder, node: Node):
    folded = symbolic.gather(builder, node)
    if folded is not None:
        return folded
    x, axis = builder.tensor(node.inputs[0]), int(node.attrs.get("axis", 0))
    if builder.is_static(node.inputs[1]) and np.ndim(builder.value(node.inputs[1])) == 0:
        return builder.method("select", x, axis, int(builder.value(node.inputs[1])))
    return builder.call(_gather, x, builder.tensor(node.inputs[1]), axis)


def _positive(indices, size):
    return torch.where(indices < 0, indices + size, indices).long()


def _gather_elements(x, indices, axis: int):
    return torch.gather(x, axis, _positive(indices, x.shape[axis]))


@REGISTRY.register("GatherElements", 11, 13)
def gather_elements(builder: Builder, node: Node):
    return builder.call(_gather_elements, *builder.inputs(node)[:2], int(node.attrs.get("axis", 0)))


def _gather_nd(data, indices, batch_dims: int):
    depth = indices.shape[-1]
    batch = math.prod(data.shape[:batch_dims])
    sizes = torch.tensor(data.shape[batch_dims:batch_dims + depth], device=data.device)
    flat_indices = _positive(indices, sizes).reshape(batch, -1, depth)
    flat_data = data.reshape(batch, *data.shape[batch_dims:])
    rows = torch.arange(batch, device=data.device).unsqueeze(1)
    picked = flat_data[(rows, *flat_indices.unbind(-1))]
    return picked.reshape(*indices.shape[:-1], *data.shape[batch_dims + depth:])


@REGISTRY.register("GatherND", 11, 12, 13)
def gather_nd(builder: Builder, node: Node):
    return builder.call(_gather_nd, *builder.inputs(node)[:2], int(node.attrs.get("batch_dims", 0)))


def _shape(x, start: int, end: int | None):
    return torch.tensor(x.shape[start:end], dtype=torch.int64)


@REGISTRY.register("Shape", 1, 13, 15, 19, 21)
def shape(builder: Builder, node: Node):
    folded = symbolic.shape(builder, node)
    if folded is not None:
        return folded
    end = node.attrs.get("end")
    return builder.call(_shape, builder.tensor(node.inputs[0]), int(node.attrs.get("start", 0)),
                        None if end is None else int(end))


def _size(x):
    return torch.tensor(x.numel(), dtype=torch.int64)


@REGISTRY.register("Size", 1, 13, 19, 21)
def size(builder: Builder, node: Node):
    return builder.call(_size, builder.tensor(node.inputs[0]))


def _expand(x, shape):
    return x.expand(torch.broadcast_shapes(x.shape, tuple(_ints(shape))))


@REGISTRY.register("Expand", 8, 13)
def expand(builder: Builder, node: Node):
    target = builder.symbolic(node.inputs[1])
    shape = target.items if target is not None else builder.tensor(node.inputs[1])
    return builder.call(_expand, builder.tensor(node.inputs[0]), shape)


def _tile(x, repeats):
    return x.repeat(_ints(repeats))


@REGISTRY.register("Tile", 6, 13)
def tile(builder: Builder, node: Node):
    repeats = builder.ints(node.inputs[1]) if builder.is_static(node.inputs[1]) else builder.tensor(node.inputs[1])
    return builder.call(_tile, builder.tensor(node.inputs[0]), repeats)


@REGISTRY.register("Identity", 1, 13, 14, 16, 19, 21)
def identity(builder: Builder, node: Node):
    return builder.tensor(node.inputs[0])


@REGISTRY.register("Cast", 9, 13, 19, 21)
def cast(builder: Builder, node: Node):
    folded = symbolic.cast(builder, node)
    if folded is not None:
        return folded
    return builder.method("to", builder.tensor(node.inputs[0]), torch_dtype(int(node.attrs["to"])))


def _cast_like(x, like):
    return x.to(like.dtype)


@REGISTRY.register("CastLike", 15, 19, 21)
def cast_like(builder: Builder, node: Node):
    return builder.call(_cast_like, *builder.inputs(node)[:2])


def _constant_of_shape(shape, value):
    return torch.full(tuple(_ints(shape)), value.item(), dtype=value.dtype)


@REGISTRY.register("ConstantOfShape", 9, 20, 21)
def constant_of_shape(builder: Builder, node: Node):
    value = node.attrs.get("value")
    array = np.zeros(1, np.float32) if value is None else np.asarray(_tensor_value(value)).reshape(-1)
    target = builder.symbolic(node.inputs[0])
    shape = target.items if target is not None else builder.tensor(node.inputs[0])
    return builder.call(_constant_of_shape, shape, builder.constant(array[:1], "fill"))


def _tensor_value(value):
    from onnx import numpy_helper

    return numpy_helper.to_array(value) if hasattr(value, "data_type") else value


def _range(start, limit, delta):
    return torch.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype)


@REGISTRY.register("Range", 11)
def range_(builder: Builder, node: Node):
    return builder.call(_range, *builder.inputs(node)[:3])


def _true_mask(x):
    return torch.ones_like(x, dtype=torch.bool)


@REGISTRY.register("Dropout", 10, 12, 13, 22)
def dropout(builder: Builder, node: Node):
    training, ratio = node.input(2), node.input(1)
    no_drop = builder.is_static(ratio) and float(builder.value(ratio)) == 0.0
    if training and (not builder.is_static(training) or bool(builder.value(training))) and not no_drop:
        raise NotImplementedError("Dropout with training_mode=True drops at random; the imported model is the "
                                  "inference graph (nu.fit trains it)")
    x = builder.tensor(node.inputs[0])
    return [x, builder.call(_true_mask, x)] if len(node.outputs) > 1 else x
