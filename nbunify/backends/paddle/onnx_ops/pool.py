"""Pooling converters: MaxPool (ceil_mode, dilations, pads, indices), AveragePool, Global*Pool, LpPool, MaxUnpool."""

from __future__ import annotations

import math

import numpy as np
import paddle
import paddle.nn.functional as F

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, widened
from nbunify.backends.paddle.onnx_ops.conv import same_pads, spatial

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVERAGE = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class Window:
    """One pooling node's window, with the padding and output size ONNX gives it for an input's spatial sizes."""

    def __init__(self, node, context):
        self.kernel, self.strides, self.dilations, self.begins, self.ends = spatial(node, context, "")
        self.auto_pad = node.attrs.get("auto_pad", "NOTSET")
        self.ceil = bool(node.attrs.get("ceil_mode", 0))
        self.rank = len(self.kernel)

    def layout(self, sizes):
        """(begins, ends, extra): explicit pads, and the padding past the end that ceil_mode's last window needs."""
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            begins, ends = same_pads(sizes, self.kernel, self.strides, self.dilations, self.auto_pad)
        elif self.auto_pad == "VALID":
            begins, ends = [0] * self.rank, [0] * self.rank
        else:
            begins, ends = self.begins, self.ends
        extra = []
        for size, extent, stride, dilation, before, after in zip(sizes, self.kernel, self.strides, self.dilations,
                                                                  begins, ends):
            span = (extent - 1) * dilation + 1
            rounding = math.ceil if self.ceil else math.floor
            count = rounding((size + before + after - span) / stride) + 1
            if self.ceil and (count - 1) * stride >= size + before:  # the last window must start inside
                count -= 1
            extra.append(max(0, (count - 1) * stride + span - (size + before + after)))
        return begins, ends, extra

    def windows(self, padded):
        """The window's shifted strided views of a padded tensor (one per kernel position)."""
        sizes = padded.shape[2:]
        counts = [(size - ((extent - 1) * dilation + 1)) // stride + 1 for size, extent, stride, dilation
                  in zip(sizes, self.kernel, self.strides, self.dilations)]
        axes = list(range(2, 2 + self.rank))
        for offsets in _positions(self.kernel):
            starts = [offset * dilation for offset, dilation in zip(offsets, self.dilations)]
            ends = [start + (count - 1) * stride + 1 for start, count, stride in zip(starts, counts, self.strides)]
            yield paddle.strided_slice(padded, axes, starts, ends, self.strides)


def _positions(kernel):
    if not kernel:
        yield ()
        return
    for first in range(kernel[0]):
        for rest in _positions(kernel[1:]):
            yield (first, *rest)


def _pad(tensor, begins, ends, value):
    flat = [0, 0, 0, 0] + [amount for pair in zip(begins, ends) for amount in pair]
    return F.pad(tensor, flat, value=value)


@REGISTRY.register("MaxPool", 10, 11, 12, 22)
def max_pool(node, context):
    window = Window(node, context)
    native = _MAX.get(window.rank)
    indices_wanted = len(node.outputs) > 1 and bool(node.outputs[1])
    column_major = int(node.attrs.get("storage_order", 0)) == 1

    def run(tensor):
        begins, ends, extra = window.layout(tensor.shape[2:])
        ends = [after + more for after, more in zip(ends, extra)]
        if indices_wanted:
            return _with_indices(tensor, window, begins, ends, column_major)
        native_type = tensor.dtype in (paddle.float32, paddle.float64)
        if native_type and begins == ends and all(dilation == 1 for dilation in window.dilations):
            return native(tensor, window.kernel, window.strides, begins)  # paddle pads a max pool with -inf itself
        if all(dilation == 1 for dilation in window.dilations) and native_type:
            padded = _pad(tensor, begins, ends, float("-inf")) if any(begins + ends) else tensor
            return native(padded, window.kernel, window.strides, 0)
        wide = tensor.astype("float64") if tensor.dtype not in (paddle.float32, paddle.float64) else tensor
        padded = _pad(wide, begins, ends, float("-inf"))
        result = None
        for view in window.windows(padded):
            result = view if result is None else paddle.maximum(result, view)
        return result.astype(tensor.dtype)

    return run


