"""ONNX Resize and Upsample: separable gathers with source coordinates and weights computed at import time."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf


def _source_coordinates(mode: str, output: Any, size: Any, scale: Any, roi: tuple[Any, Any], xp: Any = np) -> Any:
    """Where each output position samples the input, per ONNX's coordinate_transformation_mode (``xp`` is numpy at
    import time, tf.experimental.numpy when scales or sizes are tensors)."""
    positions = np.arange(output, dtype=np.float64) if xp is np else tf.range(tf.cast(output, tf.float64))
    length = scale * size  # ONNX scales coordinates by the unrounded output length
    if mode == "half_pixel":
        return (positions + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return xp.where(length > 1, (positions + 0.5) / scale - 0.5, xp.zeros_like(positions) - 0.5)
    if mode == "align_corners":
        return xp.where(length > 1, positions * (size - 1) / xp.maximum(length - 1, 1e-12), xp.zeros_like(positions))
    if mode == "asymmetric":
        return positions / scale
    if mode == "half_pixel_symmetric":
        adjustment = output / (scale * size)
        center = size / 2 * (1 - adjustment)
        return center + (positions + 0.5) / scale - 0.5
    if mode == "tf_crop_and_resize":
        start, end = roi
        step = (end - start) * (size - 1) / xp.maximum(length - 1, 1e-12)
        return xp.where(length > 1, start * (size - 1) + positions * step,
                        0.5 * (start + end) * (size - 1) + xp.zeros_like(positions))
    raise ValueError(f"Resize coordinate_transformation_mode {mode!r} is not supported")


def _nearest(coordinates: Any, rule: str, xp: Any = np) -> Any:
    if rule == "round_prefer_floor":
        return xp.where(coordinates == xp.floor(coordinates) + 0.5, xp.floor(coordinates), xp.floor(coordinates + 0.5))
    if rule == "round_prefer_ceil":
        return xp.where(coordinates == xp.floor(coordinates) + 0.5, xp.ceil(coordinates), xp.floor(coordinates + 0.5))
    if rule == "floor":
        return xp.floor(coordinates)
    if rule == "ceil":
        return xp.ceil(coordinates)
    raise ValueError(f"Resize nearest_mode {rule!r} is not supported")


def _cubic_weights(fraction: Any, a: float, xp: Any = np) -> Any:
    """Keys' cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 from floor(x)."""
    distances = xp.stack([1 + fraction, fraction, 1 - fraction, 2 - fraction], axis=-1)
    near = ((a + 2) * distances - (a + 3)) * distances * distances + 1
    far = ((a * distances - 5 * a) * distances + 8 * a) * distances - 4 * a
    return xp.where(distances <= 1, near, far)


def axis_plan(attrs: dict, output: Any, size: Any, scale: Any, roi: tuple[Any, Any], xp: Any = np) -> tuple[Any, Any]:
    """(indices (output, taps), weights (output, taps)) sampling one axis; taps outside the input repeat its edge."""
    mode = attrs.get("mode", "nearest")
    coordinates = _source_coordinates(attrs.get("coordinate_transformation_mode", "half_pixel"), output, size, scale,
                                      roi, xp)
    if mode == "nearest":
        indices = xp.clip(_nearest(coordinates, attrs.get("nearest_mode", "round_prefer_floor"), xp), 0, size - 1)
        return _integers(indices, xp)[:, None], xp.ones_like(coordinates)[:, None]
    if mode == "linear":
        coordinates = xp.clip(coordinates, 0, size - 1)
        base = xp.floor(coordinates)
        fraction = coordinates - base
        taps, weights = xp.stack([base, base + 1], -1), xp.stack([1 - fraction, fraction], -1)
    elif mode == "cubic":
        base = xp.floor(coordinates)
        fraction = coordinates - base
        taps = base[:, None] + xp.arange(-1, 3, dtype=np.float64)[None, :]
        weights = _cubic_weights(fraction, attrs.get("cubic_coeff_a", -0.75), xp)
        if attrs.get("exclude_outside", 0):
            weights = xp.where((taps < 0) | (taps >= size), xp.zeros_like(weights), weights)
            weights = weights / xp.sum(weights, axis=1, keepdims=True)
    else:
        raise ValueError(f"Resize mode {mode!r} is not supported")
    return _integers(xp.clip(taps, 0, size - 1), xp), weights


