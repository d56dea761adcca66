"""Index converters (part of the shape family): Gather*, Scatter*, OneHot, NonZero, Trilu, CumSum, TopK, Pad."""

from __future__ import annotations

import math

import numpy as np
import paddle
import paddle.nn.functional as F

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, axis_list, widened


def _positive(indices, size):
    """ONNX indices may count from the end."""
    return paddle.where(indices < 0, indices + size, indices)


@REGISTRY.register("Gather", 1, 11, 13)
def gather(node, context):
    axis = int(node.attrs.get("axis", 0))
    if context.is_static(node.input(1)) and np.asarray(context.graph.value(node.input(1))).ndim == 0:
        # a fixed single index (x[:, 3] in the source model): one slice, the axis dropped
        index = int(context.value(node.input(1)))

        def pick(tensor, _=None):
            position = axis % tensor.ndim
            start = index + tensor.shape[position] if index < 0 else index
            return paddle.squeeze(paddle.slice(tensor, [position], [start], [start + 1]), [position])

        return pick

    def function(tensor, indices):
        position = axis % tensor.ndim
        if position == 0 and tensor.ndim == 2 and tensor.dtype in (paddle.float32, paddle.float64):
            # an embedding lookup: paddle's own kernel, any index shape, one op after the wrap-around
            return F.embedding(_positive(indices, tensor.shape[0]), tensor)
        flat = _positive(indices.astype("int64").reshape([-1]), tensor.shape[position])
        picked = widened(paddle.index_select)(tensor, flat, position)
        shape = tensor.shape[:position] + list(indices.shape) + tensor.shape[position + 1:]
        return picked.reshape(shape)

    return function


@REGISTRY.register("GatherElements", 11, 13)
def gather_elements(node, context):
    axis = int(node.attrs.get("axis", 0))

    def function(tensor, indices):
        position = axis % tensor.ndim
        indices = _positive(indices.astype("int64"), tensor.shape[position])
        return widened(paddle.take_along_axis)(tensor, indices, position, False)

    return function


@REGISTRY.register("GatherND", 11, 12, 13)
def gather_nd(node, context):
    batch_dims = int(node.attrs.get("batch_dims", 0))

    def function(tensor, indices):
        indices = indices.astype("int64")
        depth = indices.shape[-1]
        limits = paddle.to_tensor(tensor.shape[batch_dims:batch_dims + depth], "int64")
        indices = paddle.where(indices < 0, indices + limits, indices)
        if batch_dims == 0:
            return widened(paddle.gather_nd)(tensor, indices)
        batch_shape = tensor.shape[:batch_dims]
        batches = math.prod(batch_shape)
        flat_tensor = tensor.reshape([batches] + tensor.shape[batch_dims:])
        flat_indices = indices.reshape([batches, -1, depth])
        rows = paddle.arange(batches, dtype="int64").reshape([batches, 1, 1]).expand(
            [batches, flat_indices.shape[1], 1])
        picked = widened(paddle.gather_nd)(flat_tensor, paddle.concat([rows, flat_indices], axis=-1))
        return picked.reshape(batch_shape + indices.shape[batch_dims:-1] + tensor.shape[batch_dims + depth:])

    return function


#: ONNX scatter reductions as paddle.put_along_axis's reduce names.
_REDUCE = {"none": "assign", "add": "add", "mul": "mul", "max": "amax", "min": "amin"}


@REGISTRY.register("ScatterElements", 11, 13, 16, 18)
def scatter_elements(node, context):
    axis, reduce = int(node.attrs.get("axis", 0)), _REDUCE[node.attrs.get("reduction", "none")]

    def function(tensor, indices, updates):
        position = axis % tensor.ndim
        indices = _positive(indices.astype("int64"), tensor.shape[position])
        return widened(paddle.put_along_axis)(tensor, indices, updates, position, reduce, True, False)

    return function


