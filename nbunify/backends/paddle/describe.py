"""What nu.summary needs from a paddle model: the native type of each spec layer and paddle's own parameter count."""

from __future__ import annotations

from typing import Any

from nbunify.backends.paddle.weights import native_layers


def layer_types(model: Any) -> dict[str, str]:
    """``{spec layer name: "nn.Conv2D"}`` for every layer of the spec."""
    return {name: f"nn.{type(layer).__name__}" for name, layer in native_layers(model).items()}


def count_parameters(model: Any) -> tuple[int, int]:
    """(all parameters incl. BatchNorm's non-trainable _mean/_variance, trainable ones), as paddle counts them."""
    parameters = model.parameters()
    return sum(int(p.size) for p in parameters), sum(int(p.size) for p in parameters if p.trainable)