def _integers(values: Any, xp: Any) -> Any:
    return values.astype(np.int64) if xp is np else tf.cast(values, tf.int64)


def _resample(tensor: Any, axis: int, indices: Any, weights: Any) -> Any:
    """Along ``axis``: gather the taps of every output position and sum them weighted."""
    indices = tf.convert_to_tensor(indices, tf.int64)
    if indices.shape[1] == 1:  # nearest: one tap of weight 1
        return tf.gather(tensor, indices[:, 0], axis=axis)
    taps = tf.gather(tensor, indices, axis=axis)  # (..., output, taps, ...)
    rank = len(tensor.shape)
    weights = tf.cast(tf.convert_to_tensor(weights), tensor.dtype)
    weights = tf.reshape(weights, tf.concat([tf.ones([axis], tf.int32), tf.shape(weights),
                                             tf.ones([rank - axis - 1], tf.int32)], 0))
    return tf.reduce_sum(taps * weights, axis=axis + 1)


@keras.saving.register_keras_serializable(package="nbunify")
class SeparableResize(SettingsLayer):
    """Resamples axis by axis with taps and weights fixed at import."""

    def call(self, tensor):
        for axis, indices, weights, outside in self.settings["plans"]:
            tensor = _resample(tensor, axis, np.asarray(indices, np.int64), np.asarray(weights))
            if outside is not None:  # tf_crop_and_resize: samples outside the input take extrapolation_value
                shape = [-1 if index == axis else 1 for index in range(len(tensor.shape))]
                mask = np.asarray(outside).reshape(shape)
                tensor = tf.where(tf.constant(mask), tf.cast(self.settings["extrapolation"], tensor.dtype), tensor)
        return tensor


@keras.saving.register_keras_serializable(package="nbunify")
class DynamicResize(SettingsLayer):
    """Resize with scales or sizes given as tensors: the same plan as at import, computed with TensorFlow's numpy."""

    def call(self, tensor, parameters, roi=None):
        xp = tf.experimental.numpy
        attrs, axes = self.settings["attrs"], self.settings["axes"]
        parameters = tf.cast(parameters, tf.float64)
        roi = None if roi is None else tf.cast(roi, tf.float64)
        sizes = [tf.cast(tf.shape(tensor)[axis], tf.float64) for axis in axes]
        ratio = None
        if self.settings["kind"] == "sizes" and self.settings["policy"] != "stretch":  # keep the aspect ratio
            ratios = tf.stack([parameters[index] / size for index, size in enumerate(sizes)])
            ratio = tf.reduce_min(ratios) if self.settings["policy"] == "not_larger" else tf.reduce_max(ratios)
        for index, (axis, size) in enumerate(zip(axes, sizes)):
            if ratio is not None:
                output, scale = tf.floor(size * ratio + 0.5), ratio
            elif self.settings["kind"] == "scales":
                scale = parameters[index]
                output = tf.floor(size * scale)
            else:
                output = parameters[index]
                scale = output / size
            axis_roi = (0.0, 1.0) if roi is None else (roi[index], roi[len(axes) + index])
            indices, weights = axis_plan(attrs, output, size, scale, axis_roi, xp)
            tensor = _resample(tensor, axis, indices, weights)
            if attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize":
                coordinates = _source_coordinates("tf_crop_and_resize", output, size, scale, axis_roi, xp)
                outside = tf.logical_or(coordinates < 0, coordinates > size - 1)
                shape = [-1 if position == axis else 1 for position in range(len(tensor.shape))]
                tensor = tf.where(tf.reshape(outside, shape), tf.cast(self.settings["extrapolation"], tensor.dtype),
                                  tensor)
        return self.ranked(tensor)


