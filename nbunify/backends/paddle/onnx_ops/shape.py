"""Shape converters: Reshape, Flatten, Transpose, (Un)Squeeze, Concat, Split, Slice, Expand, Tile, Pad, Cast ..."""

from __future__ import annotations

import math

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, axis_list, paddle_dtype, widened


def _static_or_none(context, name):
    """A static input's value read at import time, or None when it is computed at run time (or absent)."""
    return context.value(name) if context.is_static(name) else None


def _ints(tensor_or_array) -> list[int]:
    if isinstance(tensor_or_array, paddle.Tensor):
        tensor_or_array = tensor_or_array.numpy()
    return axis_list(tensor_or_array)


@REGISTRY.register("Reshape", 5, 13, 14, 19, 21)
def reshape(node, context):
    allow_zero = bool(node.attrs.get("allowzero", 0))
    static = _static_or_none(context, node.input(1))

    def target(shape, tensor):
        shape = list(shape)
        if not allow_zero:  # a 0 copies the input's dimension (paddle agrees, but only where the ranks line up)
            shape = [tensor.shape[index] if size == 0 else size for index, size in enumerate(shape)]
        return shape

    if static is not None:
        fixed = axis_list(static)
        if allow_zero and 0 in fixed:  # an empty result: no data to move
            return lambda tensor, _=None: paddle.zeros(fixed, tensor.dtype)
        return lambda tensor, _=None: paddle.reshape(tensor, target(fixed, tensor))
    return lambda tensor, shape: paddle.reshape(tensor, target(_ints(shape), tensor))


@REGISTRY.register("Flatten", 9, 11, 13, 21)
def flatten(node, context):
    axis = int(node.attrs.get("axis", 1))

    def function(tensor):
        shape = tensor.shape
        position = axis if axis >= 0 else axis + len(shape)
        return paddle.reshape(tensor, [math.prod(shape[:position]), math.prod(shape[position:])])

    return function


@REGISTRY.register("Transpose", 1, 13, 21)
def transpose(node, context):
    permutation = node.attrs.get("perm")

    def function(tensor):
        order = list(permutation) if permutation else list(range(tensor.ndim))[::-1]
        return paddle.transpose(tensor, order)

    return function


def _axes(node, context, index):
    """Axes from the attribute (before opset 13) or the input ``index`` (from 13): a list when known at import,
    "runtime" when computed at run time, None when absent."""
    if "axes" in node.attrs:
        return axis_list(node.attrs["axes"])
    name = node.input(index)
    if not name:
        return None
    return axis_list(context.value(name)) if context.is_static(name) else "runtime"


@REGISTRY.register("Squeeze", 1, 11, 13, 21)
def squeeze(node, context):
    axes = _axes(node, context, 1)

    def function(tensor, runtime_axes=None):
        chosen = _ints(runtime_axes) if axes == "runtime" else axes
        if chosen is None:
            return paddle.squeeze(tensor, [index for index, size in enumerate(tensor.shape) if size == 1])
        rank = tensor.ndim
        return paddle.reshape(tensor, [size for index, size in enumerate(tensor.shape)
                                       if index not in {axis % rank for axis in chosen}])

    return function


@REGISTRY.register("Unsqueeze", 1, 11, 13, 21)
def unsqueeze(node, context):
    axes = _axes(node, context, 1)

    def function(tensor, runtime_axes=None):
        chosen = _ints(runtime_axes) if axes == "runtime" else axes
        rank = tensor.ndim + len(chosen)
        shape = list(tensor.shape)
        for axis in sorted(axis % rank for axis in chosen):  # output positions, ascending, insert one at a time
            shape.insert(axis, 1)
        return paddle.reshape(tensor, shape)

    return function


@REGISTRY.register("Concat", 4, 11, 13)
def concat(node, context):
    axis = int(node.attrs["axis"])
    return lambda *tensors: paddle.concat([tensor for tensor in tensors], axis=axis)


