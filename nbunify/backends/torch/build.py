"""Build a spec as an idiomatic torch ``nn.Sequential`` whose children carry the spec's layer names."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from nbunify.backends.torch import layers as blocks
from nbunify.backends.torch.layout import block_output, feature_dim
from nbunify.backends.torch.weights import set_weights
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError, Step
from nbunify.spec import layers as L
from nbunify.spec.layers import Shape

Modules = list[tuple[str, nn.Module]]


def build(spec: Sequential, weights: Mapping[str, np.ndarray]) -> nn.Sequential:
    """An ``nn.Sequential`` for ``spec`` holding the canonical ``weights`` (float32), with the spec attached.

    Children are named after the spec's layers (``conv2d_1``, ``lstm_2`` ...), so the state_dict keys of a
    flat spec are the canonical keys (recurrent layers keep torch's ``weight_ih_l0`` ...). A layer's
    ``activation=`` becomes a module ``<layer>_<activation>`` right after it; asymmetric "same" padding
    becomes an ``nn.ZeroPad1d``/``nn.ZeroPad2d`` named ``<layer>_pad`` before the convolution; blocks
    become ``layers.Residual`` / ``layers.Concat``. Recurrent layers and self-attention are thin subclasses
    of nn.LSTM / nn.GRU / nn.RNN / nn.MultiheadAttention whose forward returns one tensor (their state_dicts
    are torch's), a transformer block is nn.TransformerEncoderLayer itself, and a transpose, a reshape between
    2-D and 3-D samples or a sequence mean are one-line modules of ``layers``. The modules are created under
    a forked RNG: torch's default initialization is overwritten anyway, and building a model must not move
    the user's global torch random state.
    """
    steps = {id(step.layer): step for step in spec.steps}
    with torch.random.fork_rng(devices=[]):
        model = nn.Sequential(_children(spec.layers, steps, spec.input_shape, spec.input_layout))
    model._nbunify_spec = spec
    set_weights(model, weights)
    return model


def _children(items: Sequence[Any], steps: dict[int, Step], shape: Shape, layout: str) -> OrderedDict[str, nn.Module]:
    """The named modules of ``items``, whose input has ``shape`` laid out as ``layout``."""
    children: OrderedDict[str, nn.Module] = OrderedDict()

    def add(name: str, module: nn.Module) -> None:
        if name in children:  # e.g. a layer the user named "conv2d_1_relu" next to conv2d_1's activation
            raise SpecError(f"the torch backend names two modules {name!r}: rename the layer {name!r} in the spec")
        children[name] = module

    for item in items:
        if isinstance(item, Block):
            add(item.name, _block(item, steps, shape, layout))
        else:
            translate = _TRANSLATIONS.get(type(item))
            if translate is None:
                raise item.fail(f"the torch backend cannot build layers of kind {item.KIND!r} yet")
            for name, module in translate(item, steps[id(item)]):
                add(name, module)
        shape, layout = block_output(item, steps)
    return children


def _branch(items: Sequence[Any], steps: dict[int, Step], shape: Shape, layout: str) -> nn.Module:
    return nn.Sequential(_children(items, steps, shape, layout)) if items else nn.Identity()


def _block(block: Block, steps: dict[int, Step], shape: Shape, layout: str) -> nn.Module:
    if isinstance(block, Residual):
        body, shortcut = (_branch(branch, steps, shape, layout) for branch in (block.layers, block.shortcut))
        return blocks.Residual(body, shortcut)
    if isinstance(block, Concat):
        dim = feature_dim(block_output(block, steps)[1])
        return blocks.Concat([_branch(branch, steps, shape, layout) for branch in block.branches()], dim=dim)
    raise block.fail("the torch backend cannot build this kind of block yet")


def _with_activation(layer: Any, module: nn.Module, step: Step) -> Modules:
    result = [(layer.name, module)]
    if layer.activation is not None:
        function = blocks.activation(layer.activation, feature_dim(step.output_layout))
        result.append((f"{layer.name}_{layer.activation}", function))
    return result


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _dense(layer: L.Dense, step: Step) -> Modules:
    return _with_activation(layer, nn.Linear(step.input_shape[-1], layer.units, bias=layer.use_bias), step)


def _conv2d(layer: L.Conv2d, step: Step) -> Modules:
    shape = step.input_shape
    top, bottom, left, right = layer.explicit_padding(shape)
    symmetric = top == bottom and left == right
    convolution = nn.Conv2d(shape[0], layer.filters, _pair(layer.kernel_size), stride=_pair(layer.stride),
                            padding=(top, left) if symmetric else 0, dilation=_pair(layer.dilation),
                            groups=layer.groups, bias=layer.use_bias)
    # torch pads both sides equally; TensorFlow-style "same" may put the extra row/column at the end
    padding = [] if symmetric else [(f"{layer.name}_pad", nn.ZeroPad2d((left, right, top, bottom)))]
    return padding + _with_activation(layer, convolution, step)


def _conv1d(layer: L.Conv1d, step: Step) -> Modules:
    shape = step.input_shape
    left, right = layer.explicit_padding(shape)
    convolution = nn.Conv1d(shape[0], layer.filters, layer.kernel()[0], stride=layer.strides()[0],
                            padding=left if left == right else 0, dilation=layer.dilations()[0],
                            groups=layer.groups, bias=layer.use_bias)
    padding = [] if left == right else [(f"{layer.name}_pad", nn.ZeroPad1d((left, right)))]
    return padding + _with_activation(layer, convolution, step)


def _conv_transpose2d(layer: L.ConvTranspose2d, step: Step) -> Modules:
    convolution = nn.ConvTranspose2d(step.input_shape[0], layer.filters, _pair(layer.kernel_size),
                                     stride=_pair(layer.stride), padding=_pair(layer.padding),
                                     output_padding=_pair(layer.output_padding), bias=layer.use_bias)
    return _with_activation(layer, convolution, step)


def _batchnorm(layer: L.BatchNorm, step: Step) -> Modules:
    kind = nn.BatchNorm1d if len(step.input_shape) <= 2 else nn.BatchNorm2d  # (N, C) and (N, C, L) are 1d
    return [(layer.name, kind(step.input_shape[0], eps=layer.epsilon, momentum=layer.momentum))]


def _global_avgpool(layer: L.Layer, step: Step) -> Modules:
    if step.input_layout == "sequence":  # (N, L, E) -> (N, E): the mean over the steps
        return [(layer.name, blocks.Mean(dim=1))]
    pool = nn.AdaptiveAvgPool2d(1) if len(step.input_shape) == 3 else nn.AdaptiveAvgPool1d(1)
    return [(layer.name, pool), (f"{layer.name}_flatten", nn.Flatten())]


def _reshape(layer: L.Reshape, step: Step) -> Modules:
    if len(step.output_shape) == 1:
        return [(layer.name, nn.Flatten())]
    if len(step.input_shape) == 1:
        return [(layer.name, nn.Unflatten(1, step.output_shape))]
    return [(layer.name, blocks.Reshape(*step.output_shape))]


def _recurrent(layer: L.Layer, step: Step) -> Modules:
    kind = {L.LSTM: blocks.LSTM, L.GRU: blocks.GRU, L.SimpleRNN: blocks.RNN}[type(layer)]
    return [(layer.name, kind(step.input_shape[-1], layer.units, bidirectional=layer.bidirectional,
                              return_sequences=layer.return_sequences))]


def _attention(layer: L.MultiHeadAttention, step: Step) -> Modules:
    return [(layer.name, blocks.SelfAttention(step.input_shape[-1], layer.num_heads, dropout=layer.dropout,
                                              batch_first=True))]


def _transformer(layer: L.TransformerEncoder, step: Step) -> Modules:
    return [(layer.name, nn.TransformerEncoderLayer(
        step.input_shape[-1], layer.num_heads, dim_feedforward=layer.dim_feedforward, dropout=layer.dropout,
        activation=layer.activation, layer_norm_eps=layer.epsilon, batch_first=True, norm_first=layer.norm_first))]


def _pool(kind: type[nn.Module]) -> Callable[[Any, Step], Modules]:
    return lambda layer, step: [(layer.name, kind(layer.kernel()[0], layer.strides()[0]))]


_TRANSLATIONS: dict[type, Callable[[Any, Step], Modules]] = {
    L.Dense: _dense,
    L.Embedding: lambda layer, step: [(layer.name, nn.Embedding(layer.num_embeddings, layer.embedding_dim))],
    L.Conv1d: _conv1d,
    L.Conv2d: _conv2d,
    L.ConvTranspose2d: _conv_transpose2d,
    L.BatchNorm: _batchnorm,
    L.LayerNorm: lambda layer, step: [(layer.name, nn.LayerNorm(step.input_shape[-1], eps=layer.epsilon))],
    L.MaxPool1d: _pool(nn.MaxPool1d),
    L.AvgPool1d: _pool(nn.AvgPool1d),
    L.MaxPool2d: lambda layer, step: [(layer.name, nn.MaxPool2d(_pair(layer.kernel_size), layer.strides()))],
    L.AvgPool2d: lambda layer, step: [(layer.name, nn.AvgPool2d(_pair(layer.kernel_size), layer.strides()))],
    L.GlobalAvgPool1d: _global_avgpool,
    L.GlobalAvgPool2d: _global_avgpool,
    L.Flatten: lambda layer, step: [(layer.name, nn.Flatten())],
    L.Reshape: _reshape,
    L.Transpose: lambda layer, step: [(layer.name, blocks.Transpose())],
    L.SimpleRNN: _recurrent,
    L.LSTM: _recurrent,
    L.GRU: _recurrent,
    L.MultiHeadAttention: _attention,
    L.TransformerEncoder: _transformer,
    L.Dropout: lambda layer, step: [(layer.name, nn.Dropout(layer.rate))],
    L.Activation: lambda layer, step: [(layer.name, blocks.activation(layer.function,
                                                                      feature_dim(step.output_layout)))],
}
