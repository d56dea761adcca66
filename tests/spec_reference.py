"""An independent NumPy (float64) forward pass of a spec in inference mode: the oracle every backend is checked against."""

from __future__ import annotations

import math

import numpy as np

from nbunify.spec import Concat, Residual, Sequential
from nbunify.spec import layers as L


def reference_forward(spec: Sequential, weights: dict[str, np.ndarray], inputs: np.ndarray) -> np.ndarray:
    """The spec's output for channels-first ``inputs`` (N, *spec.input_shape), computed in float64."""
    params = {key: np.asarray(value, np.float64) for key, value in weights.items()}
    steps = {step.layer.name: step for step in spec.steps}
    x = np.asarray(inputs) if spec.input_layout == "tokens" else np.asarray(inputs, np.float64)
    return _run(spec.layers, params, x, steps, spec.input_layout)[0]


def _run(items, params, x, steps, layout):
    """(output, its layout) of ``items`` applied to ``x`` laid out as ``layout``."""
    for item in items:
        if isinstance(item, Residual):
            shortcut, _ = _run(item.shortcut, params, x, steps, layout) if item.shortcut else (x, layout)
            body, layout = _run(item.layers, params, x, steps, layout)
            x = body + shortcut
        elif isinstance(item, Concat):
            outputs = [_run(branch, params, x, steps, layout) for branch in item.branches()]
            layout = outputs[0][1]
            x = np.concatenate([out for out, _ in outputs], axis=1 if layout == "map" else -1)
        else:
            prefix = item.name + "."
            step = steps[item.name]
            x = _layer(item, {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}, x, step)
            layout = step.output_layout
    return x, layout


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _activation(name, x, layout="map"):
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
        return _sigmoid(x)
    if name == "softmax":
        return _softmax(x, 1 if layout == "map" else -1)
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


def _convolve(x, weight, bias, pads, stride, dilation, groups):
    """Grouped 2-D cross-correlation of NCHW ``x`` with OIHW ``weight``; ``pads`` = (top, bottom, left, right)."""
    top, bottom, left, right = pads
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    per_group_in, per_group_out = x.shape[1] // groups, weight.shape[0] // groups
    outputs = []
    for group in range(groups):
        xs = x[:, group * per_group_in:(group + 1) * per_group_in]
        ws = weight[group * per_group_out:(group + 1) * per_group_out]
        total = 0
        for i, j, view in _windows(xs, ws.shape[2:], stride, dilation):
            total = total + np.einsum("nchw,oc->nohw", view, ws[:, :, i, j])
        outputs.append(total)
    out = np.concatenate(outputs, axis=1)
    return out if bias is None else out + bias[None, :, None, None]


def _conv2d(layer, p, x):
    out = _convolve(x, p["weight"], p.get("bias"), layer.explicit_padding(x.shape[1:]), _pair(layer.stride),
                    _pair(layer.dilation), layer.groups)
    return _activation(layer.activation, out)


def _conv1d(layer, p, x):
    left, right = layer.explicit_padding(x.shape[1:])
    out = _convolve(x[:, :, None, :], p["weight"][:, :, None, :], p.get("bias"), (0, 0, left, right),
                    (1, layer.stride), (1, layer.dilation), layer.groups)
    return _activation(layer.activation, out[:, :, 0, :])


def _conv_transpose2d(layer, p, x, output_shape):
    """out[n, o, i*s + a - p, j*s + b - p] += x[n, c, i, j] * W[c, o, a, b], by definition."""
    weight, (sh, sw), (ph, pw) = p["weight"], _pair(layer.stride), _pair(layer.padding)
    n, _, height, width = x.shape
    kh, kw = weight.shape[2:]
    oh, ow = _pair(layer.output_padding)
    full = np.zeros((n, weight.shape[1], (height - 1) * sh + kh + oh, (width - 1) * sw + kw + ow))
    for a in range(kh):
        for b in range(kw):
            full[:, :, a: a + sh * (height - 1) + 1: sh, b: b + sw * (width - 1) + 1: sw] += \
                np.einsum("nchw,co->nohw", x, weight[:, :, a, b])
    out = full[:, :, ph: ph + output_shape[1], pw: pw + output_shape[2]]
    if "bias" in p:
        out = out + p["bias"][None, :, None, None]
    return _activation(layer.activation, out)


def _pool(x, kernel, stride, reduce):
    views = [view for _, _, view in _windows(x, kernel, stride)]
    return reduce(np.stack(views), axis=0)


def _layernorm(x, weight, bias, epsilon):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * weight + bias