@REGISTRY.register("Split", 2, 11, 13, 18)
def split(node, context):
    axis = int(node.attrs.get("axis", 0))
    sizes = node.attrs.get("split") or (axis_list(context.value(node.input(1))) if context.is_static(node.input(1))
                                        else "runtime" if node.input(1) else None)
    parts = int(node.attrs.get("num_outputs", 0) or len(node.outputs))

    def function(tensor, runtime_sizes=None):
        if sizes == "runtime":
            return tuple(paddle.split(tensor, _ints(runtime_sizes), axis=axis))
        if sizes is not None:
            return tuple(paddle.split(tensor, list(sizes), axis=axis))
        length = tensor.shape[axis]
        chunk = -(-length // parts)  # the last part is smaller when the axis does not divide evenly
        return tuple(paddle.split(tensor, [min(chunk, length - chunk * index) for index in range(parts)], axis=axis))

    return function


def _slice_tensor(tensor, starts, ends, axes, steps):
    """ONNX Slice on run-time dimensions: Python's slice.indices clamps exactly as ONNX does."""
    result = tensor
    for start, end, axis, step in zip(starts, ends, axes, steps):
        size = result.shape[axis]
        begin, stop, stride = slice(start, end, step).indices(size)
        if stride == 1 and result.ndim > 6:  # paddle's slice kernel stops at rank 6: slice a 3-D view
            shape = result.shape
            view = result.reshape([math.prod(shape[:axis]), size, math.prod(shape[axis + 1:])])
            stop = max(begin, stop)
            result = paddle.slice(view, [1], [begin], [stop]).reshape(shape[:axis] + [stop - begin] + shape[axis + 1:])
        elif stride == 1:
            result = paddle.slice(result, [axis], [begin], [max(begin, stop)])
        else:
            indices = list(range(begin, stop, stride))
            result = widened(paddle.index_select)(result, paddle.to_tensor(indices, "int64"), axis)
    return result


@REGISTRY.register("Slice", 10, 11, 13)
def slice_(node, context):
    names = [node.input(index) for index in range(1, 5)]
    static = [axis_list(context.value(name)) if context.is_static(name) else None for name in names]

    def function(tensor, starts=None, ends=None, axes=None, steps=None):
        starts = static[0] if static[0] is not None else _ints(starts)
        ends = static[1] if static[1] is not None else _ints(ends)
        axes = static[2] if static[2] is not None else (_ints(axes) if axes is not None else list(range(len(starts))))
        steps = static[3] if static[3] is not None else (_ints(steps) if steps is not None else [1] * len(starts))
        axes = [axis % tensor.ndim for axis in axes]
        return _slice_tensor(tensor, starts, ends, axes, steps)

    return function


@REGISTRY.register("Shape", 1, 13, 15, 19, 21)
def shape(node, context):
    start, end = node.attrs.get("start", 0), node.attrs.get("end")
    return lambda tensor: paddle.to_tensor(list(tensor.shape)[start:end], "int64")


@REGISTRY.register("Size", 1, 13, 19, 21)
def size(node, context):
    return lambda tensor: paddle.to_tensor(math.prod(tensor.shape), "int64")


@REGISTRY.register("Expand", 8, 13)
def expand(node, context):
    static = _static_or_none(context, node.input(1))

    def function(tensor, shape=None):
        wanted = axis_list(static) if static is not None else _ints(shape)
        target = np.broadcast_shapes(tuple(tensor.shape), tuple(wanted))
        return widened(paddle.broadcast_to)(tensor, list(target))

    return function


@REGISTRY.register("Tile", 6, 13)
def tile(node, context):
    static = _static_or_none(context, node.input(1))
    return lambda tensor, repeats=None: widened(paddle.tile)(
        tensor, axis_list(static) if static is not None else _ints(repeats))


@REGISTRY.register("Identity", 1, 13, 14, 16, 19, 21)
def identity(node, context):
    return lambda tensor: tensor


@REGISTRY.register("Cast", 9, 13, 19, 21)
def cast(node, context):
    import onnx

    target = paddle_dtype(onnx.helper.tensor_dtype_to_np_dtype(node.attrs["to"]))
    return lambda tensor: tensor.astype(target)


@REGISTRY.register("CastLike", 15, 19, 21)
def cast_like(node, context):
    return lambda tensor, like: tensor.astype(like.dtype)


@REGISTRY.register("ConstantOfShape", 9, 20, 21)
def constant_of_shape(node, context):
    value = node.attrs.get("value")
    array = np.zeros(1, np.float32) if value is None else np.asarray(
        __import__("onnx").numpy_helper.to_array(value)).reshape(-1)
    dtype, fill = paddle_dtype(array.dtype), array[0].item()
    return lambda shape: paddle.full(_ints(shape), fill, dtype)


@REGISTRY.register("Range", 11)
def range_(node, context):
    def function(start, limit, delta):
        dtype = start.dtype
        count = max(int(math.ceil((float(limit) - float(start)) / float(delta))), 0)
        return (paddle.arange(count, dtype="float64") * float(delta) + float(start)).astype(dtype)

    return function


@REGISTRY.register("DepthToSpace", 1, 11, 13)
def depth_to_space(node, context):
    block, mode = int(node.attrs["blocksize"]), node.attrs.get("mode", "DCR")

    def function(tensor):
        batch, channels, height, width = tensor.shape
        depth = channels // (block * block)
        if mode == "DCR":
            staged = tensor.reshape([batch, block, block, depth, height, width]).transpose([0, 3, 4, 1, 5, 2])
        else:
            staged = tensor.reshape([batch, depth, block, block, height, width]).transpose([0, 1, 4, 2, 5, 3])
        return staged.reshape([batch, depth, height * block, width * block])

    return function


@REGISTRY.register("SpaceToDepth", 1, 13)
def space_to_depth(node, context):
    block = int(node.attrs["blocksize"])

    def function(tensor):
        batch, channels, height, width = tensor.shape
        staged = tensor.reshape([batch, channels, height // block, block, width // block, block])
        staged = staged.transpose([0, 3, 5, 1, 2, 4])
        return staged.reshape([batch, channels * block * block, height // block, width // block])

    return function


@REGISTRY.register("Dropout", 10, 12, 13, 22)
def dropout(node, context):
    # the identity (mask all True) unless training_mode is true: then random, as ONNX defines it
    want_mask = len(node.outputs) > 1 and bool(node.outputs[1])

    def function(tensor, ratio=None, training=None):
        rate = 0.5 if ratio is None else float(ratio)
        if training is None or not bool(training) or rate == 0:
            return (tensor, paddle.ones(tensor.shape, "bool")) if want_mask else tensor
        mask = paddle.rand(tensor.shape) >= rate
        output = tensor * mask.astype(tensor.dtype) / (1 - rate)
        return (output, mask) if want_mask else output

    return function


@REGISTRY.register("EyeLike", 9, 22)
def eye_like(node, context):
    import onnx

    offset = int(node.attrs.get("k", 0))
    dtype_code = node.attrs.get("dtype")

    def function(tensor):
        rows, columns = tensor.shape
        target = paddle_dtype(onnx.helper.tensor_dtype_to_np_dtype(dtype_code)) if dtype_code else tensor.dtype
        return paddle.to_tensor(np.eye(rows, columns, offset)).astype(target)

    return function


@REGISTRY.register("CenterCropPad", 18)
def center_crop_pad(node, context):
    axes = node.attrs.get("axes")

    def run(tensor, shape):
        sizes = _ints(shape)
        chosen = [axis % tensor.ndim for axis in axes] if axes else list(range(tensor.ndim))
        result = tensor
        for axis, size in zip(chosen, sizes):
            length = result.shape[axis]
            if size < length:  # crop the middle (the extra odd cell comes off the end)
                start = (length - size) // 2
                result = paddle.slice(result, [axis], [start], [start + size])
            elif size > length:  # pad around (the extra odd cell goes at the end)
                before = (size - length) // 2
                pads = [0] * (2 * result.ndim)
                pads[2 * axis], pads[2 * axis + 1] = before, size - length - before
                result = widened(lambda item: paddle.nn.functional.pad(item, pads))(result)
        return result

    return run
