"""Pooling ONNX ops: MaxPool (with indices), AveragePool, LpPool and the global poolings."""

from __future__ import annotations

import math
import operator

import torch
import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.backends.torch.onnx_ops.conv import same_pads, torch_pads
from nbunify.convert.onnx_graph import Node

MAX_POOLS = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVERAGE_POOLS = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _settings(builder: Builder, node: Node) -> tuple[list[int], list[int], list[int], list[int], str]:
    kernel = list(node.attrs["kernel_shape"])
    spatial = len(kernel)
    strides = list(node.attrs.get("strides") or [1] * spatial)
    dilations = list(node.attrs.get("dilations") or [1] * spatial)
    pads = list(node.attrs.get("pads") or [0] * 2 * spatial)
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    if auto_pad == "VALID":
        pads, auto_pad = [0] * 2 * spatial, "NOTSET"
    return kernel, strides, dilations, pads, auto_pad


def _resolve_pads(x, kernel, strides, dilations, pads, auto_pad):
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return same_pads(x.shape[2:], kernel, strides, dilations, auto_pad == "SAME_UPPER")
    return pads


def _fits_torch(kernel, dilations, pads) -> bool:
    # torch pads symmetrically, and at most half the (dilated) kernel.
    spatial = len(kernel)
    return pads[:spatial] == pads[spatial:] and all(
        pad <= ((k - 1) * d + 1) // 2 for pad, k, d in zip(pads[:spatial], kernel, dilations))


def _ceil_extra(sizes, kernel, strides, dilations, pads):
    """Zeros to add at the end so a floor-mode pool gives ONNX's ceil-mode output size."""
    spatial = len(kernel)
    extra = []
    for index in range(spatial):
        span = sizes[index] + pads[index] + pads[index + spatial] - ((kernel[index] - 1) * dilations[index] + 1)
        count = math.ceil(span / strides[index]) + 1
        if (count - 1) * strides[index] >= sizes[index] + pads[index]:  # a last window starting in the end padding
            count -= 1
        extra.append(max(0, (count - 1) * strides[index] + (kernel[index] - 1) * dilations[index] + 1
                         - (sizes[index] + pads[index] + pads[index + spatial])))
    return extra


def _max_pool(x, kernel, strides, dilations, pads, auto_pad, ceil_mode):
    pads = _resolve_pads(x, kernel, strides, dilations, pads, auto_pad)
    spatial = len(kernel)
    if ceil_mode:
        extra = _ceil_extra(x.shape[2:], kernel, strides, dilations, pads)
        pads = pads[:spatial] + [end + more for end, more in zip(pads[spatial:], extra)]
    fill = float("-inf") if x.is_floating_point() else torch.iinfo(x.dtype).min
    padded = F.pad(x, torch_pads(pads), value=fill)
    return MAX_POOLS[spatial](padded, kernel, strides, 0, dilations)


def _max_pool_indices(x, kernel, strides, dilations, pads, ceil_mode, storage_order):
    spatial = len(kernel)
    y, indices = MAX_POOLS[spatial](x, kernel, strides, pads[:spatial], dilations, bool(ceil_mode), True)
    # torch numbers each (n, c) plane from 0; ONNX numbers the whole tensor (row-major, or column-major per plane).
    sizes = list(x.shape[2:])
    if storage_order:
        height, width = sizes
        indices = (indices % width) * height + indices // width
    plane = math.prod(sizes)
    offsets = torch.arange(x.shape[0] * x.shape[1], device=x.device).reshape(x.shape[0], x.shape[1], *[1] * spatial)
    return y, indices + offsets * plane


@REGISTRY.register("MaxPool", 11, 12, 22)
def max_pool(builder: Builder, node: Node):
    kernel, strides, dilations, pads, auto_pad = _settings(builder, node)
    spatial = len(kernel)
    ceil_mode = int(node.attrs.get("ceil_mode", 0))
    x = builder.tensor(node.inputs[0])
    if len(node.outputs) > 1 and node.outputs[1]:
        if auto_pad != "NOTSET" or not _fits_torch(kernel, dilations, pads):
            raise NotImplementedError("MaxPool indices with auto_pad or asymmetric pads")
        pool = builder.call(_max_pool_indices, x, kernel, strides, dilations, pads, ceil_mode,
                            int(node.attrs.get("storage_order", 0)))
        return [builder.call(operator.getitem, pool, 0), builder.call(operator.getitem, pool, 1)]
    if auto_pad == "NOTSET" and _fits_torch(kernel, dilations, pads) and not ceil_mode:
        return builder.call(MAX_POOLS[spatial], x, kernel, strides, pads[:spatial], dilations)
    return builder.call(_max_pool, x, kernel, strides, dilations, pads, auto_pad, ceil_mode)


def _windows(x, kernel, strides, dilations):
    """(N, C, out1.., k1..): every pooling window of x, dilations applied (torch's avg_pool has none)."""
    for index, (k, stride, dilation) in enumerate(zip(kernel, strides, dilations)):
        x = x.unfold(2 + index, (k - 1) * dilation + 1, stride)[..., ::dilation]
    return x


def _dilated_pool(x, kernel, strides, dilations, pads, auto_pad, ceil_mode, count_include_pad, p):
    """Average (p None) or Lp pooling with dilations: window sums over the cells that count."""
    pads = _resolve_pads(x, kernel, strides, dilations, pads, auto_pad)
    spatial = len(kernel)
    extra = _ceil_extra(x.shape[2:], kernel, strides, dilations, pads) if ceil_mode else [0] * spatial
    outer = torch_pads([0] * spatial + extra)
    values = F.pad(F.pad(x if p is None else torch.abs(x) ** p, torch_pads(pads)), outer)
    dims = tuple(range(-spatial, 0))
    total = _windows(values, kernel, strides, dilations).sum(dims)
    if p is not None:
        return total ** (1.0 / p)
    mask = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    # With count_include_pad, ONNX's reference counts the cells ceil_mode adds like explicit padding.
    fill = 1.0 if count_include_pad else 0.0
    mask = F.pad(F.pad(mask, torch_pads(pads), value=fill), outer, value=fill)
    return total / _windows(mask, kernel, strides, dilations).sum(dims)


def _average_pool(x, kernel, strides, pads, auto_pad, ceil_mode, count_include_pad):
    pads = _resolve_pads(x, kernel, strides, [1] * len(kernel), pads, auto_pad)
    spatial = len(kernel)
    padded = F.pad(x, torch_pads(pads))
    total = AVERAGE_POOLS[spatial](padded, kernel, strides, 0, bool(ceil_mode), True)
    if count_include_pad and not ceil_mode:
        return total
    # Divide by the number of cells that are input (or, with count_include_pad, input or explicit padding).
    mask = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    mask = F.pad(mask, torch_pads(pads), value=1.0 if count_include_pad else 0.0)
    return total / AVERAGE_POOLS[spatial](mask, kernel, strides, 0, bool(ceil_mode), True)


@REGISTRY.register("AveragePool", 11, 19, 22)
def average_pool(builder: Builder, node: Node):
    kernel, strides, dilations, pads, auto_pad = _settings(builder, node)
    spatial = len(kernel)
    ceil_mode = int(node.attrs.get("ceil_mode", 0))
    include = int(node.attrs.get("count_include_pad", 0))
    x = builder.tensor(node.inputs[0])
    if any(dilation != 1 for dilation in dilations):
        return builder.call(_dilated_pool, x, kernel, strides, dilations, pads, auto_pad, ceil_mode, include, None)
    if auto_pad == "NOTSET" and _fits_torch(kernel, dilations, pads) and not ceil_mode:
        return builder.call(AVERAGE_POOLS[spatial], x, kernel, strides, pads[:spatial], False, bool(include))
    return builder.call(_average_pool, x, kernel, strides, pads, auto_pad, ceil_mode, include)


def _lp_pool(x, kernel, strides, pads, auto_pad, ceil_mode, p):
    pads = _resolve_pads(x, kernel, strides, [1] * len(kernel), pads, auto_pad)
    padded = F.pad(torch.abs(x) ** p, torch_pads(pads))
    mean = AVERAGE_POOLS[len(kernel)](padded, kernel, strides, 0, bool(ceil_mode), True)
    return (mean * math.prod(kernel)) ** (1.0 / p)


@REGISTRY.register("LpPool", 11, 18, 22)
def lp_pool(builder: Builder, node: Node):
    kernel, strides, dilations, pads, auto_pad = _settings(builder, node)
    if any(dilation != 1 for dilation in dilations):
        return builder.call(_dilated_pool, builder.tensor(node.inputs[0]), kernel, strides, dilations, pads,
                            auto_pad, int(node.attrs.get("ceil_mode", 0)), 1, float(node.attrs.get("p", 2)))
    return builder.call(_lp_pool, builder.tensor(node.inputs[0]), kernel, strides, pads, auto_pad,
                        int(node.attrs.get("ceil_mode", 0)), float(node.attrs.get("p", 2)))


def _global(function, x, p=None):
    dims = tuple(range(2, x.dim()))
    if function == "mean":
        return x.mean(dims, keepdim=True)
    if function == "max":
        return x.amax(dims, keepdim=True)
    return (torch.abs(x) ** p).sum(dims, keepdim=True) ** (1.0 / p)


@REGISTRY.register("GlobalAveragePool", 1, 22)
@REGISTRY.register("GlobalMaxPool", 1, 22)
@REGISTRY.register("GlobalLpPool", 2, 22)
def global_pool(builder: Builder, node: Node):
    function = {"GlobalAveragePool": "mean", "GlobalMaxPool": "max", "GlobalLpPool": "lp"}[node.op_type]
    return builder.call(_global, function, builder.tensor(node.inputs[0]), float(node.attrs.get("p", 2)))


def _max_unpool(x, indices, output_shape, kernel, strides, pads):
    spatial = len(kernel)
    if output_shape is not None:
        sizes = [int(size) for size in output_shape.reshape(-1).tolist()][-spatial:]
    else:
        sizes = [(size - 1) * stride + k - pads[index] - pads[index + spatial]
                 for index, (size, k, stride) in enumerate(zip(x.shape[2:], kernel, strides))]
    # ONNX's indices number the whole output tensor (as MaxPool's Indices output does).
    output = x.new_zeros(x.shape[0] * x.shape[1] * math.prod(sizes))
    output[indices.reshape(-1)] = x.reshape(-1)
    return output.reshape(x.shape[0], x.shape[1], *sizes)


@REGISTRY.register("MaxUnpool", 11, 22)
def max_unpool(builder: Builder, node: Node):
    kernel = list(node.attrs["kernel_shape"])
    return builder.call(_max_unpool, builder.tensor(node.inputs[0]), builder.tensor(node.inputs[1]),
                        builder.tensor(node.input(2)), kernel, list(node.attrs.get("strides") or [1] * len(kernel)),
                        list(node.attrs.get("pads") or [0] * 2 * len(kernel)))
