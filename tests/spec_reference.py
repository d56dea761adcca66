"""An independent NumPy (float64) forward pass of a spec in inference mode: the oracle every backend is checked against."""

from __future__ import annotations

import math

import numpy as np

from nbunify.spec import Concat, Residual, Sequential
from nbunify.spec import layers as L


def reference_forward(spec: Sequential, weights: dict[str, np.ndarray], inputs: np.ndarray) -> np.ndarray:
    """The spec's output for channels-first ``inputs`` (N, *spec.input_shape), computed in float64."""
    params = {key: np.asarray(value, np.float64) for key, value in weights.items()}
    return _run(spec.layers, params, np.asarray(inputs, np.float64))


def _run(items, params, x):
    for item in items:
        if isinstance(item, Residual):
            shortcut = _run(item.shortcut, params, x) if item.shortcut else x
            x = _run(item.layers, params, x) + shortcut
        elif isinstance(item, Concat):
            x = np.concatenate([_run(branch, params, x) if branch else x for branch in item.branches()], axis=1)
        else:
            x = _layer(item, {k.split(".", 1)[1]: v for k, v in params.items() if k.split(".", 1)[0] == item.name}, x)
    return x


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _activation(name, x):
    if name is None:
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x >= 0, x, L.LEAKY_RELU_SLOPE * x)
    if name == "gelu":
        return 0.5 * x * (1 + _erf(x / np.sqrt(2)))
    if name == "silu":
        return x / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "softmax":
        shifted = np.exp(x - x.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    raise ValueError(name)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _windows(x, kernel, stride, dilation=(1, 1)):
    """Yield (i, j, view) with view[n, c, ho, wo] = x[n, c, ho*sh + i*dh, wo*sw + j*dw]."""
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    height = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    width = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    for i in range(kh):
        for j in range(kw):
            yield i, j, x[:, :, i * dh: i * dh + sh * (height - 1) + 1: sh, j * dw: j * dw + sw * (width - 1) + 1: sw]


def _conv2d(layer, p, x):
    top, bottom, left, right = layer.explicit_padding(x.shape[1:])
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    weight, groups = p["weight"], layer.groups
    per_group_in, per_group_out = x.shape[1] // groups, weight.shape[0] // groups
    outputs = []
    for group in range(groups):
        xs = x[:, group * per_group_in:(group + 1) * per_group_in]
        ws = weight[group * per_group_out:(group + 1) * per_group_out]
        total = 0
        for i, j, view in _windows(xs, ws.shape[2:], _pair(layer.stride), _pair(layer.dilation)):
            total = total + np.einsum("nchw,oc->nohw", view, ws[:, :, i, j])
        outputs.append(total)
    out = np.concatenate(outputs, axis=1)
    if "bias" in p:
        out = out + p["bias"][None, :, None, None]
    return _activation(layer.activation, out)


def _pool(layer, x, reduce):
    views = [view for _, _, view in _windows(x, _pair(layer.kernel_size), layer.strides())]
    return reduce(np.stack(views), axis=0)


def _layer(layer, p, x):
    if isinstance(layer, L.Dense):
        out = x @ p["weight"].T + (p["bias"] if "bias" in p else 0)
        return _activation(layer.activation, out)
    if isinstance(layer, L.Conv2d):
        return _conv2d(layer, p, x)
    if isinstance(layer, L.MaxPool2d):
        return _pool(layer, x, np.max)
    if isinstance(layer, L.AvgPool2d):
        return _pool(layer, x, np.mean)
    if isinstance(layer, L.GlobalAvgPool2d):
        return x.mean(axis=(2, 3))
    if isinstance(layer, L.BatchNorm):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scale = p["weight"] / np.sqrt(p["running_var"] + layer.epsilon)
        return (x - p["running_mean"].reshape(shape)) * scale.reshape(shape) + p["bias"].reshape(shape)
    if isinstance(layer, L.Flatten):
        return x.reshape(x.shape[0], -1)
    if isinstance(layer, L.Dropout):
        return x
    if isinstance(layer, L.Activation):
        return _activation(layer.function, x)
    raise NotImplementedError(f"no reference for {layer.KIND}")
