"""Convolution ONNX ops: Conv and ConvTranspose in 1, 2 and 3 dimensions (groups, dilations, pads, auto_pad)."""

from __future__ import annotations

import math

import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node

CONVOLUTIONS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TRANSPOSED = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def same_pads(sizes, kernel, strides, dilations, upper: bool) -> list[int]:
    """ONNX's SAME_UPPER/SAME_LOWER pads [begins..., ends...]: the output size is ceil(input / stride)."""
    begins, ends = [], []
    for size, k, stride, dilation in zip(sizes, kernel, strides, dilations):
        total = max((math.ceil(size / stride) - 1) * stride + (k - 1) * dilation + 1 - size, 0)
        small, large = total // 2, total - total // 2
        begins.append(small if upper else large)
        ends.append(large if upper else small)
    return begins + ends


def torch_pads(pads: list[int]) -> list[int]:
    """ONNX [b1, b2, ..., e1, e2, ...] as F.pad's (last dim first) [b_last, e_last, ..., b1, e1]."""
    half = len(pads) // 2
    result = []
    for index in reversed(range(half)):
        result += [pads[index], pads[index + half]]
    return result


def _window(builder: Builder, node: Node) -> tuple[int, list[int], list[int], int, list[int], str]:
    """A Conv/ConvTranspose node's spatial rank, strides, dilations, group, pads and auto_pad, defaults filled in
    (auto_pad VALID becomes explicit zero pads)."""
    spatial = builder.rank(node.inputs[1]) - 2
    strides = list(node.attrs.get("strides") or [1] * spatial)
    dilations = list(node.attrs.get("dilations") or [1] * spatial)
    group = int(node.attrs.get("group", 1))
    pads = list(node.attrs.get("pads") or [0] * 2 * spatial)
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    if auto_pad == "VALID":
        pads, auto_pad = [0] * 2 * spatial, "NOTSET"
    return spatial, strides, dilations, group, pads, auto_pad


def _conv_padded(x, weight, bias, strides, dilations, group, pads, auto_pad):
    spatial = len(weight.shape) - 2
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = same_pads(x.shape[2:], weight.shape[2:], strides, dilations, auto_pad == "SAME_UPPER")
    x = F.pad(x, torch_pads(pads))
    return CONVOLUTIONS[spatial](x, weight, bias, strides, 0, dilations, group)


@REGISTRY.register("Conv", 11, 22)
def conv(builder: Builder, node: Node):
    x, weight, bias = (builder.inputs(node) + [None])[:3]
    spatial, strides, dilations, group, pads, auto_pad = _window(builder, node)
    if auto_pad == "NOTSET" and pads[:spatial] == pads[spatial:]:
        return builder.call(CONVOLUTIONS[spatial], x, weight, bias, strides, pads[:spatial], dilations, group)
    return builder.call(_conv_padded, x, weight, bias, strides, dilations, group, pads, auto_pad)


def _conv_transpose(x, weight, bias, strides, dilations, group, output_padding, pads, output_shape, auto_pad):
    spatial = len(weight.shape) - 2
    sizes, kernel = list(x.shape[2:]), list(weight.shape[2:])
    if output_shape or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        targets = (list(output_shape)[-spatial:] if output_shape
                   else [size * stride for size, stride in zip(sizes, strides)])
        begins, ends = [], []
        for index in range(spatial):
            total = (strides[index] * (sizes[index] - 1) + output_padding[index]
                     + (kernel[index] - 1) * dilations[index] + 1 - targets[index])
            small, large = total // 2, total - total // 2
            begins.append(small if auto_pad == "SAME_UPPER" else large)
            ends.append(large if auto_pad == "SAME_UPPER" else small)
    else:
        begins, ends = pads[:spatial], pads[spatial:]
    y = TRANSPOSED[spatial](x, weight, None, strides, 0, 0, group, dilations)
    # Negative F.pad amounts crop: begins come off the front, output_padding adds zeros at the end before the bias.
    y = F.pad(y, torch_pads([-begin for begin in begins] + [extra - end for extra, end in zip(output_padding, ends)]))
    if bias is not None:
        y = y + bias.reshape(1, -1, *([1] * spatial))
    return y


@REGISTRY.register("ConvTranspose", 11, 22)
def conv_transpose(builder: Builder, node: Node):
    x, weight, bias = (builder.inputs(node) + [None])[:3]
    spatial, strides, dilations, group, pads, auto_pad = _window(builder, node)
    output_padding = list(node.attrs.get("output_padding") or [0] * spatial)
    output_shape = list(node.attrs.get("output_shape") or [])
    simple = (auto_pad == "NOTSET" and not output_shape and pads[:spatial] == pads[spatial:]
              and all(extra < max(stride, dilation)
                      for extra, stride, dilation in zip(output_padding, strides, dilations)))
    if simple:
        return builder.call(TRANSPOSED[spatial], x, weight, bias, strides, pads[:spatial], output_padding, group,
                            dilations)
    return builder.call(_conv_transpose, x, weight, bias, strides, dilations, group, output_padding, pads,
                        output_shape, auto_pad)


def _col2im(x, image_shape, block_shape, dilations, pads, strides):
    image, block = [int(size) for size in image_shape.tolist()], [int(size) for size in block_shape.tolist()]
    spatial = len(image)
    if spatial != 2:
        raise NotImplementedError("Col2Im in other than 2 spatial dimensions (torch's fold is 2-D)")
    dilations, strides = dilations or [1] * spatial, strides or [1] * spatial
    pads = pads or [0] * 2 * spatial
    padded = [size + pads[index] + pads[index + spatial] for index, size in enumerate(image)]
    y = F.fold(x, padded, block, dilation=dilations, padding=0, stride=strides)
    return y[:, :, pads[0]:pads[0] + image[0], pads[1]:pads[1] + image[1]]


@REGISTRY.register("Col2Im", 18)
def col2im(builder: Builder, node: Node):
    return builder.call(_col2im, *builder.inputs(node)[:3], list(node.attrs.get("dilations") or []),
                        list(node.attrs.get("pads") or []), list(node.attrs.get("strides") or []))