def _with_indices(tensor, window, begins, ends, column_major):
    """MaxPool with its Indices output: positions in the flattened input tensor, as ONNX numbers them."""
    if window.rank != 2 or any(dilation != 1 for dilation in window.dilations) or begins != ends[:len(begins)] and any(
            begins + ends):
        raise NotImplementedError("MaxPool indices are supported for 2-D windows without dilation or asymmetric pads")
    batch, channels, height, width = tensor.shape
    values, mask = F.max_pool2d(tensor, window.kernel, window.strides, begins, return_mask=True)
    if column_major:
        mask = (mask % width) * height + mask // width
    offsets = paddle.arange(batch * channels, dtype="int64").reshape([batch, channels, 1, 1]) * (height * width)
    return values, mask.astype("int64") + offsets


@REGISTRY.register("AveragePool", 10, 11, 19, 22)
def average_pool(node, context):
    window = Window(node, context)
    native = _AVERAGE.get(window.rank)
    include_pad = bool(node.attrs.get("count_include_pad", 0))

    def run(tensor):
        begins, ends, extra = window.layout(tensor.shape[2:])
        plain = all(dilation == 1 for dilation in window.dilations) and not any(extra)
        if plain and begins == ends:
            return native(tensor, window.kernel, window.strides, begins, exclusive=not include_pad)
        # sum over the window's views, divided by how many input (or pad, with count_include_pad) cells each covers
        padded = _pad(tensor, begins, [after + more for after, more in zip(ends, extra)], 0.0)
        ones = paddle.ones([1, 1] + tensor.shape[2:], tensor.dtype)
        counted = _pad(ones, begins, ends, 1.0 if include_pad else 0.0)
        counted = _pad(counted, [0] * window.rank, extra, 0.0)
        total = sum(window.windows(padded))
        count = sum(window.windows(counted))
        return total / count

    return run


@REGISTRY.register("LpPool", 11, 18, 22)
def lp_pool(node, context):
    window = Window(node, context)
    power = float(node.attrs.get("p", 2))

    def run(tensor):
        begins, ends, extra = window.layout(tensor.shape[2:])
        padded = _pad(paddle.abs(tensor) ** power, begins, [after + more for after, more in zip(ends, extra)], 0.0)
        return sum(window.windows(padded)) ** (1.0 / power)

    return run


@REGISTRY.register("GlobalAveragePool", 1, 22)
def global_average_pool(node, context):
    return widened(lambda tensor: paddle.mean(tensor, axis=list(range(2, tensor.ndim)), keepdim=True))


@REGISTRY.register("GlobalMaxPool", 1, 22)
def global_max_pool(node, context):
    return widened(lambda tensor: paddle.amax(tensor, axis=list(range(2, tensor.ndim)), keepdim=True))


@REGISTRY.register("GlobalLpPool", 2, 22)
def global_lp_pool(node, context):
    power = float(node.attrs.get("p", 2))
    return lambda tensor: paddle.sum(paddle.abs(tensor) ** power, axis=list(range(2, tensor.ndim)),
                                     keepdim=True) ** (1.0 / power)


@REGISTRY.register("MaxUnpool", 9, 11, 22)
def max_unpool(node, context):
    kernel = list(node.attrs["kernel_shape"])
    rank = len(kernel)
    strides = list(node.attrs.get("strides") or [1] * rank)
    pads = list(node.attrs.get("pads") or [0] * (2 * rank))

    def run(tensor, indices, output_shape=None):
        # every value goes to its position in the flattened output (MaxPool's Indices number the whole tensor)
        sizes = [(size - 1) * stride - (pads[axis] + pads[axis + rank]) + extent for axis, (size, stride, extent)
                 in enumerate(zip(tensor.shape[2:], strides, kernel))]
        inferred = tensor.shape[:2] + sizes
        flat = paddle.zeros([math.prod(inferred)], tensor.dtype)
        result = paddle.scatter(flat, indices.reshape([-1]).astype("int64"), tensor.reshape([-1]), overwrite=True)
        result = result.reshape(inferred)
        if output_shape is None:
            return result
        target = [int(size) for size in np.asarray(output_shape.numpy()).reshape(-1)]
        growth = [amount for size, wanted in zip(inferred, target) for amount in (0, wanted - size)]
        return F.pad(result, growth) if any(growth) else result

    return run
