"""Spec -> idiomatic paddle model: an nn.Sequential of children named after the spec's layers, weights loaded exactly.

Decisions: a layer's ``activation=`` becomes its own child ``<layer>_<activation>`` right after it;
softmax and concat work on the feature axis (1 for maps and vectors, -1 for sequences);
GlobalAvgPool2d (and GlobalAvgPool1d of a map) becomes ``AdaptiveAvgPool2D(1)``/``AdaptiveAvgPool1D(1)``
named after the layer plus ``nn.Flatten`` named ``<layer>_flatten``; GlobalAvgPool1d of a sequence is
``layers.Mean(axis=1)``. Conv padding is written as paddle prints it most simply (an int when all sides
agree, [vertical, horizontal] when symmetric, [top, bottom, left, right] or [left, right] otherwise,
which is how TensorFlow's asymmetric "same" padding is reproduced). Reshape of a vector is
``nn.Unflatten(1, shape)``, of anything else ``layers.Reshape``. Recurrent layers are paddle's own
(``time_major=False``, direction "forward"/"bidirect") through subclasses in layers.py that return one tensor.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from nbunify.frameworks import load
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError, Step
from nbunify.backends.paddle.arguments import (
    after,
    check_expressible,
    conv1d_padding,
    conv_padding,
    direction,
    feature_axis,
    output_activation,
    plain,
)
from nbunify.spec import layers as L

paddle = load("paddle")
nn = paddle.nn

from nbunify.backends.paddle import layers as blocks  # noqa: E402  (needs paddle loaded in a safe order first)
from nbunify.backends.paddle.weights import set_weights  # noqa: E402


def activation(name: str, layout: str) -> Any:
    """The paddle layer for a spec activation; softmax runs over the feature axis of ``layout``."""
    factories: dict[str, Callable[[], Any]] = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(negative_slope=L.LEAKY_RELU_SLOPE),
        "gelu": lambda: nn.GELU(approximate=False),
        "silu": nn.Silu,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "softmax": lambda: nn.Softmax(axis=feature_axis(layout)),
    }
    return factories[name]()


def build(spec: Sequential, weights: Mapping[str, np.ndarray]) -> Any:
    """A ``paddle.nn.Sequential`` computing ``spec`` with the canonical ``weights`` (float32, exact)."""
    if not isinstance(spec, Sequential):
        raise TypeError(f"the paddle backend builds a spec (nu.Sequential), got {type(spec).__name__}")
    steps = {step.layer.name: step for step in spec.steps}
    model = _sequential(spec.layers, steps, (spec.input_shape, spec.input_layout))
    model._nbunify_spec = spec
    set_weights(model, weights)
    return model


def _sequential(items: Sequence[Any], steps: dict, where: tuple[tuple, str]) -> Any:
    """``where`` is the (per-sample shape, layout) of the input."""
    children = []
    for item in items:
        children += _children(item, steps, where)
        where = after([item], steps, *where)
    names = [name for name, _ in children]
    for name in names:
        if names.count(name) > 1:
            raise SpecError(f"paddle: two children of one nn.Sequential would be named {name!r} (an activation "
                            f"argument adds a child '<layer>_<activation>'); rename that layer")
    return nn.Sequential(*children)


def _branch(items: Sequence[Any], steps: dict, where: tuple[tuple, str]) -> Any:
    return _sequential(items, steps, where) if items else nn.Identity()


def _children(item: Any, steps: dict, where: tuple[tuple, str]) -> list[tuple[str, Any]]:
    if isinstance(item, Residual):
        shortcut = _branch(item.shortcut, steps, where) if item.shortcut else None
        return [(item.name, blocks.Residual(_branch(item.layers, steps, where), shortcut))]
    if isinstance(item, Concat):
        axis = feature_axis(after([item], steps, *where)[1])
        return [(item.name, blocks.Concat([_branch(branch, steps, where) for branch in item.branches()], axis=axis))]
    if isinstance(item, Block):
        raise SpecError(f"paddle: block {item.name!r} ({item.KIND}) is not supported by the paddle backend; "
                        f"use residual or concat blocks")
    make = _LAYERS.get(type(item))
    if make is None:
        supported = ", ".join(layer.KIND for layer in _LAYERS)
        raise SpecError(f"paddle: layer {item.name!r} ({item.KIND}) is not supported by the paddle backend; "
                        f"supported layers: {supported}")
    check_expressible(item)
    step = steps[item.name]
    children = make(item, step)
    function = output_activation(item)
    if function is not None:
        children.append((f"{item.name}_{function}", activation(function, step.output_layout)))
    return children


def _bias(layer: Any) -> Any:
    return None if layer.use_bias else False


def _dense(layer: L.Dense, step: Step) -> list:
    return [(layer.name, nn.Linear(step.input_shape[-1], layer.units, bias_attr=_bias(layer)))]


def _conv1d(layer: L.Conv1d, step: Step) -> list:
    shape = step.input_shape
    conv = nn.Conv1D(shape[0], layer.filters, layer.kernel_size, stride=layer.stride,
                     padding=conv1d_padding(layer, shape), dilation=layer.dilation, groups=layer.groups,
                     bias_attr=_bias(layer))
    return [(layer.name, conv)]


def _conv2d(layer: L.Conv2d, step: Step) -> list:
    shape = step.input_shape
    conv = nn.Conv2D(shape[0], layer.filters, plain(layer.kernel_size), stride=plain(layer.stride),
                     padding=conv_padding(layer, shape), dilation=plain(layer.dilation), groups=layer.groups,
                     bias_attr=_bias(layer))
    return [(layer.name, conv)]


def _conv_transpose2d(layer: L.ConvTranspose2d, step: Step) -> list:
    conv = nn.Conv2DTranspose(step.input_shape[0], layer.filters, plain(layer.kernel_size), stride=plain(layer.stride),
                              padding=plain(layer.padding), output_padding=plain(layer.output_padding),
                              bias_attr=_bias(layer))
    return [(layer.name, conv)]


def _batchnorm(layer: L.BatchNorm, step: Step) -> list:
    kind = nn.BatchNorm2D if len(step.input_shape) == 3 else nn.BatchNorm1D  # 1D takes (N, C) and (N, C, L)
    # paddle's momentum weighs the running statistic, torch's (the spec's) the new batch.
    return [(layer.name, kind(step.input_shape[0], momentum=1 - layer.momentum, epsilon=layer.epsilon))]


def _pool(kind: Callable[..., Any]) -> Callable[[Any, Step], list]:
    def make(layer: Any, step: Step) -> list:
        return [(layer.name, kind(plain(layer.kernel_size), stride=plain(layer.strides())))]

    return make


def _global_avgpool(layer: Any, step: Step) -> list:
    if step.input_layout == "sequence":
        return [(layer.name, blocks.Mean(axis=1))]
    pool = nn.AdaptiveAvgPool2D(1) if len(step.input_shape) == 3 else nn.AdaptiveAvgPool1D(1)
    return [(layer.name, pool), (f"{layer.name}_flatten", nn.Flatten())]


def _reshape(layer: L.Reshape, step: Step) -> list:
    target = list(step.output_shape)
    return [(layer.name, nn.Unflatten(1, target) if step.input_layout == "vector" else blocks.Reshape(target))]


def _recurrent(kind: type) -> Callable[[Any, Step], list]:
    def make(layer: Any, step: Step) -> list:
        rnn = kind(step.input_shape[-1], layer.units, direction=direction(layer), time_major=False,
                   return_sequences=layer.return_sequences)
        return [(layer.name, rnn)]

    return make


def _transformer_encoder(layer: L.TransformerEncoder, step: Step) -> list:
    encoder = nn.TransformerEncoderLayer(step.input_shape[-1], layer.num_heads, layer.dim_feedforward,
                                         dropout=layer.dropout, activation=layer.activation,
                                         normalize_before=layer.norm_first, layer_norm_eps=layer.epsilon)
    return [(layer.name, encoder)]


_LAYERS: dict[type, Callable[[Any, Step], list]] = {
    L.Dense: _dense,
    L.Embedding: lambda layer, step: [(layer.name, nn.Embedding(layer.num_embeddings, layer.embedding_dim))],
    L.Conv1d: _conv1d,
    L.Conv2d: _conv2d,
    L.ConvTranspose2d: _conv_transpose2d,
    L.BatchNorm: _batchnorm,
    L.LayerNorm: lambda layer, step: [(layer.name, nn.LayerNorm(step.input_shape[-1], epsilon=layer.epsilon))],
    L.MaxPool1d: _pool(nn.MaxPool1D),
    L.AvgPool1d: _pool(nn.AvgPool1D),
    L.MaxPool2d: _pool(nn.MaxPool2D),
    L.AvgPool2d: _pool(nn.AvgPool2D),
    L.GlobalAvgPool1d: _global_avgpool,
    L.GlobalAvgPool2d: _global_avgpool,
    L.Flatten: lambda layer, step: [(layer.name, nn.Flatten())],
    L.Reshape: _reshape,
    L.Transpose: lambda layer, step: [(layer.name, blocks.Transpose())],
    L.SimpleRNN: _recurrent(blocks.SimpleRNN),
    L.LSTM: _recurrent(blocks.LSTM),
    L.GRU: _recurrent(blocks.GRU),
    L.MultiHeadAttention: lambda layer, step: [
        (layer.name, nn.MultiHeadAttention(step.input_shape[-1], layer.num_heads, dropout=layer.dropout))],
    L.TransformerEncoder: _transformer_encoder,
    L.Dropout: lambda layer, step: [(layer.name, nn.Dropout(p=layer.rate))],
    L.Activation: lambda layer, step: [(layer.name, activation(layer.function, step.output_layout))],
}