def _resize(context: Context, node: Any, scales: np.ndarray | None, sizes: np.ndarray | None,
            roi: np.ndarray | None) -> Any:
    tensor = context.symbolic(node.inputs[0])
    rank = len(tensor.shape)
    shape = context.graph.shape(node.inputs[0])
    axes = [axis % rank for axis in node.attrs.get("axes") or range(rank)]
    plans = []
    full_roi = np.asarray(roi, np.float64) if roi is not None and np.asarray(roi).size else None
    policy = node.attrs.get("keep_aspect_ratio_policy", "stretch")
    if sizes is not None and policy != "stretch":
        ratios = [sizes[index] / shape[axis] for index, axis in enumerate(axes)]
        ratio = min(ratios) if policy == "not_larger" else max(ratios)
        sizes = [int(np.floor(shape[axis] * ratio + 0.5)) for axis in axes]
        scales = np.full(len(axes), ratio)
    for index, axis in enumerate(axes):
        size = shape[axis] if shape else None
        scale = float(scales[index]) if scales is not None and len(scales) else None
        output = int(sizes[index]) if sizes is not None and len(sizes) else None
        if size is None:
            raise ValueError("Resize needs the resized dimensions known at import time")
        if output is None:
            output = int(np.floor(size * scale))
        if scale is None:
            scale = output / size
        if output == size and scale == 1.0 and (full_roi is None or node.attrs.get(
                "coordinate_transformation_mode") != "tf_crop_and_resize"):
            continue
        axis_roi = (0.0, 1.0) if full_roi is None else (full_roi[index], full_roi[len(axes) + index])
        indices, weights = axis_plan(node.attrs, output, size, scale, axis_roi)
        outside = None
        if node.attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize":
            coordinates = _source_coordinates("tf_crop_and_resize", output, size, scale, axis_roi)
            outside = ((coordinates < 0) | (coordinates > size - 1)).tolist()
        plans.append([axis, indices.tolist(), weights.tolist(), outside])
    settings = {"plans": plans, "extrapolation": node.attrs.get("extrapolation_value", 0.0)}
    return SeparableResize(settings, name=context.layer_name("resize"))(tensor)


@REGISTRY.register("Resize", 11, 13, 18, 19)
def resize(context: Context, node: Any) -> Any:
    if node.attrs.get("antialias", 0):
        raise ValueError("Resize with antialias=1 (opset 18) is not supported by the keras importer")
    dynamic = [name for name in node.inputs[1:4] if name and not context.is_static(name)]
    if dynamic:
        tensor = context.symbolic(node.inputs[0])
        rank = len(tensor.shape)
        axes = [axis % rank for axis in node.attrs.get("axes") or range(rank)]
        attrs = {key: node.attrs[key] for key in ("mode", "coordinate_transformation_mode", "nearest_mode",
                                                  "cubic_coeff_a", "exclude_outside") if key in node.attrs}
        scales = node.input(2)
        use_scales = bool(scales) and not (context.is_static(scales) and context.graph.value(scales).size == 0)
        settings = {"attrs": attrs, "axes": axes, "rank": rank, "kind": "scales" if use_scales else "sizes",
                    "policy": node.attrs.get("keep_aspect_ratio_policy", "stretch"),
                    "extrapolation": node.attrs.get("extrapolation_value", 0.0)}
        layer = DynamicResize(settings, name=context.layer_name("resize"))
        parameters = context.symbolic(scales if use_scales else node.input(3))
        if node.input(1) and attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize":
            return layer(tensor, parameters, context.symbolic(node.input(1)))
        return layer(tensor, parameters)
    roi = context.value(node.input(1)) if node.input(1) else None
    scales = context.value(node.input(2)) if node.input(2) else None
    sizes = context.value(node.input(3)) if node.input(3) else None
    if scales is not None and scales.size == 0:
        scales = None
    if sizes is not None and sizes.size == 0:
        sizes = None
    return _resize(context, node, scales, sizes, roi)


@REGISTRY.register("Upsample", 10)
def upsample(context: Context, node: Any) -> Any:
    node.attrs.setdefault("coordinate_transformation_mode", "asymmetric")
    node.attrs["coordinate_transformation_mode"] = "asymmetric"
    node.attrs["nearest_mode"] = "floor"
    return _resize(context, node, context.value(node.inputs[1]), None, None)
