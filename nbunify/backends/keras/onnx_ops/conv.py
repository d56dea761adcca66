"""Convolutions: ONNX Conv (1-D/2-D/3-D, groups, dilations, auto_pad) and ConvTranspose, computed channels-last."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, ImportedValue, SettingsLayer, keras, tf

ops = keras.ops
_CONVOLUTIONS = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}


def window_pads(node: Any, sizes: list[int | None], kernel: list[int], strides: list[int],
                dilations: list[int], ceil_mode: bool = False) -> list[tuple[int, int]]:
    """(begin, end) padding per spatial dimension, from ``pads`` or ``auto_pad`` (SAME_* need known sizes unless the
    stride is 1)."""
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    count = len(kernel)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        result = []
        for size, window, stride, dilation in zip(sizes, kernel, strides, dilations):
            effective = (window - 1) * dilation + 1
            if size is None:
                if stride != 1:
                    raise ValueError(f"auto_pad {auto_pad} with stride {stride} needs the input size known at import")
                total = effective - 1
            else:
                total = max((-(-size // stride) - 1) * stride + effective - size, 0)
            small, large = total // 2, total - total // 2
            result.append((small, large) if auto_pad == "SAME_UPPER" else (large, small))
        return result
    if auto_pad == "VALID":
        return [(0, 0)] * count
    pads = list(node.attrs.get("pads") or [0] * (2 * count))
    return list(zip(pads[:count], pads[count:]))


def tf_same_pads(sizes: list[int | None], kernel: list[int], strides: list[int],
                 dilations: list[int]) -> list[tuple[int, int]] | None:
    """The padding TensorFlow's "same" applies (extra at the end), or None when sizes are unknown and strides > 1."""
    result = []
    for size, window, stride, dilation in zip(sizes, kernel, strides, dilations):
        effective = (window - 1) * dilation + 1
        if size is None:
            if stride != 1:
                return None
            total = effective - 1
        else:
            total = max((-(-size // stride) - 1) * stride + effective - size, 0)
        result.append((total // 2, total - total // 2))
    return result


def padded_channels_last(tensor: Any, pads: list[tuple[int, int]], sizes: list[int | None], kernel: list[int],
                         strides: list[int], dilations: list[int], fill: float = 0.0) -> tuple[Any, str]:
    """``tensor`` (N, *spatial, C) and the keras padding mode giving exactly ``pads``: no copy for "valid" or when
    TensorFlow's "same" pads alike, else an explicit pad."""
    if all(begin == 0 and end == 0 for begin, end in pads):
        return tensor, "valid"
    if tf_same_pads(sizes, kernel, strides, dilations) == [tuple(pair) for pair in pads]:
        return tensor, "same"
    widths = [(0, 0), *pads, (0, 0)]
    return ops.pad(tensor, widths, constant_values=fill), "valid"


def _spatial(context: Context, name: str) -> list[int | None]:
    shape = context.graph.shape(name)
    return list(shape[2:]) if shape else []


@REGISTRY.register("Conv", 11, 22)
def conv(context: Context, node: Any) -> Any:
    if not context.is_static(node.inputs[1]):
        return _conv_of_tensors(context, node)
    weight = context.value(node.inputs[1])
    rank = weight.ndim - 2
    if rank not in _CONVOLUTIONS:
        raise ValueError(f"Conv with {rank} spatial dimensions: keras has 1-D, 2-D and 3-D convolutions")
    kernel = list(weight.shape[2:])
    strides = list(node.attrs.get("strides") or [1] * rank)
    dilations = list(node.attrs.get("dilations") or [1] * rank)
    groups = node.attrs.get("group", 1)
    sizes = _spatial(context, node.inputs[0]) or [None] * rank
    pads = window_pads(node, sizes, kernel, strides, dilations)
    # keras refuses strides together with dilations: convolve with stride 1, then keep every stride-th output
    subsample = strides if any(stride > 1 for stride in strides) and any(rate > 1 for rate in dilations) else None
    strides = [1] * rank if subsample else strides
    tensor, padding = padded_channels_last(context.channels_last_tensor(node.inputs[0]), pads, sizes, kernel,
                                           subsample or strides, dilations)
    if subsample and padding == "same":  # "same" was judged for the real strides: pad explicitly instead
        tensor, padding = ops.pad(tensor, [(0, 0), *pads, (0, 0)]), "valid"
    bias = context.value(node.input(2)) if node.input(2) else None
    filters, in_channels = weight.shape[0], weight.shape[1] * groups
    name = context.layer_name(node.name or node.outputs[0])
    # the variables are created holding the ONNX weights (no random or zero values first, then an assign)
    bias_initializer = ImportedValue(bias)
    if rank == 2 and groups == in_channels and groups > 1 and dilations == [1, 1]:
        # depthwise: TensorFlow's dedicated kernel is much faster than a grouped convolution
        multiplier = filters // in_channels
        kernel_value = weight.reshape(in_channels, multiplier, *kernel).transpose(2, 3, 0, 1)
        layer = keras.layers.DepthwiseConv2D(kernel, strides, padding, depth_multiplier=multiplier,
                                             use_bias=bias is not None, name=name, dtype=str(weight.dtype),
                                             depthwise_initializer=ImportedValue(kernel_value),
                                             bias_initializer=bias_initializer)
    else:
        kernel_value = weight.transpose(*range(2, rank + 2), 1, 0)
        layer = _CONVOLUTIONS[rank](filters, kernel, strides, padding, dilation_rate=dilations, groups=groups,
                                    use_bias=bias is not None, name=name, dtype=str(weight.dtype),
                                    kernel_initializer=ImportedValue(kernel_value), bias_initializer=bias_initializer)
    output = layer(tensor)
    if subsample:
        output = output[(slice(None), *(slice(None, None, stride) for stride in subsample), slice(None))]
    context.set_channels_last(node.outputs[0], output)


def _conv_of_tensors(context: Context, node: Any) -> None:
    """A Conv whose weights are graph inputs (not parameters): keras.ops.conv on the transposed kernel."""
    weight = context.tensor(node.inputs[1])
    rank = len(weight.shape) - 2
    kernel = list(weight.shape[2:])
    if any(size is None for size in kernel):
        raise ValueError("Conv needs its kernel size known at import time")
    strides = list(node.attrs.get("strides") or [1] * rank)
    dilations = list(node.attrs.get("dilations") or [1] * rank)
    sizes = _spatial(context, node.inputs[0]) or [None] * rank
    pads = window_pads(node, sizes, kernel, strides, dilations)
    tensor, padding = padded_channels_last(context.channels_last_tensor(node.inputs[0]), pads, sizes, kernel,
                                           strides, dilations)
    output = ops.conv(tensor, ops.transpose(weight, (*range(2, rank + 2), 1, 0)), strides, padding,
                      "channels_last", dilations)
    if node.input(2):
        output = output + context.tensor(node.input(2))
    context.set_channels_last(node.outputs[0], output)


@keras.saving.register_keras_serializable(package="nbunify")
class TransposedConvolution(SettingsLayer):
    """ONNX ConvTranspose before cropping, channels-last: the full output (in - 1) * stride + dilated kernel +
    output_padding, which keras's Conv*Transpose layers cannot all give; kernel (*k, out, in) and bias are trainable
    weights, or the kernel is a tensor input when the graph computes it."""

    def build(self, tensor_shape, kernel_shape=None):
        if self.settings.get("weights", True):
            self.kernel = self.add_weight(name="kernel", shape=tuple(self.settings["kernel_shape"]), dtype=self.dtype,
                                          initializer="zeros")
            if self.settings["bias"]:
                filters = self.settings["kernel_shape"][-2] * self.settings.get("groups", 1)
                self.bias = self.add_weight(name="bias", shape=(filters,), dtype=self.dtype, initializer="zeros")

    def call(self, tensor, kernel=None):
        owned = kernel is None  # the layer's own weights (with their bias) rather than a graph-computed kernel
        kernel = self.kernel if owned else kernel
        strides, dilations = self.settings["strides"], self.settings["dilations"]
        shape = tf.shape(tensor)
        window = tf.constant([(size - 1) * dilation + 1 for size, dilation in zip(self.settings["kernel_shape"][:-2],
                                                                                   dilations)])
        full = (shape[1:-1] - 1) * tf.constant(strides) + window + tf.constant(self.settings["output_padding"])
        output_shape = tf.concat([shape[:1], full, tf.shape(kernel)[-2:-1]], 0)
        groups = self.settings.get("groups", 1)
        kernel = _dilated(kernel, dilations)
        # groups: each slice of input channels with its slice of the kernel, outputs side by side
        output = tf.concat([tf.nn.conv_transpose(part, kernel_part, output_shape, strides, "VALID")
                            for part, kernel_part in zip(tf.split(tensor, groups, axis=-1),
                                                         tf.split(kernel, groups, axis=-1))], axis=-1)
        if self.settings["bias"] and owned:
            output = output + self.bias
        return self.ranked(output)


def _dilated(kernel: Any, dilations: list[int]) -> Any:
    """The kernel with dilation - 1 zeros between taps (TensorFlow's CPU transposed convolution has no dilations)."""
    for axis, dilation in enumerate(dilations):
        if dilation > 1:
            size = kernel.shape[axis]
            spaced = tf.stack([kernel] + [tf.zeros_like(kernel)] * (dilation - 1), axis=axis + 1)
            shape = tf.concat([tf.shape(kernel)[:axis], [size * dilation], tf.shape(kernel)[axis + 1:]], 0)
            kernel = tf.gather(tf.reshape(spaced, shape), tf.range((size - 1) * dilation + 1), axis=axis)
    return kernel


@REGISTRY.register("ConvTranspose", 11, 22)
def conv_transpose(context: Context, node: Any) -> Any:
    static = context.is_static(node.inputs[1])
    weight = context.value(node.inputs[1]) if static else context.tensor(node.inputs[1])
    rank = len(weight.shape) - 2
    kernel = list(weight.shape[2:])
    strides = list(node.attrs.get("strides") or [1] * rank)
    dilations = list(node.attrs.get("dilations") or [1] * rank)
    output_padding = list(node.attrs.get("output_padding") or [0] * rank)
    sizes = _spatial(context, node.inputs[0]) or [None] * rank
    full = [None if size is None else (size - 1) * stride + (window - 1) * dilation + 1 + extra
            for size, stride, window, dilation, extra in zip(sizes, strides, kernel, dilations, output_padding)]
    pads = _transpose_pads(node, sizes, strides, full, rank)
    # a negative end pad (output_shape beyond the full output) extends the output like output_padding
    output_padding = [extra + max(-end, 0) for extra, (_, end) in zip(output_padding, pads)]
    pads = [(begin, max(end, 0)) for begin, end in pads]
    settings = {"strides": strides, "dilations": dilations, "output_padding": output_padding, "rank": rank + 2,
                "kernel_shape": [*kernel, weight.shape[1], weight.shape[0]], "weights": static,
                "bias": bool(node.input(2)) and static, "groups": node.attrs.get("group", 1)}
    tensor = context.channels_last_tensor(node.inputs[0])
    layer = TransposedConvolution(settings, name=context.layer_name(node.name or node.outputs[0]),
                                  dtype=np.dtype(context.graph.dtype(node.inputs[0]) or np.float32).name)
    if static:
        output = layer(tensor)
        layer.kernel.assign(weight.transpose(*range(2, rank + 2), 1, 0))
        if settings["bias"]:
            layer.bias.assign(context.value(node.input(2)))
    else:
        output = layer(tensor, ops.transpose(weight, (*range(2, rank + 2), 1, 0)))
        if node.input(2):
            output = output + context.tensor(node.input(2))
    return _cropped(context, node, output, pads)


def _cropped(context: Context, node: Any, output: Any, pads: list[tuple[int, int]]) -> None:
    if any(begin or end for begin, end in pads):
        index = [slice(None)] + [slice(begin, -end if end else None) for begin, end in pads] + [slice(None)]
        output = output[tuple(index)]
    context.set_channels_last(node.outputs[0], output)


def _transpose_pads(node: Any, sizes: list[int | None], strides: list[int], full: list[int | None],
                    rank: int) -> list[tuple[int, int]]:
    """Crop per spatial dimension of the full transposed output, from pads, output_shape or auto_pad."""
    output_shape = node.attrs.get("output_shape")
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    if output_shape or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        targets = list(output_shape)[-rank:] if output_shape else [
            None if size is None else size * stride for size, stride in zip(sizes, strides)]
        if any(size is None for size in (*full, *targets)):
            raise ValueError("ConvTranspose with output_shape or SAME padding needs the input size known at import")
        result = []
        for length, target in zip(full, targets):
            total = length - target
            small, large = total // 2, total - total // 2
            result.append((small, large) if auto_pad == "SAME_UPPER" else (large, small))
        return result
    if auto_pad == "VALID":
        return [(0, 0)] * rank
    pads = list(node.attrs.get("pads") or [0] * (2 * rank))
    return list(zip(pads[:rank], pads[rank:]))

