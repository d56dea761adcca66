"""Convolution converters: Conv (1-D/2-D/3-D, groups, dilations, auto_pad) and ConvTranspose."""

from __future__ import annotations

import math

import paddle
import paddle.nn.functional as F

from nbunify.backends.paddle.onnx_ops.common import REGISTRY

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv1d_transpose, 2: F.conv2d_transpose, 3: F.conv3d_transpose}


def same_pads(sizes, kernel, strides, dilations, auto_pad):
    """(begins, ends) of SAME_UPPER/SAME_LOWER padding for these input sizes (the extra one at the end for UPPER)."""
    begins, ends = [], []
    for size, extent, stride, dilation in zip(sizes, kernel, strides, dilations):
        total = max(0, (math.ceil(size / stride) - 1) * stride + (extent - 1) * dilation + 1 - size)
        small = total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else total - small)
        ends.append(total - small if auto_pad == "SAME_UPPER" else small)
    return begins, ends


def spatial(node, context, weight_name):
    """Kernel, strides, dilations and explicit pads of a conv/pool node (the kernel from the weight's shape)."""
    kernel = node.attrs.get("kernel_shape")
    if not kernel:
        shape = context.shape(weight_name)
        if shape is None or any(size is None for size in shape[2:]):
            raise ValueError("the kernel shape is unknown: give kernel_shape or a weight of static shape")
        kernel = shape[2:]
    rank = len(kernel)
    strides = list(node.attrs.get("strides") or [1] * rank)
    dilations = list(node.attrs.get("dilations") or [1] * rank)
    pads = list(node.attrs.get("pads") or [0] * (2 * rank))
    return list(kernel), strides, dilations, pads[:rank], pads[rank:]


@REGISTRY.register("Conv", 1, 11, 22)
def conv(node, context):
    return convolution(node, context, node.input(1))


def convolution(node, context, weight_name):
    """The convolution of a Conv-like node (QLinearConv and ConvInteger name their weight elsewhere)."""
    kernel, strides, dilations, begins, ends = spatial(node, context, weight_name)
    rank, groups, auto_pad = len(kernel), int(node.attrs.get("group", 1)), node.attrs.get("auto_pad", "NOTSET")
    function = _CONV[rank]
    if auto_pad == "VALID":
        begins, ends = [0] * rank, [0] * rank

    def padding_for(tensor):
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            return same_pads(tensor.shape[2:], kernel, strides, dilations, auto_pad)
        return begins, ends

    symmetric = begins == ends and auto_pad in ("NOTSET", "VALID")

    def run(tensor, weight, bias=None):
        if bias is not None and bias.ndim != 1:  # a bias the importer folded in from the Add after the Conv
            bias = bias.reshape([-1])
        if symmetric:
            return function(tensor, weight, bias, strides, begins, dilations, groups)
        low, high = padding_for(tensor)
        padding = [[0, 0], [0, 0]] + [[before, after] for before, after in zip(low, high)]
        return function(tensor, weight, bias, strides, padding, dilations, groups)

    return run


@REGISTRY.register("ConvTranspose", 1, 11, 22)
def conv_transpose(node, context):
    kernel, strides, dilations, begins, ends = spatial(node, context, node.input(1))
    rank, groups, auto_pad = len(kernel), int(node.attrs.get("group", 1)), node.attrs.get("auto_pad", "NOTSET")
    output_padding = list(node.attrs.get("output_padding") or [0] * rank)
    output_shape = node.attrs.get("output_shape")
    function = _CONV_TRANSPOSE[rank]

    def pads_for(sizes):
        full = [stride * (size - 1) + extra + (extent - 1) * dilation + 1 for size, stride, extra, extent, dilation
                in zip(sizes, strides, output_padding, kernel, dilations)]
        if output_shape and auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
            # onnx's reference: the unpadded result is cut (or zero-extended) at the end to output_shape
            return full, [0] * rank, [length - target for length, target in zip(full, list(output_shape)[-rank:])]
        if output_shape:
            totals = [length - target for length, target in zip(full, list(output_shape)[-rank:])]
        elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            totals = [length - size * stride for length, size, stride in zip(full, sizes, strides)]
        else:
            return full, begins, ends
        low = [total // 2 if auto_pad == "SAME_UPPER" else total - total // 2 for total in totals]
        return full, low, [total - small for total, small in zip(totals, low)]

    def run(tensor, weight, bias=None):
        # transpose-convolve unpadded, add output_padding at the end, then crop the pads: exact for any pads
        full, low, high = pads_for(tensor.shape[2:])
        result = function(tensor, weight, None, strides, 0, 0, dilation=dilations, groups=groups)
        growth = [extra + max(0, -after) for extra, after in zip(output_padding, high)]
        if any(growth):  # output_padding (or a larger output_shape) adds cells that only the bias reaches
            result = F.pad(result, [0, 0, 0, 0] + [amount for extra in growth for amount in (0, extra)])
        result = paddle.slice(result, list(range(2, 2 + rank)), low,
                              [length - after for length, after in zip(full, high)])
        if bias is not None:
            result = result + bias.reshape([1, -1] + [1] * rank)
        return result

    return run
