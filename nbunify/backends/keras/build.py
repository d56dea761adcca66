"""Spec -> an idiomatic functional Keras 3 model, channels-last, one native layer per spec layer with its name."""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from nbunify.backends.keras.layout import (
    KerasLayout,
    activation_argument,
    channel_axis,
    flatten_permutation,
    is_map,
    keras_shape,
    same_order,
)
from nbunify.backends.keras.weights import set_weights
from nbunify.frameworks import load
from nbunify.spec import Concat, Residual, Sequential, SpecError
from nbunify.spec import layers as L
from nbunify.spec.errors import shape_text

CHANNELS_LAST = "channels_last"  # explicit, so a user's keras.json "channels_first" cannot change the build


class Flow(NamedTuple):
    """A keras tensor with its canonical per-sample shape and, for flattened maps, its feature permutation."""

    tensor: Any
    shape: tuple[int, ...]
    permutation: np.ndarray | None


def build(spec: Sequential, weights: dict[str, np.ndarray]) -> Any:
    """A keras.Model computing ``spec`` on channels-last inputs, holding the canonical ``weights``.

    C x H x W maps are H x W x C in keras; a Flatten of a map yields features in (h, w, c) order,
    so the following Dense (and any BatchNorm between) gets its rows permuted to compute exactly
    what the channels-first spec computes. ``model._nbunify_spec`` and ``model._nbunify_layout``
    let ``weights.py`` and ``predict.py`` map back to canonical layout.
    """
    keras = load("keras")
    builder = _Builder(spec, keras)
    inputs = keras.Input(shape=keras_shape(spec.input_shape))
    flow = builder.run(spec.layers, Flow(inputs, spec.input_shape, None))
    model = keras.Model(inputs, flow.tensor, name=spec.name)
    model._nbunify_spec = spec
    model._nbunify_layout = KerasLayout(builder.permutations, flow.permutation)
    set_weights(model, weights)
    return model


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


