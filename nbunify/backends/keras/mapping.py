"""Canonical parameters (torch layout) <-> keras variables, per layer: exact transposes, reshapes, gate reorders.

Keras variables are keyed as ``weights.native_variables`` names them: ``kernel``, ``bias``, ``gamma`` ...;
``forward.kernel`` / ``backward.kernel`` inside a Bidirectional; ``query.kernel`` ... ``output.bias``
inside a MultiHeadAttention; ``attention.query.kernel``, ``dense1.kernel``, ``norm1.gamma`` ... inside
nbunify's TransformerEncoder. Every function here only moves float32 values, so both directions are bit-exact.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from nbunify.spec import layers as L
from nbunify.spec.layers import Shape

Arrays = dict[str, np.ndarray]
_BATCHNORM = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
_LAYERNORM = {"weight": "gamma", "bias": "beta"}
_GRU_ORDER = [1, 0, 2]  # torch's gates r, z, n -> keras's z, r, h (its own inverse)


def is_depthwise(layer: L.Layer, shape: Shape) -> bool:
    """A grouped convolution with one group per input channel: keras's DepthwiseConv1D/2D."""
    return isinstance(layer, (L.Conv1d, L.Conv2d)) and layer.groups > 1 and layer.groups == shape[0]


def _permuted(value: np.ndarray, permutation: np.ndarray | None) -> np.ndarray:
    """Canonical order -> keras order (row k of the result is canonical row permutation[k])."""
    return value if permutation is None else value[permutation]


def _unpermuted(value: np.ndarray, permutation: np.ndarray | None) -> np.ndarray:
    if permutation is None:
        return value
    result = np.empty_like(value)
    result[permutation] = value
    return result


def _renamed(values: Arrays, names: dict[str, str], order: Callable[[np.ndarray], np.ndarray]) -> Arrays:
    return {names[key]: order(value) for key, value in values.items() if key in names}


# -- one direction each: canonical -> keras ---------------------------------------------------------------------------
def _kernel(layer: L.Layer, shape: Shape, weight: np.ndarray) -> np.ndarray:
    if isinstance(layer, L.Conv1d) and is_depthwise(layer, shape):  # (C*m, 1, k) -> (k, C, m)
        return weight.reshape(shape[0], -1, weight.shape[-1]).transpose(2, 0, 1)
    if isinstance(layer, L.Conv2d) and is_depthwise(layer, shape):  # (C*m, 1, kh, kw) -> (kh, kw, C, m)
        return weight.reshape(shape[0], -1, *weight.shape[2:]).transpose(2, 3, 0, 1)
    if isinstance(layer, L.Conv1d):
        return weight.transpose(2, 1, 0)  # (O, I, k) -> (k, I, O)
    if isinstance(layer, L.Conv2d):
        return weight.transpose(2, 3, 1, 0)  # OIHW -> HWIO
    return weight.transpose(2, 3, 1, 0)  # ConvTranspose2d: (in, out, kh, kw) -> (kh, kw, out, in)


def _canonical_kernel(layer: L.Layer, shape: Shape, kernel: np.ndarray) -> np.ndarray:
    if isinstance(layer, L.Conv1d) and is_depthwise(layer, shape):
        return kernel.transpose(1, 2, 0).reshape(-1, 1, kernel.shape[0])
    if isinstance(layer, L.Conv2d) and is_depthwise(layer, shape):
        return kernel.transpose(2, 3, 0, 1).reshape(-1, 1, *kernel.shape[:2])
    if isinstance(layer, L.Conv1d):
        return kernel.transpose(2, 1, 0)
    return kernel.transpose(3, 2, 0, 1)  # HWIO -> OIHW; (kh, kw, out, in) -> (in, out, kh, kw)


def _gates(value: np.ndarray, layer: L.Layer) -> np.ndarray:
    """Reorder the gate blocks (axis 0) of a GRU tensor between torch's r, z, n and keras's z, r, h."""
    if not isinstance(layer, L.GRU):
        return value
    return value.reshape(3, -1, *value.shape[1:])[_GRU_ORDER].reshape(value.shape)


def _recurrent_to_keras(layer: L.Layer, params: Arrays) -> Arrays:
    result: Arrays = {}
    for suffix, prefix in zip(layer.directions(), ("forward.", "backward.") if layer.bidirectional else ("",)):
        result[f"{prefix}kernel"] = _gates(params[f"weight_ih{suffix}"], layer).T
        result[f"{prefix}recurrent_kernel"] = _gates(params[f"weight_hh{suffix}"], layer).T
        if isinstance(layer, L.GRU):  # keras's reset_after GRU: bias (2, 3H) = [input bias; recurrent bias]
            result[f"{prefix}bias"] = np.stack([_gates(params[f"bias_ih{suffix}"], layer), _gates(params[f"bias_hh{suffix}"], layer)])
        else:  # one bias, as the spec keeps it
            result[f"{prefix}bias"] = params[f"bias{suffix}"]
    return result


def _recurrent_to_canonical(layer: L.Layer, values: Arrays) -> Arrays:
    result: Arrays = {}
    for suffix, prefix in zip(layer.directions(), ("forward.", "backward.") if layer.bidirectional else ("",)):
        result[f"weight_ih{suffix}"] = _gates(values[f"{prefix}kernel"].T, layer)
        result[f"weight_hh{suffix}"] = _gates(values[f"{prefix}recurrent_kernel"].T, layer)
        if isinstance(layer, L.GRU):
            result[f"bias_ih{suffix}"] = _gates(values[f"{prefix}bias"][0], layer)
            result[f"bias_hh{suffix}"] = _gates(values[f"{prefix}bias"][1], layer)
        else:
            result[f"bias{suffix}"] = values[f"{prefix}bias"]
    return result