@REGISTRY.register("ScatterND", 11, 13, 16, 18)
def scatter_nd(node, context):
    reduce = _REDUCE[node.attrs.get("reduction", "none")]

    def function(tensor, indices, updates):
        # rows of the tensor flattened over the indexed leading dims, scattered along axis 0
        indices = indices.astype("int64")
        depth = indices.shape[-1]
        leading, rest = tensor.shape[:depth], tensor.shape[depth:]
        strides = paddle.to_tensor([math.prod(leading[index + 1:]) for index in range(depth)], "int64")
        limits = paddle.to_tensor(leading, "int64")
        indices = paddle.where(indices < 0, indices + limits, indices)
        rows = (indices * strides).sum(-1).reshape([-1])
        count = rows.shape[0]
        flat = tensor.reshape([math.prod(leading)] + rest)
        values = updates.reshape([count] + rest)
        index = rows.reshape([count] + [1] * len(rest)).expand([count] + rest)
        result = widened(paddle.put_along_axis)(flat, index, values, 0, reduce, True, False)
        return result.reshape(tensor.shape)

    return function


@REGISTRY.register("OneHot", 9, 11)
def one_hot(node, context):
    axis = int(node.attrs.get("axis", -1))

    def function(indices, depth, values):
        size = int(float(depth.reshape([-1])[0]))
        indices = indices.astype("int64")
        indices = paddle.where(indices < 0, indices + size, indices)
        position = axis if axis >= 0 else axis + indices.ndim + 1
        shape = [1] * (indices.ndim + 1)
        shape[position] = size
        hot = paddle.unsqueeze(indices, position) == paddle.arange(size, dtype="int64").reshape(shape)
        wide = {paddle.bool: "int32", paddle.int8: "int32", paddle.uint8: "int32", paddle.int16: "int32",
                paddle.float16: "float32"}.get(values.dtype)
        if wide is None:
            return paddle.where(hot, values[1], values[0])
        return paddle.where(hot, values[1].astype(wide), values[0].astype(wide)).astype(values.dtype)

    return function


@REGISTRY.register("NonZero", 9, 13)
def non_zero(node, context):
    def function(tensor):
        if tensor.ndim == 0:
            return paddle.zeros([0, int(bool(tensor))], "int64")
        return paddle.nonzero(tensor != 0).transpose([1, 0])

    return function


@REGISTRY.register("Trilu", 14)
def trilu(node, context):
    upper = bool(node.attrs.get("upper", 1))
    static = axis_list(context.value(node.input(1))) if context.is_static(node.input(1)) else None

    def function(tensor, offset=None):
        diagonal = static[0] if static is not None else (int(offset) if offset is not None else 0)
        return widened(paddle.triu if upper else paddle.tril)(tensor, diagonal)

    return function


@REGISTRY.register("CumSum", 11, 14)
def cumulative_sum(node, context):
    exclusive, reverse = bool(node.attrs.get("exclusive", 0)), bool(node.attrs.get("reverse", 0))

    def function(tensor, axis):
        position = int(axis) % tensor.ndim
        source = paddle.flip(tensor, [position]) if reverse else tensor
        total = widened(paddle.cumsum)(source, position).astype(tensor.dtype)
        if exclusive:
            total = total - source
        return paddle.flip(total, [position]) if reverse else total

    return function


@REGISTRY.register("TopK", 10, 11)
def top_k(node, context):
    axis, largest = int(node.attrs.get("axis", -1)), bool(node.attrs.get("largest", 1))

    def function(tensor, count):
        position = axis % tensor.ndim
        wide = tensor.astype("float64") if tensor.dtype in (paddle.int8, paddle.uint8, paddle.int16,
                                                            paddle.float16) else tensor
        # ONNX keeps the lower index first among equal values: a stable sort guarantees it (paddle.topk does not)
        order = paddle.argsort(wide, position, descending=largest, stable=True)
        indices = paddle.slice(order, [position], [0], [int(count.reshape([-1])[0])])
        values = paddle.take_along_axis(wide, indices, position)
        return values.astype(tensor.dtype), indices

    return function


def _pad_indices(size, before, after, mode):
    """Source positions along one axis for reflect/edge/wrap padding."""
    positions = np.arange(-before, size + after)
    if mode == "edge":
        return np.clip(positions, 0, size - 1)
    if mode == "wrap":
        return positions % size
    period = 2 * (size - 1) if size > 1 else 1  # reflect: mirror without repeating the edge
    positions = np.abs(positions) % period
    return np.where(positions >= size, period - positions, positions)


