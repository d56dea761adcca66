"""Canonical (torch, channels-first) <-> keras (channels-last) layouts of tensors and weights."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nbunify.spec import layers as L
from nbunify.spec.layers import Shape


@dataclass
class KerasLayout:
    """What a keras build needs to map weights and outputs back to canonical order.

    ``permutations[layer]`` is set for per-feature layers (Dense, BatchNorm) fed by the flatten of
    a channels-last map: keras feature k holds canonical feature ``permutation[k]``.
    ``output_permutation`` does the same for the model output when it is such a flattened vector.
    """

    permutations: dict[str, np.ndarray] = field(default_factory=dict)
    output_permutation: np.ndarray | None = None


def is_map(shape: Shape) -> bool:
    """C x H x W tensors are built channels-last (H x W x C); every other rank keeps its axis order."""
    return len(shape) == 3


def keras_shape(shape: Shape) -> Shape:
    """The per-sample keras shape of a canonical per-sample shape."""
    return (*shape[1:], shape[0]) if is_map(shape) else tuple(shape)


def channel_axis(shape: Shape) -> int:
    """The keras axis (batch included) that holds a canonical tensor's channels or features."""
    return -1 if is_map(shape) or len(shape) == 1 else 1


def flatten_permutation(shape: Shape) -> np.ndarray:
    """For a flattened H x W x C map of canonical C x H x W ``shape``: the canonical index at each keras position."""
    channels, height, width = shape
    return np.arange(channels * height * width).reshape(channels, height, width).transpose(1, 2, 0).ravel()


def to_keras_inputs(inputs: np.ndarray) -> np.ndarray:
    """NCHW -> NHWC for batches of maps; other ranks unchanged."""
    return np.ascontiguousarray(inputs.transpose(0, 2, 3, 1)) if inputs.ndim == 4 else inputs


def to_canonical_outputs(outputs: np.ndarray, permutation: np.ndarray | None) -> np.ndarray:
    """NHWC -> NCHW for batches of maps; a flattened (permuted) vector back to canonical feature order."""
    if outputs.ndim == 4:
        return np.ascontiguousarray(outputs.transpose(0, 3, 1, 2))
    if permutation is not None:
        canonical = np.empty_like(outputs)
        canonical[:, permutation] = outputs
        return canonical
    return outputs


def _depthwise(layer: L.Layer, shape: Shape) -> bool:
    return isinstance(layer, L.Conv2d) and layer.groups > 1 and layer.groups == shape[0]


def to_keras(layer: L.Layer, shape: Shape, params: dict[str, np.ndarray], permutation: np.ndarray | None) -> dict[str, np.ndarray]:
    """Canonical parameters of ``layer`` (input ``shape``) -> {keras variable name: array}; exact copies."""
    if isinstance(layer, L.Dense):
        kernel = params["weight"].T
        if permutation is not None:
            kernel = kernel[permutation]
        result = {"kernel": kernel}
    elif isinstance(layer, L.Conv2d) and _depthwise(layer, shape):
        weight = params["weight"]  # (C*m, 1, kh, kw); torch output channel o = c*m + mult index
        channels = shape[0]
        result = {"kernel": weight.reshape(channels, weight.shape[0] // channels, *weight.shape[2:]).transpose(2, 3, 0, 1)}
    elif isinstance(layer, L.Conv2d):
        result = {"kernel": params["weight"].transpose(2, 3, 1, 0)}  # OIHW -> HWIO
    elif isinstance(layer, L.BatchNorm):
        names = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
        order = permutation if permutation is not None else slice(None)
        return {names[key]: np.ascontiguousarray(value[order], np.float32) for key, value in params.items()}
    else:
        return {}
    if "bias" in params:
        result["bias"] = params["bias"]
    return {key: np.ascontiguousarray(value, np.float32) for key, value in result.items()}


def to_canonical(layer: L.Layer, shape: Shape, values: dict[str, np.ndarray], permutation: np.ndarray | None) -> dict[str, np.ndarray]:
    """Keras variables of ``layer`` -> canonical parameters; the inverse of ``to_keras``."""
    if isinstance(layer, L.Dense):
        kernel = values["kernel"]
        if permutation is not None:
            unpermuted = np.empty_like(kernel)
            unpermuted[permutation] = kernel
            kernel = unpermuted
        result = {"weight": kernel.T}
    elif isinstance(layer, L.Conv2d) and _depthwise(layer, shape):
        kernel = values["kernel"]  # (kh, kw, C, m)
        result = {"weight": kernel.transpose(2, 3, 0, 1).reshape(-1, 1, *kernel.shape[:2])}
    elif isinstance(layer, L.Conv2d):
        result = {"weight": values["kernel"].transpose(3, 2, 0, 1)}  # HWIO -> OIHW
    elif isinstance(layer, L.BatchNorm):
        names = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}
        result = {}
        for key in ("gamma", "beta", "moving_mean", "moving_variance"):
            value = values[key]
            if permutation is not None:
                value = np.empty_like(value)
                value[permutation] = values[key]
            result[names[key]] = value
        return {key: np.ascontiguousarray(value, np.float32) for key, value in result.items()}
    else:
        return {}
    if "bias" in values:
        result["bias"] = values["bias"]
    return {key: np.ascontiguousarray(value, np.float32) for key, value in result.items()}


def activation_argument(function: str | None, shape: tuple[int, ...]) -> tuple[str | None, str | None]:
    """(keras ``activation=`` string, activation needing a layer of its own) for build and codegen alike.

    keras's "leaky_relu" string uses slope 0.2, and its "softmax" reduces the last axis, which is
    not the channel axis of a channels-first sequence: those get a layer ``<name>_activation``.
    """
    if function == "leaky_relu" or (function == "softmax" and channel_axis(shape) != -1):
        return None, function
    return function, None


def same_order(first: np.ndarray | None, second: np.ndarray | None) -> bool:
    """Whether two branches order their flat features the same way (None: canonical order)."""
    if first is None or second is None:
        return first is None and second is None
    return bool(np.array_equal(first, second))
