"""Spatial ONNX ops: Pad (constant, reflect, edge, wrap), CenterCropPad, DepthToSpace and SpaceToDepth."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.backends.torch.onnx_ops.conv import torch_pads
from nbunify.backends.torch.onnx_ops.shape import _ints
from nbunify.convert.onnx_graph import Node


def _pad_indices(size: int, before: int, after: int, mode: str, device) -> torch.Tensor:
    positions = torch.arange(-before, size + after, device=device)
    if mode == "edge":
        return positions.clamp(0, size - 1)
    if mode == "wrap":
        return positions % size
    period = 2 * (size - 1) if size > 1 else 1  # reflect without repeating the edge
    positions = positions.abs() % period
    return torch.where(positions >= size, period - positions, positions)


def _pad(x, pads, value, axes, mode: str):
    pads = _ints(pads)
    axes = [axis % x.dim() for axis in _ints(axes)] if axes is not None else list(range(x.dim()))
    full = [0] * (2 * x.dim())
    for index, axis in enumerate(axes):
        full[axis], full[axis + x.dim()] = pads[index], pads[index + len(axes)]
    if mode == "constant":
        fill = value.item() if isinstance(value, torch.Tensor) and value.numel() else (value or 0)
        return F.pad(x, torch_pads(full), value=fill)
    for axis in range(x.dim()):
        if full[axis] or full[axis + x.dim()]:
            x = x.index_select(axis, _pad_indices(x.shape[axis], full[axis], full[axis + x.dim()], mode, x.device))
    return x


@REGISTRY.register("Pad", 11, 13, 18, 19, 21)
def pad(builder: Builder, node: Node):
    x = builder.tensor(node.inputs[0])
    pads = builder.ints(node.inputs[1]) if builder.is_static(node.inputs[1]) else builder.tensor(node.inputs[1])
    value = node.input(2)
    value = (builder.value(value).item() if builder.is_static(value) and builder.value(value).size
             else builder.tensor(value) if value else None)
    axes = node.input(3)
    axes = builder.ints(axes) if builder.is_static(axes) else builder.tensor(axes) if axes else None
    return builder.call(_pad, x, pads, value, axes, node.attrs.get("mode", "constant"))


def _depth_to_space(x, block: int, mode: str):
    n, c, h, w = x.shape
    if mode == "CRD":
        return F.pixel_shuffle(x, block)
    y = x.reshape(n, block, block, c // (block * block), h, w).permute(0, 3, 4, 1, 5, 2)
    return y.reshape(n, c // (block * block), h * block, w * block)


@REGISTRY.register("DepthToSpace", 11, 13)
def depth_to_space(builder: Builder, node: Node):
    return builder.call(_depth_to_space, builder.tensor(node.inputs[0]), int(node.attrs["blocksize"]),
                        node.attrs.get("mode", "DCR"))


def _space_to_depth(x, block: int):
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // block, block, w // block, block).permute(0, 3, 5, 1, 2, 4)
    return y.reshape(n, c * block * block, h // block, w // block)


@REGISTRY.register("SpaceToDepth", 1, 13)
def space_to_depth(builder: Builder, node: Node):
    return builder.call(_space_to_depth, builder.tensor(node.inputs[0]), int(node.attrs["blocksize"]))


def _center_crop_pad(x, shape, axes):
    axes = [axis % x.dim() for axis in axes] if axes is not None else list(range(x.dim()))
    for axis, target in zip(axes, _ints(shape)):
        size = x.shape[axis]
        if target < size:  # crop the centre (the extra cell comes off the end)
            x = x.narrow(axis, (size - target) // 2, target)
        elif target > size:  # pad zeros around (the extra cell goes at the end)
            pads = [0] * (2 * x.dim())
            pads[axis], pads[axis + x.dim()] = (target - size) // 2, target - size - (target - size) // 2
            x = F.pad(x, torch_pads(pads))
    return x


@REGISTRY.register("CenterCropPad", 18)
def center_crop_pad(builder: Builder, node: Node):
    axes = node.attrs.get("axes")
    return builder.call(_center_crop_pad, *builder.inputs(node)[:2], list(axes) if axes else None)
