"""Resize and Upsample: ONNX's coordinate transformations and nearest/linear/cubic modes, one axis at a time."""

from __future__ import annotations

import math

import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node


def _source_coordinates(out: int, size: int, scale: float, mode: str, roi: tuple[float, float]):
    """ONNX's coordinate_transformation_mode: the input coordinate of every output index, as float64."""
    x = torch.arange(out, dtype=torch.float64)
    # The spec (and onnxruntime) divide by the output length; onnx's reference uses the unrounded scale * size
    # instead, so its align_corners downsampling tests with non-integer output widths differ from onnxruntime.
    width = scale * size
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        adjustment = out / width
        offset = size / 2 * (1 - adjustment)
        return offset + (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if out > 1 else torch.zeros_like(x)
    if mode == "align_corners":
        return x * (size - 1) / (out - 1) if out > 1 else torch.zeros_like(x)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_crop_and_resize":
        start, end = roi
        if out > 1:
            return start * (size - 1) + x * (end - start) * (size - 1) / (out - 1)
        return torch.full_like(x, 0.5 * (start + end) * (size - 1))
    raise NotImplementedError(f"Resize coordinate_transformation_mode {mode!r}")


def _cubic(distance, a: float):
    """The cubic convolution kernel of ONNX (Keys, coefficient ``a``) at |distance|."""
    t = distance.abs()
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


def _taps(coordinates, mode: str, scale: float, a: float):
    """(first tap index, tap offsets, weights): linear or cubic interpolation around every coordinate.

    With antialias while downscaling, ``scale`` < 1 stretches the kernel over 1/scale input cells, as onnx's
    reference does; otherwise it is 1 (2 linear taps, 4 cubic ones).
    """
    base = torch.ceil(coordinates) - 1  # the tap left of x (x - 1 when x is an integer), so ratio is in (0, 1]
    ratio = (coordinates - base).unsqueeze(-1)
    start = int(math.floor((-1 if mode == "linear" else -2) / scale) + 1)
    offsets = torch.arange(start, 2 - start, dtype=torch.float64)
    distance = (offsets - ratio) * scale
    weights = (1 - distance.abs()).clamp_min(0) if mode == "linear" else _cubic(distance, a)
    return base.long(), offsets.long(), weights / weights.sum(-1, keepdim=True)


def _resize_axis(x, axis: int, out: int, scale: float, settings: dict, roi: tuple[float, float]):
    size = x.shape[axis]
    coordinates = _source_coordinates(out, size, scale, settings["coordinates"], roi)
    mode = settings["mode"]
    if mode == "nearest":
        rounding = settings["nearest_mode"]
        if rounding == "round_prefer_floor":
            index = torch.ceil(coordinates - 0.5)
        elif rounding == "round_prefer_ceil":
            index = torch.floor(coordinates + 0.5)
        else:
            index = torch.floor(coordinates) if rounding == "floor" else torch.ceil(coordinates)
        y = x.index_select(axis, index.long().clamp(0, size - 1).to(x.device))
    else:
        stretch = min(scale, 1.0) if settings["antialias"] else 1.0
        base, offsets, weights = _taps(coordinates, mode, stretch, settings["cubic_coeff_a"])
        indices = base.unsqueeze(-1) + offsets
        if settings["exclude_outside"]:
            weights = torch.where((indices >= 0) & (indices < size), weights, torch.zeros_like(weights))
            weights = weights / weights.sum(-1, keepdim=True)
        indices = indices.clamp(0, size - 1).to(x.device)
        weights = weights.to(device=x.device, dtype=x.dtype)
        shape = [1] * x.dim()
        shape[axis] = out
        y = sum(x.index_select(axis, indices[:, tap]) * weights[:, tap].reshape(shape)
                for tap in range(offsets.numel()))
    if settings["coordinates"] == "tf_crop_and_resize":
        outside = ((coordinates < 0) | (coordinates > size - 1)).to(x.device)
        shape = [1] * x.dim()
        shape[axis] = out
        y = torch.where(outside.reshape(shape), torch.full_like(y, settings["extrapolation_value"]), y)
    return y


def _resize(x, roi, scales, sizes, settings: dict):
    rank = x.dim()
    axes = [axis % rank for axis in settings["axes"]] if settings["axes"] else list(range(rank))
    inputs = [x.shape[axis] for axis in axes]
    if sizes is not None and sizes.numel():
        outs = [int(value) for value in sizes.reshape(-1).tolist()]
        factors = [out / size for out, size in zip(outs, inputs)]
        policy = settings["policy"]
        if policy != "stretch":
            factor = (min if policy == "not_larger" else max)(factors)
            factors = [factor] * len(axes)
            outs = [int(math.floor(factor * size + 0.5)) for size in inputs]
    else:
        factors = [float(value) for value in scales.reshape(-1).tolist()]
        outs = [int(math.floor(size * factor)) for size, factor in zip(inputs, factors)]
    bounds = [float(value) for value in roi.reshape(-1).tolist()] if roi is not None and roi.numel() else []
    for position, (axis, out, factor) in enumerate(zip(axes, outs, factors)):
        if out == x.shape[axis] and factor == 1.0 and settings["coordinates"] != "tf_crop_and_resize":
            continue  # the identity along this axis (every transformation maps i to i at scale 1)
        roi_axis = ((bounds[position], bounds[position + len(axes)]) if bounds else (0.0, 1.0))
        x = _resize_axis(x, axis, out, factor, settings, roi_axis)
    return x


@REGISTRY.register("Resize", 11, 13, 18, 19)
def resize(builder: Builder, node: Node):
    settings = {"mode": node.attrs.get("mode", "nearest"),
                "coordinates": node.attrs.get("coordinate_transformation_mode", "half_pixel"),
                "nearest_mode": node.attrs.get("nearest_mode", "round_prefer_floor"),
                "cubic_coeff_a": float(node.attrs.get("cubic_coeff_a", -0.75)),
                "exclude_outside": int(node.attrs.get("exclude_outside", 0)),
                "extrapolation_value": float(node.attrs.get("extrapolation_value", 0.0)),
                "antialias": int(node.attrs.get("antialias", 0)),
                "axes": list(node.attrs.get("axes") or []),
                "policy": node.attrs.get("keep_aspect_ratio_policy", "stretch")}
    inputs = (builder.inputs(node) + [None] * 4)[:4]
    return builder.call(_resize, inputs[0], inputs[1], inputs[2], inputs[3], settings)


@REGISTRY.register("Upsample", 10)
def upsample(builder: Builder, node: Node):
    mode = node.attrs.get("mode", "nearest")
    settings = {"mode": mode, "coordinates": "asymmetric", "nearest_mode": "floor", "cubic_coeff_a": -0.75,
                "exclude_outside": 0, "extrapolation_value": 0.0, "antialias": 0, "axes": [], "policy": "stretch"}
    return builder.call(_resize, builder.tensor(node.inputs[0]), None, builder.tensor(node.inputs[1]), None, settings)


_GRID_MODES = {"linear": "bilinear", "bilinear": "bilinear", "cubic": "bicubic", "bicubic": "bicubic",
               "nearest": "nearest"}


def _grid_sample(x, grid, mode: str, padding_mode: str, align_corners: bool):
    return torch.nn.functional.grid_sample(x, grid.to(x.dtype), _GRID_MODES[mode], padding_mode, align_corners)


@REGISTRY.register("GridSample", 16, 20, 22)
def grid_sample(builder: Builder, node: Node):
    mode = node.attrs.get("mode", "linear" if builder.since(node) >= 20 else "bilinear")
    return builder.call(_grid_sample, *builder.inputs(node)[:2], mode, node.attrs.get("padding_mode", "zeros"),
                        bool(node.attrs.get("align_corners", 0)))


def _affine_grid(theta, size, align_corners: bool):
    return torch.nn.functional.affine_grid(theta, [int(value) for value in size.tolist()], align_corners)


@REGISTRY.register("AffineGrid", 20)
def affine_grid(builder: Builder, node: Node):
    return builder.call(_affine_grid, *builder.inputs(node)[:2], bool(node.attrs.get("align_corners", 0)))