def _recurrent_direction(layer, p, x, suffix):
    """One direction over (N, L, E) ``x``: every hidden state (N, L, H)."""
    w_ih, w_hh = p[f"weight_ih{suffix}"], p[f"weight_hh{suffix}"]
    n, length, _ = x.shape
    h = np.zeros((n, layer.units))
    c = np.zeros((n, layer.units))
    states = []
    for t in range(length):
        if isinstance(layer, L.GRU):
            gi = x[:, t] @ w_ih.T + p[f"bias_ih{suffix}"]
            gh = h @ w_hh.T + p[f"bias_hh{suffix}"]
            (ir, iz, i_n), (hr, hz, hn) = np.split(gi, 3, axis=1), np.split(gh, 3, axis=1)
            r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
            candidate = np.tanh(i_n + r * hn)
            h = (1 - z) * candidate + z * h
        else:
            gates = x[:, t] @ w_ih.T + h @ w_hh.T + p[f"bias{suffix}"]
            if isinstance(layer, L.LSTM):
                i, f, g, o = np.split(gates, 4, axis=1)
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
            else:
                h = np.tanh(gates)
        states.append(h)
    return np.stack(states, axis=1)


def _recurrent(layer, p, x):
    forward = _recurrent_direction(layer, p, x, "")
    if not layer.bidirectional:
        return forward if layer.return_sequences else forward[:, -1]
    backward = _recurrent_direction(layer, p, x[:, ::-1], "_reverse")
    if layer.return_sequences:
        return np.concatenate([forward, backward[:, ::-1]], axis=-1)
    return np.concatenate([forward[:, -1], backward[:, -1]], axis=-1)


def _attention(p, x, heads, prefix=""):
    n, length, features = x.shape
    size = features // heads
    projected = x @ p[f"{prefix}in_proj_weight"].T + p[f"{prefix}in_proj_bias"]
    q, k, v = (part.reshape(n, length, heads, size).transpose(0, 2, 1, 3) for part in np.split(projected, 3, axis=-1))
    weights = _softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(size), -1)
    out = (weights @ v).transpose(0, 2, 1, 3).reshape(n, length, features)
    return out @ p[f"{prefix}out_proj.weight"].T + p[f"{prefix}out_proj.bias"]


def _transformer(layer, p, x):
    def feed_forward(y):
        hidden = _activation(layer.activation, y @ p["linear1.weight"].T + p["linear1.bias"])
        return hidden @ p["linear2.weight"].T + p["linear2.bias"]

    def norm(y, which):
        return _layernorm(y, p[f"{which}.weight"], p[f"{which}.bias"], layer.epsilon)

    if layer.norm_first:
        x = x + _attention(p, norm(x, "norm1"), layer.num_heads, "self_attn.")
        return x + feed_forward(norm(x, "norm2"))
    x = norm(x + _attention(p, x, layer.num_heads, "self_attn."), "norm1")
    return norm(x + feed_forward(x), "norm2")


def _layer(layer, p, x, step):
    if isinstance(layer, L.Dense):
        out = x @ p["weight"].T + (p["bias"] if "bias" in p else 0)
        return _activation(layer.activation, out, step.output_layout)
    if isinstance(layer, L.Embedding):
        return p["weight"][x.astype(np.int64)]
    if isinstance(layer, L.Conv2d):
        return _conv2d(layer, p, x)
    if isinstance(layer, L.Conv1d):
        return _conv1d(layer, p, x)
    if isinstance(layer, L.ConvTranspose2d):
        return _conv_transpose2d(layer, p, x, step.output_shape)
    if isinstance(layer, (L.MaxPool2d, L.AvgPool2d)):
        return _pool(x, _pair(layer.kernel_size), layer.strides(), np.max if isinstance(layer, L.MaxPool2d) else np.mean)
    if isinstance(layer, (L.MaxPool1d, L.AvgPool1d)):
        reduce = np.max if isinstance(layer, L.MaxPool1d) else np.mean
        return _pool(x[:, :, None, :], (1, layer.kernel_size), (1, layer.strides()[0]), reduce)[:, :, 0, :]
    if isinstance(layer, L.GlobalAvgPool2d):
        return x.mean(axis=(2, 3))
    if isinstance(layer, L.GlobalAvgPool1d):
        return x.mean(axis=2 if step.input_layout == "map" else 1)
    if isinstance(layer, L.BatchNorm):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scale = p["weight"] / np.sqrt(p["running_var"] + layer.epsilon)
        return (x - p["running_mean"].reshape(shape)) * scale.reshape(shape) + p["bias"].reshape(shape)
    if isinstance(layer, L.LayerNorm):
        return _layernorm(x, p["weight"], p["bias"], layer.epsilon)
    if isinstance(layer, L.Flatten):
        return x.reshape(x.shape[0], -1)
    if isinstance(layer, L.Reshape):
        return x.reshape(x.shape[0], *step.output_shape)
    if isinstance(layer, L.Transpose):
        return x.transpose(0, 2, 1)
    if isinstance(layer, (L.SimpleRNN, L.LSTM, L.GRU)):
        return _recurrent(layer, p, x)
    if isinstance(layer, L.MultiHeadAttention):
        return _attention(p, x, layer.num_heads)
    if isinstance(layer, L.TransformerEncoder):
        return _transformer(layer, p, x)
    if isinstance(layer, L.Dropout):
        return x
    if isinstance(layer, L.Activation):
        return _activation(layer.function, x, step.output_layout)
    raise NotImplementedError(f"no reference for {layer.KIND}")