def _attention_to_keras(params: Arrays, heads: int, source: str = "", target: str = "") -> Arrays:
    """torch's in_proj (3E, E) / out_proj (E, E) -> keras's per-head kernels (E, heads, d) and (heads, d, E)."""
    features = params[f"{source}out_proj.weight"].shape[0]
    size = features // heads
    weights = np.split(params[f"{source}in_proj_weight"], 3)
    biases = np.split(params[f"{source}in_proj_bias"], 3)
    result = {}
    for part, weight, bias in zip(("query", "key", "value"), weights, biases):
        result[f"{target}{part}.kernel"] = weight.T.reshape(features, heads, size)
        result[f"{target}{part}.bias"] = bias.reshape(heads, size)
    result[f"{target}output.kernel"] = params[f"{source}out_proj.weight"].T.reshape(heads, size, features)
    result[f"{target}output.bias"] = params[f"{source}out_proj.bias"]
    return result


def _attention_to_canonical(values: Arrays, source: str = "", target: str = "") -> Arrays:
    features = values[f"{source}output.bias"].shape[0]
    parts = ("query", "key", "value")
    return {
        f"{target}in_proj_weight": np.concatenate([values[f"{source}{p}.kernel"].reshape(features, features).T for p in parts]),
        f"{target}in_proj_bias": np.concatenate([values[f"{source}{p}.bias"].reshape(features) for p in parts]),
        f"{target}out_proj.weight": values[f"{source}output.kernel"].reshape(features, features).T,
        f"{target}out_proj.bias": values[f"{source}output.bias"],
    }


_ENCODER = {"linear1": "dense1", "linear2": "dense2", "norm1": "norm1", "norm2": "norm2"}
_ENCODER_VARIABLES = {"weight": "kernel", "bias": "bias"}


def _encoder_to_keras(layer: L.TransformerEncoder, params: Arrays) -> Arrays:
    result = _attention_to_keras(params, layer.num_heads, "self_attn.", "attention.")
    for torch_name, keras_name in _ENCODER.items():
        names = _LAYERNORM if torch_name.startswith("norm") else _ENCODER_VARIABLES
        for key, variable in names.items():
            value = params[f"{torch_name}.{key}"]
            result[f"{keras_name}.{variable}"] = value.T if torch_name.startswith("linear") and key == "weight" else value
    return result


def _encoder_to_canonical(values: Arrays) -> Arrays:
    result = _attention_to_canonical(values, "attention.", "self_attn.")
    for torch_name, keras_name in _ENCODER.items():
        names = _LAYERNORM if torch_name.startswith("norm") else _ENCODER_VARIABLES
        for key, variable in names.items():
            value = values[f"{keras_name}.{variable}"]
            result[f"{torch_name}.{key}"] = value.T if torch_name.startswith("linear") and key == "weight" else value
    return result


def to_keras(layer: L.Layer, shape: Shape, params: Arrays, permutation: np.ndarray | None) -> Arrays:
    """Canonical parameters of ``layer`` (input ``shape``) -> {keras variable key: array}; exact copies."""
    if isinstance(layer, L.Dense):
        result = {"kernel": _permuted(params["weight"].T, permutation)}
        result.update({"bias": params["bias"]} if "bias" in params else {})
    elif isinstance(layer, (L.Conv1d, L.Conv2d, L.ConvTranspose2d)):
        result = {"kernel": _kernel(layer, shape, params["weight"])}
        result.update({"bias": params["bias"]} if "bias" in params else {})
    elif isinstance(layer, (L.BatchNorm, L.LayerNorm)):
        result = _renamed(params, _BATCHNORM if isinstance(layer, L.BatchNorm) else _LAYERNORM, lambda v: _permuted(v, permutation))
    elif isinstance(layer, L.Embedding):
        result = {"embeddings": params["weight"]}
    elif isinstance(layer, (L.SimpleRNN, L.LSTM, L.GRU)):
        result = _recurrent_to_keras(layer, params)
    elif isinstance(layer, L.MultiHeadAttention):
        result = _attention_to_keras(params, layer.num_heads)
    elif isinstance(layer, L.TransformerEncoder):
        result = _encoder_to_keras(layer, params)
    else:
        result = {}
    return {key: np.ascontiguousarray(value, np.float32) for key, value in result.items()}


def to_canonical(layer: L.Layer, shape: Shape, values: Arrays, permutation: np.ndarray | None) -> Arrays:
    """Keras variables of ``layer`` -> canonical parameters; the inverse of ``to_keras``."""
    if isinstance(layer, L.Dense):
        result = {"weight": _unpermuted(values["kernel"], permutation).T}
        result.update({"bias": values["bias"]} if "bias" in values else {})
    elif isinstance(layer, (L.Conv1d, L.Conv2d, L.ConvTranspose2d)):
        result = {"weight": _canonical_kernel(layer, shape, values["kernel"])}
        result.update({"bias": values["bias"]} if "bias" in values else {})
    elif isinstance(layer, (L.BatchNorm, L.LayerNorm)):
        names = _BATCHNORM if isinstance(layer, L.BatchNorm) else _LAYERNORM
        result = _renamed(values, {keras: canonical for canonical, keras in names.items()}, lambda v: _unpermuted(v, permutation))
    elif isinstance(layer, L.Embedding):
        result = {"weight": values["embeddings"]}
    elif isinstance(layer, (L.SimpleRNN, L.LSTM, L.GRU)):
        result = _recurrent_to_canonical(layer, values)
    elif isinstance(layer, L.MultiHeadAttention):
        result = _attention_to_canonical(values)
    elif isinstance(layer, L.TransformerEncoder):
        result = _encoder_to_canonical(values)
    else:
        result = {}
    return {key: np.ascontiguousarray(value, np.float32) for key, value in result.items()}
