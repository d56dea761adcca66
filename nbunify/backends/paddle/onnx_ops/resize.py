"""Resampling converters: Resize (every mode and option of opsets 11-19, as per-axis maps), GridSample, AffineGrid."""

from __future__ import annotations

import math

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, axis_list


def _nearest(ratio, scale, mode):
    if float(ratio).is_integer():
        return np.array([0.0, 1.0])
    choices = {"round_prefer_floor": [ratio <= 0.5, ratio > 0.5], "round_prefer_ceil": [ratio < 0.5, ratio >= 0.5],
               "floor": [1, 0], "ceil": [0, 1]}
    return np.array(choices[mode], np.float64)


def _cubic(ratio, scale, a):
    return np.array([((a * (ratio + 1) - 5 * a) * (ratio + 1) + 8 * a) * (ratio + 1) - 4 * a,
                     ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
                     ((a + 2) * (1 - ratio) - (a + 3)) * (1 - ratio) * (1 - ratio) + 1,
                     ((a * ((1 - ratio) + 1) - 5 * a) * ((1 - ratio) + 1) + 8 * a) * ((1 - ratio) + 1) - 4 * a])


def _cubic_antialias(ratio, scale, a):
    scale = min(scale, 1.0)
    start = int(np.floor(-2 / scale) + 1)
    distances = np.abs(scale * (np.arange(start, 2 - start) - ratio))
    weights = np.where(distances <= 1, (a + 2) * distances ** 3 - (a + 3) * distances ** 2 + 1,
                       np.where(distances < 2, a * distances ** 3 - 5 * a * distances ** 2 + 8 * a * distances - 4 * a,
                                0.0))
    return weights / weights.sum()


def _linear(ratio, scale):
    return np.array([1 - ratio, ratio])


def _linear_antialias(ratio, scale):
    scale = min(scale, 1.0)
    start = int(np.floor(-1 / scale) + 1)
    weights = np.clip(1 - np.abs((np.arange(start, start + 2 - 2 * start) - ratio) * scale), 0, 1)
    return weights / weights.sum()


def _neighbors(position, count, limit):
    """The ``count`` indices nearest ``position`` in [0, limit), ties to the smaller (onnx's reference rule)."""
    low = int(math.floor(position))
    candidates = [index for index in range(low - count - 1, low + count + 2) if 0 <= index < limit]
    return sorted(sorted(candidates, key=lambda index: (abs(position - index), index))[:count])


class Resizer:
    """One Resize node's settings; ``matrix`` gives the affine map (weights, offsets) along one axis."""

    def __init__(self, node):
        attrs = node.attrs
        self.mode = attrs.get("mode", "nearest")
        self.transform = attrs.get("coordinate_transformation_mode", "half_pixel")
        self.nearest_mode = attrs.get("nearest_mode", "round_prefer_floor")
        self.cubic_a = float(attrs.get("cubic_coeff_a", -0.75))
        self.exclude_outside = bool(attrs.get("exclude_outside", 0))
        self.extrapolation = float(attrs.get("extrapolation_value", 0.0))
        self.antialias = bool(attrs.get("antialias", 0))
        self.policy = attrs.get("keep_aspect_ratio_policy", "stretch")
        self.axes = axis_list(attrs["axes"]) if attrs.get("axes") else None

    def coefficients(self, ratio, scale):
        if self.mode == "nearest":
            return _nearest(ratio, scale, self.nearest_mode)
        if self.mode == "cubic":
            return (_cubic_antialias if self.antialias else _cubic)(ratio, scale, self.cubic_a)
        return (_linear_antialias if self.antialias else _linear)(ratio, scale)

    def source(self, index, size, scale, length, roi):
        """The input coordinate of output ``index`` (None outside the crop of tf_crop_and_resize)."""
        width = scale * size
        if self.transform == "align_corners":
            return 0.0 if width == 1 else index * (size - 1) / (width - 1)
        if self.transform == "asymmetric":
            return index / scale
        if self.transform == "tf_half_pixel_for_nn":
            return (index + 0.5) / scale
        if self.transform == "tf_crop_and_resize":
            start, end = roi
            position = ((end - start) * (size - 1) / 2 if width == 1 else
                        index * (end - start) * (size - 1) / (width - 1)) + start * (size - 1)
            return None if position < 0 or position > size - 1 else position
        if self.transform == "pytorch_half_pixel":
            return -0.5 if width == 1 else (index + 0.5) / scale - 0.5
        if self.transform == "half_pixel_symmetric":
            offset = size / 2 * (1 - length / width)
            return offset + (index + 0.5) / scale - 0.5
        return (index + 0.5) / scale - 0.5

    def matrix(self, size, length, scale, roi):
        weights, offsets = np.zeros((length, size)), np.zeros(length)
        for index in range(length):
            position = self.source(index, size, scale, length, roi)
            if position is None:
                offsets[index] = self.extrapolation
                continue
            ratio = 1.0 if float(position).is_integer() else position - math.floor(position)
            coefficients = np.array(self.coefficients(ratio, scale), np.float64)
            count = len(coefficients)
            pad = int(math.ceil(count / 2))
            sources = [neighbor - pad for neighbor in _neighbors(position + pad, count, size + 2 * pad)]
            if self.exclude_outside:
                coefficients = np.where([0 <= item < size for item in sources], coefficients, 0.0)
                coefficients = coefficients / coefficients.sum()
            for source, weight in zip(sources, coefficients):
                weights[index, min(max(source, 0), size - 1)] += weight  # edge padding
        return weights, offsets

    def plan(self, shape, roi, scales, sizes):
        """Per axis: (input size, output size, scale, roi pair), for an input of ``shape``."""
        rank = len(shape)
        axes = self.axes if self.axes is not None else list(range(rank))
        axes = [axis % rank for axis in axes]
        full_scales, full_sizes = [1.0] * rank, list(shape)
        full_roi = [[0.0, 1.0] for _ in range(rank)]
        if roi is not None and len(roi):
            for position, axis in enumerate(axes):
                full_roi[axis] = [float(roi[position]), float(roi[position + len(axes)])]
        if sizes is not None and len(sizes):
            for position, axis in enumerate(axes):
                full_sizes[axis] = int(sizes[position])
            full_scales = [target / size for target, size in zip(full_sizes, shape)]
            if self.policy != "stretch":
                chosen = [full_scales[axis] for axis in axes]
                scale = min(chosen) if self.policy == "not_larger" else max(chosen)
                full_scales = [scale if axis in axes else 1.0 for axis in range(rank)]
                full_sizes = [int(scale * shape[axis] + 0.5) if axis in axes else shape[axis] for axis in range(rank)]
        else:
            for position, axis in enumerate(axes):
                full_scales[axis] = float(scales[position])
            full_sizes = [int(scale * size) for scale, size in zip(full_scales, shape)]
        return [(shape[axis], full_sizes[axis], full_scales[axis], full_roi[axis]) for axis in range(rank)]


