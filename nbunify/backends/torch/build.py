"""Build a spec as an idiomatic torch ``nn.Sequential`` whose children carry the spec's layer names."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from nbunify.backends.torch import layers as blocks
from nbunify.backends.torch.weights import set_weights
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError, Step
from nbunify.spec import layers as L


def build(spec: Sequential, weights: Mapping[str, np.ndarray]) -> nn.Sequential:
    """An ``nn.Sequential`` for ``spec`` holding the canonical ``weights`` (float32), with the spec attached.

    Children are named after the spec's layers (``conv2d_1``, ``dense_2`` ...), so the state_dict keys of
    a flat spec are the canonical keys. A layer's ``activation=`` becomes a module ``<layer>_<activation>``
    right after it; asymmetric "same" padding becomes an ``nn.ZeroPad2d`` named ``<layer>_pad`` before
    the convolution; blocks become ``layers.Residual`` / ``layers.Concat``. The modules are created under
    a forked RNG: torch's default initialization is overwritten anyway, and building a model must not
    move the user's global torch random state.
    """
    steps = {id(step.layer): step for step in spec.steps}
    with torch.random.fork_rng(devices=[]):
        model = nn.Sequential(_children(spec.layers, steps))
    model._nbunify_spec = spec
    set_weights(model, weights)
    return model


def _children(items: Sequence[Any], steps: dict[int, Step]) -> OrderedDict[str, nn.Module]:
    children: OrderedDict[str, nn.Module] = OrderedDict()

    def add(name: str, module: nn.Module) -> None:
        if name in children:  # e.g. a layer the user named "conv2d_1_relu" next to conv2d_1's activation
            raise SpecError(f"the torch backend names two modules {name!r}: rename the layer {name!r} in the spec")
        children[name] = module

    for item in items:
        if isinstance(item, Block):
            add(item.name, _block(item, steps))
            continue
        translate = _TRANSLATIONS.get(type(item))
        if translate is None:
            raise item.fail(f"the torch backend cannot build layers of kind {item.KIND!r} yet")
        for name, module in translate(item, steps[id(item)].input_shape):
            add(name, module)
    return children


def _branch(items: Sequence[Any], steps: dict[int, Step]) -> nn.Module:
    return nn.Sequential(_children(items, steps)) if items else nn.Identity()


def _block(block: Block, steps: dict[int, Step]) -> nn.Module:
    if isinstance(block, Residual):
        return blocks.Residual(_branch(block.layers, steps), _branch(block.shortcut, steps))
    if isinstance(block, Concat):
        return blocks.Concat([_branch(branch, steps) for branch in block.branches()])
    raise block.fail("the torch backend cannot build this kind of block yet")


def _with_activation(layer: Any, module: nn.Module) -> list[tuple[str, nn.Module]]:
    result = [(layer.name, module)]
    if layer.activation is not None:
        result.append((f"{layer.name}_{layer.activation}", blocks.activation(layer.activation)))
    return result


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _dense(layer: L.Dense, shape: tuple[int, ...]) -> list[tuple[str, nn.Module]]:
    return _with_activation(layer, nn.Linear(shape[-1], layer.units, bias=layer.use_bias))


def _conv2d(layer: L.Conv2d, shape: tuple[int, ...]) -> list[tuple[str, nn.Module]]:
    top, bottom, left, right = layer.explicit_padding(shape)
    symmetric = top == bottom and left == right
    convolution = nn.Conv2d(shape[0], layer.filters, _pair(layer.kernel_size), stride=_pair(layer.stride),
                            padding=(top, left) if symmetric else 0, dilation=_pair(layer.dilation),
                            groups=layer.groups, bias=layer.use_bias)
    # torch pads both sides equally; TensorFlow-style "same" may put the extra row/column at the end
    padding = [] if symmetric else [(f"{layer.name}_pad", nn.ZeroPad2d((left, right, top, bottom)))]
    return padding + _with_activation(layer, convolution)


def _batchnorm(layer: L.BatchNorm, shape: tuple[int, ...]) -> list[tuple[str, nn.Module]]:
    kind = nn.BatchNorm1d if len(shape) == 1 else nn.BatchNorm2d
    return [(layer.name, kind(shape[0], eps=layer.epsilon, momentum=layer.momentum))]


def _global_avgpool2d(layer: L.GlobalAvgPool2d, shape: tuple[int, ...]) -> list[tuple[str, nn.Module]]:
    return [(layer.name, nn.AdaptiveAvgPool2d(1)), (f"{layer.name}_flatten", nn.Flatten())]


_TRANSLATIONS: dict[type, Callable[[Any, tuple[int, ...]], list[tuple[str, nn.Module]]]] = {
    L.Dense: _dense,
    L.Conv2d: _conv2d,
    L.BatchNorm: _batchnorm,
    L.MaxPool2d: lambda layer, shape: [(layer.name, nn.MaxPool2d(_pair(layer.kernel_size), layer.strides()))],
    L.AvgPool2d: lambda layer, shape: [(layer.name, nn.AvgPool2d(_pair(layer.kernel_size), layer.strides()))],
    L.GlobalAvgPool2d: _global_avgpool2d,
    L.Flatten: lambda layer, shape: [(layer.name, nn.Flatten())],
    L.Dropout: lambda layer, shape: [(layer.name, nn.Dropout(layer.rate))],
    L.Activation: lambda layer, shape: [(layer.name, blocks.activation(layer.function))],
}
