"""What nu.summary needs from a paddle model: the native type of each spec layer and paddle's own parameter counts."""

from __future__ import annotations

from typing import Any

from nbunify.backends.paddle.weights import native_layers
from nbunify.frameworks import load


def layer_types(model: Any) -> dict[str, str]:
    """``{spec layer name: "nn.Conv2D"}`` for every layer of the spec (nbunify's helpers by their own name, e.g. "Mean")."""
    return {name: _type_name(layer) for name, layer in native_layers(model).items()}


def layer_parameters(model: Any) -> dict[str, tuple[int, int]]:
    """``{spec layer name: (parameters and buffers, trainable ones)}`` counted on the paddle layer built for it.

    paddle keeps BatchNorm's running statistics as non-trainable parameters (``_mean``, ``_variance``), and an
    RNN's two biases per direction (``bias_ih_l0``, ``bias_hh_l0``) where the spec folds them into one. Buffers
    paddle does not save (an RNN's cuDNN ``_dropout_state``) are no part of the model and are not counted.
    """
    result = {}
    for name, layer in native_layers(model).items():
        buffers = [buffer for buffer in layer.buffers() if buffer.persistable]
        tensors = {id(tensor): tensor for tensor in [*layer.parameters(), *buffers]}.values()
        result[name] = (sum(int(t.size) for t in tensors),
                        sum(int(t.size) for t in tensors if getattr(t, "trainable", False)))
    return result


def count_parameters(model: Any) -> tuple[int, int]:
    """(all parameters incl. BatchNorm's non-trainable _mean/_variance, trainable ones), as paddle counts them."""
    parameters = model.parameters()
    return sum(int(p.size) for p in parameters), sum(int(p.size) for p in parameters if p.trainable)


def _type_name(layer: Any) -> str:
    """"nn.LSTM" for paddle's layers and nbunify's subclasses of them that only pick the output; else the class name."""
    kind = type(layer)
    native = getattr(load("paddle").nn, kind.__name__, None)
    return f"nn.{kind.__name__}" if isinstance(native, type) and isinstance(layer, native) else kind.__name__