@REGISTRY.register("Resize", 11, 13, 18, 19)
def resize(node, context):
    resizer = Resizer(node)
    static = [context.value(name) if context.is_static(name) else None for name in
              (node.input(1), node.input(2), node.input(3))]
    cache = {}

    def run(tensor, roi=None, scales=None, sizes=None):
        values = [known if known is not None else (given.numpy() if given is not None else None)
                  for known, given in zip(static, (roi, scales, sizes))]
        shape = tuple(tensor.shape)
        compute = "float32" if tensor.dtype == paddle.float32 else "float64"
        key = (shape, compute, *(None if value is None else tuple(np.asarray(value).reshape(-1).tolist())
                                 for value in values))
        if key not in cache:
            maps = []
            for axis, (size, length, scale, window) in enumerate(resizer.plan(shape, *values)):
                if size == length and scale == 1.0 and resizer.transform != "tf_crop_and_resize":
                    continue  # an axis left alone is the identity
                weights, offsets = resizer.matrix(size, length, scale, window)
                maps.append((axis, weights, offsets))
            cache[key] = [(axis, paddle.to_tensor(weights.T, compute), paddle.to_tensor(offsets, compute))
                          for axis, weights, offsets in reversed(maps)]  # the last axis first, as the reference
        result = tensor.astype(compute)
        for axis, weights, offsets in cache[key]:
            moved = paddle.moveaxis(result, axis, -1)
            result = paddle.moveaxis(paddle.matmul(moved, weights) + offsets, -1, axis)
        return result.astype(tensor.dtype)  # integer inputs truncate, as onnx's reference does

    return run


#: ONNX GridSample modes (opset 16 names and opset 20 names) as paddle.nn.functional.grid_sample's.
_GRID_MODES = {"bilinear": "bilinear", "linear": "bilinear", "nearest": "nearest"}


@REGISTRY.register("GridSample", 16, 20, 22)
def grid_sample(node, context):
    mode = node.attrs.get("mode", "bilinear")
    if mode not in _GRID_MODES:
        raise NotImplementedError(f"GridSample mode {mode!r}: paddle's grid_sample has bilinear and nearest only")
    padding, align_corners = node.attrs.get("padding_mode", "zeros"), bool(node.attrs.get("align_corners", 0))

    def run(tensor, grid):
        if tensor.ndim not in (4, 5):
            raise NotImplementedError(f"GridSample over {tensor.ndim - 2} spatial dims: paddle samples 2-D and 3-D")
        return paddle.nn.functional.grid_sample(tensor, grid.astype(tensor.dtype), _GRID_MODES[mode], padding,
                                                align_corners)

    return run


@REGISTRY.register("AffineGrid", 20)
def affine_grid(node, context):
    align_corners = bool(node.attrs.get("align_corners", 0))

    def run(theta, size):
        shape = [int(item) for item in np.asarray(size.numpy() if isinstance(size, paddle.Tensor) else size)]
        return paddle.nn.functional.affine_grid(theta, shape, align_corners)

    return run