class _Builder:
    """Walks the spec's layers and blocks, calling native keras layers on the flowing tensor."""

    def __init__(self, spec: Sequential, keras: Any) -> None:
        self.keras = keras
        self.steps = {step.layer.name: step for step in spec.steps}
        self.permutations: dict[str, np.ndarray] = {}

    def run(self, items: Sequence[Any], flow: Flow) -> Flow:
        for item in items:
            if isinstance(item, Residual):
                flow = self._residual(item, flow)
            elif isinstance(item, Concat):
                flow = self._concat(item, flow)
            else:
                flow = self._layer(item, flow)
        return flow

    def _call(self, layer_class: str, inputs: Any, name: str, kind: str, *args: Any, **kwargs: Any) -> Any:
        """Create ``keras.layers.<layer_class>(*args, name=name, **kwargs)`` and call it; keras's refusals become SpecError."""
        try:
            return getattr(self.keras.layers, layer_class)(*args, name=name, **kwargs)(inputs)
        except ValueError as error:
            raise SpecError(f"keras cannot build layer {name!r} ({kind}) as {layer_class}: {error}") from None

    # -- blocks ------------------------------------------------------------------------------
    def _residual(self, block: Residual, flow: Flow) -> Flow:
        body = self.run(block.layers, flow)
        shortcut = self.run(block.shortcut, flow) if block.shortcut else flow
        if not same_order(body.permutation, shortcut.permutation):
            raise SpecError(f"keras cannot build block {block.name!r} (residual): its branches order their features "
                            "differently (one flattens a C x H x W map); add a Dense after the Flatten in each branch")
        tensor = self._call("Add", [body.tensor, shortcut.tensor], block.name, block.KIND)
        return Flow(tensor, body.shape, body.permutation)

    def _concat(self, block: Concat, flow: Flow) -> Flow:
        outputs = [self.run(branch, flow) for branch in block.branches()]
        shape = (sum(out.shape[0] for out in outputs), *outputs[0].shape[1:])
        permutation = None
        if any(out.permutation is not None for out in outputs):
            offsets = np.cumsum([0] + [out.shape[0] for out in outputs[:-1]])
            permutation = np.concatenate([(out.permutation if out.permutation is not None else np.arange(out.shape[0])) + offset
                                          for out, offset in zip(outputs, offsets)])
        tensor = self._call("Concatenate", [out.tensor for out in outputs], block.name, block.KIND, axis=channel_axis(shape))
        return Flow(tensor, shape, permutation)

    # -- layers ------------------------------------------------------------------------------
    def _layer(self, layer: L.Layer, flow: Flow) -> Flow:
        shape = self.steps[layer.name].output_shape
        name, kind, x = layer.name, layer.KIND, flow.tensor
        if isinstance(layer, L.Dense):
            if is_map(flow.shape):
                raise SpecError(f"keras cannot build layer {name!r} (dense) on a {shape_text(flow.shape)} map: keras maps "
                                "are channels-last, so Dense would mix channels instead of widths; add Flatten or "
                                "GlobalAvgPool2d before it")
            if flow.permutation is not None:
                self.permutations[name] = flow.permutation
            activation, separate = activation_argument(layer.activation, shape)
            x = self._call("Dense", x, name, kind, layer.units, activation=activation, use_bias=layer.use_bias)
            return Flow(self._separate_activation(separate, x, name, shape), shape, None)
        if isinstance(layer, L.Conv2d):
            return Flow(self._conv(layer, flow, shape), shape, None)
        if isinstance(layer, (L.MaxPool2d, L.AvgPool2d)):
            pooling = "MaxPooling2D" if isinstance(layer, L.MaxPool2d) else "AveragePooling2D"
            x = self._call(pooling, x, name, kind, pool_size=_pair(layer.kernel_size), strides=layer.strides(),
                           padding="valid", data_format=CHANNELS_LAST)
            return Flow(x, shape, None)
        if isinstance(layer, L.GlobalAvgPool2d):
            return Flow(self._call("GlobalAveragePooling2D", x, name, kind, data_format=CHANNELS_LAST), shape, None)
        if isinstance(layer, L.BatchNorm):
            if flow.permutation is not None:
                self.permutations[name] = flow.permutation
            x = self._call("BatchNormalization", x, name, kind, axis=-1, epsilon=layer.epsilon, momentum=1 - layer.momentum)
            return Flow(x, shape, flow.permutation)
        if isinstance(layer, L.Flatten):
            x = self._call("Flatten", x, name, kind, data_format=CHANNELS_LAST)
            permutation = flatten_permutation(flow.shape) if is_map(flow.shape) else flow.permutation if len(flow.shape) == 1 else None
            return Flow(x, shape, permutation)
        if isinstance(layer, L.Dropout):
            return Flow(self._call("Dropout", x, name, kind, layer.rate), shape, flow.permutation)
        if isinstance(layer, L.Activation):
            return Flow(self._activation_layer(layer.function, x, name, shape), shape, flow.permutation)
        raise SpecError(f"the keras backend cannot build layer {name!r}: it has no mapping for {kind!r} layers")

    def _conv(self, layer: L.Conv2d, flow: Flow, shape: tuple[int, ...]) -> Any:
        stride, dilation = _pair(layer.stride), _pair(layer.dilation)
        if max(stride) > 1 and max(dilation) > 1:
            raise SpecError(f"keras cannot build layer {layer.name!r} (conv2d): Keras convolutions refuse stride > 1 "
                            f"together with dilation > 1 (stride {stride}, dilation {dilation}); use stride 1 and a "
                            "pooling layer after it, or dilation 1")
        x = flow.tensor
        padding = "same" if layer.padding == "same" else "valid"  # TF's "same" pads as Conv2d.explicit_padding says
        if padding == "valid":
            top, bottom, left, right = layer.explicit_padding(flow.shape)
            if top or bottom or left or right:
                x = self._call("ZeroPadding2D", x, f"{layer.name}_pad", layer.KIND, ((top, bottom), (left, right)),
                               data_format=CHANNELS_LAST)
        activation, separate = activation_argument(layer.activation, shape)
        common = dict(kernel_size=_pair(layer.kernel_size), strides=stride, padding=padding, dilation_rate=dilation,
                      use_bias=layer.use_bias, activation=activation, data_format=CHANNELS_LAST)
        channels = flow.shape[0]
        if layer.groups > 1 and layer.groups == channels:
            x = self._call("DepthwiseConv2D", x, layer.name, layer.KIND, depth_multiplier=layer.filters // channels, **common)
        else:
            x = self._call("Conv2D", x, layer.name, layer.KIND, layer.filters, groups=layer.groups, **common)
        return self._separate_activation(separate, x, layer.name, shape)

    # -- activations -------------------------------------------------------------------------
    def _separate_activation(self, function: str | None, x: Any, name: str, shape: tuple[int, ...]) -> Any:
        return x if function is None else self._activation_layer(function, x, f"{name}_activation", shape)

    def _activation_layer(self, function: str, x: Any, name: str, shape: tuple[int, ...]) -> Any:
        if function == "leaky_relu":
            return self._call("LeakyReLU", x, name, "activation", negative_slope=L.LEAKY_RELU_SLOPE)
        if function == "softmax" and channel_axis(shape) != -1:
            return self._call("Softmax", x, name, "activation", axis=channel_axis(shape))
        return self._call("Activation", x, name, "activation", function)  # "gelu" is exact (approximate=False)

