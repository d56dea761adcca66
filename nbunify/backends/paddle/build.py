"""Spec -> idiomatic paddle model: an nn.Sequential of children named after the spec's layers, weights loaded exactly.

Decisions: a layer's ``activation=`` becomes its own child ``<layer>_<activation>`` right after it;
GlobalAvgPool2d becomes ``AdaptiveAvgPool2D(1)`` named after the layer plus ``nn.Flatten`` named
``<layer>_flatten``; Conv2d padding is written as paddle prints it most simply (an int when all four
sides agree, [vertical, horizontal] when symmetric, [top, bottom, left, right] otherwise, which is
how TensorFlow's asymmetric "same" padding is reproduced).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from nbunify.frameworks import load
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError
from nbunify.backends.paddle.arguments import conv_padding, plain
from nbunify.spec import layers as L

paddle = load("paddle")
nn = paddle.nn

from nbunify.backends.paddle import layers as blocks  # noqa: E402  (needs paddle loaded in a safe order first)
from nbunify.backends.paddle.weights import set_weights  # noqa: E402

ACTIVATIONS: dict[str, Callable[[], Any]] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(negative_slope=L.LEAKY_RELU_SLOPE),
    "gelu": lambda: nn.GELU(approximate=False),
    "silu": nn.Silu,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softmax": lambda: nn.Softmax(axis=1),  # the channel/feature axis, as the spec says
}


def build(spec: Sequential, weights: Mapping[str, np.ndarray]) -> Any:
    """A ``paddle.nn.Sequential`` computing ``spec`` with the canonical ``weights`` (float32, exact)."""
    if not isinstance(spec, Sequential):
        raise TypeError(f"the paddle backend builds a spec (nu.Sequential), got {type(spec).__name__}")
    input_shapes = {step.layer.name: step.input_shape for step in spec.steps}
    model = _sequential(spec.layers, input_shapes)
    model._nbunify_spec = spec
    set_weights(model, weights)
    return model


def _sequential(items: Sequence[Any], input_shapes: dict) -> Any:
    children = [child for item in items for child in _children(item, input_shapes)]
    names = [name for name, _ in children]
    for name in names:
        if names.count(name) > 1:
            raise SpecError(f"paddle: two children of one nn.Sequential would be named {name!r} (an activation "
                            f"argument adds a child '<layer>_<activation>'); rename that layer")
    return nn.Sequential(*children)


def _branch(items: Sequence[Any], input_shapes: dict) -> Any:
    return _sequential(items, input_shapes) if items else nn.Identity()


def _children(item: Any, input_shapes: dict) -> list[tuple[str, Any]]:
    if isinstance(item, Residual):
        shortcut = _branch(item.shortcut, input_shapes) if item.shortcut else None
        return [(item.name, blocks.Residual(_branch(item.layers, input_shapes), shortcut))]
    if isinstance(item, Concat):
        return [(item.name, blocks.Concat([_branch(branch, input_shapes) for branch in item.branches()]))]
    if isinstance(item, Block):
        raise SpecError(f"paddle: block {item.name!r} ({item.KIND}) is not supported by the paddle backend; "
                        f"use residual or concat blocks")
    make = _LAYERS.get(type(item))
    if make is None:
        supported = ", ".join(layer.KIND for layer in _LAYERS)
        raise SpecError(f"paddle: layer {item.name!r} ({item.KIND}) is not supported by the paddle backend; "
                        f"supported layers: {supported}")
    children = make(item, input_shapes[item.name])
    activation = getattr(item, "activation", None)
    if activation is not None:
        children.append((f"{item.name}_{activation}", ACTIVATIONS[activation]()))
    return children






def _dense(layer: L.Dense, shape: tuple) -> list:
    return [(layer.name, nn.Linear(shape[-1], layer.units, bias_attr=None if layer.use_bias else False))]


def _conv2d(layer: L.Conv2d, shape: tuple) -> list:
    conv = nn.Conv2D(shape[0], layer.filters, plain(layer.kernel_size), stride=plain(layer.stride),
                     padding=conv_padding(layer, shape), dilation=plain(layer.dilation), groups=layer.groups,
                     bias_attr=None if layer.use_bias else False)
    return [(layer.name, conv)]


def _batchnorm(layer: L.BatchNorm, shape: tuple) -> list:
    kind = nn.BatchNorm1D if len(shape) == 1 else nn.BatchNorm2D
    # paddle's momentum weighs the running statistic, torch's (the spec's) the new batch.
    return [(layer.name, kind(shape[0], momentum=1 - layer.momentum, epsilon=layer.epsilon))]


def _maxpool2d(layer: L.MaxPool2d, shape: tuple) -> list:
    return [(layer.name, nn.MaxPool2D(plain(layer.kernel_size), stride=plain(layer.strides())))]


def _avgpool2d(layer: L.AvgPool2d, shape: tuple) -> list:
    return [(layer.name, nn.AvgPool2D(plain(layer.kernel_size), stride=plain(layer.strides())))]


def _global_avgpool2d(layer: L.GlobalAvgPool2d, shape: tuple) -> list:
    return [(layer.name, nn.AdaptiveAvgPool2D(1)), (f"{layer.name}_flatten", nn.Flatten())]


_LAYERS: dict[type, Callable[[Any, tuple], list]] = {
    L.Dense: _dense,
    L.Conv2d: _conv2d,
    L.BatchNorm: _batchnorm,
    L.MaxPool2d: _maxpool2d,
    L.AvgPool2d: _avgpool2d,
    L.GlobalAvgPool2d: _global_avgpool2d,
    L.Flatten: lambda layer, shape: [(layer.name, nn.Flatten())],
    L.Dropout: lambda layer, shape: [(layer.name, nn.Dropout(p=layer.rate))],
    L.Activation: lambda layer, shape: [(layer.name, ACTIVATIONS[layer.function]())],
}
