"""Pooling: ONNX MaxPool, AveragePool (count_include_pad, ceil_mode), LpPool and the global pools, channels-last."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf
from nbunify.backends.keras.onnx_ops.conv import padded_channels_last, tf_same_pads, window_pads

ops = keras.ops
_MAX = {1: keras.layers.MaxPooling1D, 2: keras.layers.MaxPooling2D, 3: keras.layers.MaxPooling3D}
_AVERAGE = {1: keras.layers.AveragePooling1D, 2: keras.layers.AveragePooling2D, 3: keras.layers.AveragePooling3D}


class Window:
    """A pooling window's geometry: kernel, strides, pads (ceil_mode's extra end padding included), sizes."""

    def __init__(self, context: Context, node: Any) -> None:
        self.kernel = list(node.attrs["kernel_shape"])
        rank = len(self.kernel)
        self.rank = rank
        self.strides = list(node.attrs.get("strides") or [1] * rank)
        self.dilations = list(node.attrs.get("dilations") or [1] * rank)
        self.dilated = any(dilation != 1 for dilation in self.dilations)
        self.spans = [(window - 1) * dilation + 1 for window, dilation in zip(self.kernel, self.dilations)]
        shape = context.graph.shape(node.inputs[0])
        self.sizes = list(shape[2:]) if shape else [None] * rank
        self.pads = window_pads(node, self.sizes, self.kernel, self.strides, self.dilations)
        self.declared = list(self.pads)
        if node.attrs.get("ceil_mode", 0):
            self.pads = [(begin, end + self._ceil_extra(size, span, stride, begin, end))
                         for size, span, stride, (begin, end) in zip(self.sizes, self.spans, self.strides, self.pads)]
        if self.dilated and any(size is None for size in self.sizes):
            raise ValueError("dilated pooling needs the input size known at import time")

    @staticmethod
    def _ceil_extra(size: int | None, window: int, stride: int, begin: int, end: int) -> int:
        if size is None:
            raise ValueError("ceil_mode pooling needs the input size known at import time")
        span = size + begin + end - window
        count = -(-span // stride) + 1
        if (count - 1) * stride >= size + begin:  # a last window starting in the end padding is dropped
            count -= 1
        return max((count - 1) * stride + window - (size + begin + end), 0)

    def output_sizes(self) -> list[int]:
        return [(size + begin + end - span) // stride + 1
                for size, span, stride, (begin, end) in zip(self.sizes, self.spans, self.strides, self.pads)]

    def taps(self) -> list[np.ndarray]:
        """Per spatial axis, the padded-input positions (output, kernel) each window reads."""
        return [np.arange(count)[:, None] * stride + np.arange(window)[None, :] * dilation
                for count, stride, window, dilation in zip(self.output_sizes(), self.strides, self.kernel,
                                                           self.dilations)]


@keras.saving.register_keras_serializable(package="nbunify")
class DilatedPool(SettingsLayer):
    """Pooling with dilated windows (keras's pooling layers have none): gather each axis's window taps from the
    padded channels-last tensor, then reduce them (max, or sum for average and Lp pooling)."""

    def call(self, tensor):
        for index, taps in enumerate(self.settings["taps"]):
            axis = 1 + 2 * index  # every earlier axis became (output, kernel)
            taps = np.asarray(taps, np.int64)
            gathered = tf.gather(tensor, taps.reshape(-1), axis=axis)
            shape = tf.shape(gathered)
            tensor = tf.reshape(gathered, tf.concat([shape[:axis], list(taps.shape), shape[axis + 1:]], 0))
        kernel_axes = [2 + 2 * index for index in range(len(self.settings["taps"]))]
        reduce = tf.reduce_max if self.settings["reduce"] == "max" else tf.reduce_sum
        return reduce(tensor, axis=kernel_axes)


def _dilated(context: Context, tensor: Any, window: Window, reduce: str, fill: float, name: str) -> Any:
    padded = ops.pad(tensor, [(0, 0), *window.pads, (0, 0)], constant_values=fill)
    settings = {"taps": [taps.tolist() for taps in window.taps()], "reduce": reduce}
    return DilatedPool(settings, name=context.layer_name(name))(padded)


@REGISTRY.register("MaxPool", 11, 12, 22)
def max_pool(context: Context, node: Any) -> Any:
    if len(node.outputs) > 1 and node.outputs[1]:
        raise ValueError("MaxPool's Indices output has no keras equivalent")
    window = Window(context, node)
    lowest = float(np.finfo(np.float32).min) if context.graph.dtype(node.inputs[0]) != np.float64 else -np.inf
    if window.dilated:
        tensor = context.channels_last_tensor(node.inputs[0])
        context.set_channels_last(node.outputs[0], _dilated(context, tensor, window, "max", lowest, "max_pool"))
        return
    tensor, padding = padded_channels_last(context.channels_last_tensor(node.inputs[0]), window.pads, window.sizes,
                                           window.kernel, window.strides, window.dilations, fill=lowest)
    layer = _MAX[window.rank](window.kernel, window.strides, padding, name=context.layer_name(node.name or "max_pool"))
    context.set_channels_last(node.outputs[0], layer(tensor))


def _sum_pool(context: Context, tensor: Any, window: Window, name: str) -> Any:
    """Window sums over a zero-padded tensor (average over the full window times its area)."""
    if window.dilated:
        return _dilated(context, tensor, window, "sum", 0.0, name)
    padded = ops.pad(tensor, [(0, 0), *window.pads, (0, 0)]) if any(b or e for b, e in window.pads) else tensor
    layer = _AVERAGE[window.rank](window.kernel, window.strides, "valid", name=context.layer_name(name))
    return layer(padded) * np.asarray(np.prod(window.kernel), dtype=str(tensor.dtype))


def _window_counts(window: Window, include_pad: bool) -> np.ndarray:
    """How many elements each output window averages: clipped to the declared padding (count_include_pad) or to the
    input; ceil_mode's extra end padding never counts."""
    counts = np.ones([1], np.float64)
    for size, taps, (begin, _), (_, declared_end) in zip(window.sizes, window.taps(), window.pads, window.declared):
        positions = taps - begin  # in input coordinates
        low, high = (-begin, size + declared_end) if include_pad else (0, size)
        dimension = ((positions >= low) & (positions < high)).sum(axis=1)
        counts = np.multiply.outer(counts, dimension)
    return counts.reshape(1, *counts.shape[1:], 1)


@REGISTRY.register("AveragePool", 11, 19, 22)
def average_pool(context: Context, node: Any) -> Any:
    window = Window(context, node)
    include_pad = bool(node.attrs.get("count_include_pad", 0))
    tensor = context.channels_last_tensor(node.inputs[0])
    padded = any(begin or end for begin, end in window.pads)
    same = tf_same_pads(window.sizes, window.kernel, window.strides, window.dilations)
    name = node.name or "average_pool"
    same_as_tensorflow = not include_pad and same == [tuple(pair) for pair in window.pads] and window.declared == \
        window.pads  # TensorFlow's "same" average excludes the padding from the count
    if not window.dilated and (not padded or same_as_tensorflow):
        layer = _AVERAGE[window.rank](window.kernel, window.strides, "same" if padded else "valid",
                                      name=context.layer_name(name))
        context.set_channels_last(node.outputs[0], layer(tensor))
        return None
    if any(size is None for size in window.sizes):
        raise ValueError("padded AveragePool needs the input size known at import time")
    counts = _window_counts(window, include_pad).astype(str(tensor.dtype))
    context.set_channels_last(node.outputs[0], _sum_pool(context, tensor, window, name) / counts)
    return None


@REGISTRY.register("LpPool", 11, 18, 22)
def lp_pool(context: Context, node: Any) -> Any:
    window = Window(context, node)
    power = float(node.attrs.get("p", 2))
    tensor = context.channels_last_tensor(node.inputs[0])
    dtype = str(tensor.dtype)
    powered = ops.power(ops.abs(tensor), np.asarray(power, dtype))
    total = _sum_pool(context, powered, window, node.name or "lp_pool")
    context.set_channels_last(node.outputs[0], ops.power(total, np.asarray(1.0 / power, dtype)))


def _global(reduce: Any) -> Any:
    def convert(context: Context, node: Any) -> Any:
        tensor = context.channels_last_tensor(node.inputs[0])
        axes = tuple(range(1, len(tensor.shape) - 1))
        context.set_channels_last(node.outputs[0], reduce(tensor, axes))
    return convert


REGISTRY.register("GlobalAveragePool", 1, 22)(_global(lambda tensor, axes: ops.mean(tensor, axis=axes, keepdims=True)))
REGISTRY.register("GlobalMaxPool", 1, 22)(_global(lambda tensor, axes: ops.max(tensor, axis=axes, keepdims=True)))


@REGISTRY.register("GlobalLpPool", 2, 22)
def global_lp_pool(context: Context, node: Any) -> Any:
    power = float(node.attrs.get("p", 2))

    def reduce(tensor: Any, axes: tuple[int, ...]) -> Any:
        dtype = str(tensor.dtype)
        total = ops.sum(ops.power(ops.abs(tensor), np.asarray(power, dtype)), axis=axes, keepdims=True)
        return ops.power(total, np.asarray(1.0 / power, dtype))
    return _global(reduce)(context, node)