@REGISTRY.register("Pad", 11, 13, 18, 19, 21)
def pad(node, context):
    mode = node.attrs.get("mode", "constant")
    pads_static = axis_list(context.value(node.input(1))) if context.is_static(node.input(1)) else None
    fill_static = context.value(node.input(2)) if context.is_static(node.input(2)) else None
    axes_static = axis_list(context.value(node.input(3))) if context.is_static(node.input(3)) else None

    def function(tensor, pads=None, fill=None, axes=None):
        amounts = pads_static if pads_static is not None else axis_list(pads.numpy())
        chosen = axes_static if axes_static is not None else (axis_list(axes.numpy()) if axes is not None else
                                                              list(range(tensor.ndim)))
        chosen = [axis % tensor.ndim for axis in chosen]
        begins, ends = [0] * tensor.ndim, [0] * tensor.ndim
        for index, axis in enumerate(chosen):
            begins[axis], ends[axis] = amounts[index], amounts[index + len(chosen)]
        result = tensor
        if any(amount < 0 for amount in begins + ends):  # negative pads crop
            result = paddle.slice(result, list(range(tensor.ndim)), [max(0, -begin) for begin in begins],
                                  [size - max(0, -end) for size, end in zip(tensor.shape, ends)])
            begins, ends = [max(0, begin) for begin in begins], [max(0, end) for end in ends]
        if mode == "constant":
            value = fill_static if fill_static is not None else (fill.numpy() if fill is not None else 0)
            value = float(np.asarray(value).reshape(-1)[0]) if np.asarray(value).size else 0.0
            flat = [amount for pair in zip(begins, ends) for amount in pair]
            return widened(lambda item: F.pad(item, flat, value=value))(result)
        for axis in range(tensor.ndim):
            if begins[axis] or ends[axis]:
                indices = _pad_indices(result.shape[axis], begins[axis], ends[axis], mode)
                result = widened(paddle.index_select)(result, paddle.to_tensor(indices, "int64"), axis)
        return result

    return function


@REGISTRY.register("Compress", 9, 11)
def compress(node, context):
    axis = node.attrs.get("axis")

    def function(tensor, condition):
        chosen = paddle.nonzero(condition).reshape([-1])
        if axis is None:
            return widened(paddle.index_select)(tensor.reshape([-1]), chosen, 0)
        return widened(paddle.index_select)(tensor, chosen, int(axis) % tensor.ndim)

    return function


@REGISTRY.register("Unique", 11)
def unique(node, context):
    axis, in_order = node.attrs.get("axis"), not node.attrs.get("sorted", 1)

    def run(tensor):
        position = None if axis is None else int(axis) % tensor.ndim
        values, first, inverse, counts = paddle.unique(tensor, True, True, True, axis=position)
        if in_order:  # ONNX's sorted=0: unique values in order of first occurrence
            order = paddle.argsort(first)
            rank = paddle.argsort(order)
            first, counts, inverse = first[order], counts[order], paddle.gather(rank, inverse)
            flat = tensor.reshape([-1]) if position is None else tensor
            values = paddle.index_select(flat, first, 0 if position is None else position)
        return values, first, inverse, counts

    return run


@REGISTRY.register("ReverseSequence", 10)
def reverse_sequence(node, context):
    batch_axis, time_axis = int(node.attrs.get("batch_axis", 1)), int(node.attrs.get("time_axis", 0))

    def run(tensor, lengths):
        # position t of row b reads t' = length_b - 1 - t while t < length_b, else itself
        steps = tensor.shape[time_axis]
        times = paddle.arange(steps, dtype="int64")
        lengths = lengths.astype("int64").reshape([-1, 1])
        source = paddle.where(times < lengths, lengths - 1 - times, times)  # [batch, time]
        if batch_axis > time_axis:
            source = source.transpose([1, 0])
        shape = [1] * tensor.ndim
        shape[batch_axis], shape[time_axis] = tensor.shape[batch_axis], steps
        index = source.reshape(shape).expand(tensor.shape)
        return widened(paddle.take_along_axis)(tensor, index, time_axis, False)

    return run
