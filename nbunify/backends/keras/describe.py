"""What nu.summary needs from a keras model: the native type of each spec layer and keras's own parameter count."""

from __future__ import annotations

from typing import Any

from nbunify.spec import Sequential


def layer_types(model: Any) -> dict[str, str]:
    """``{spec layer name: "layers.Conv2D"}``: every spec layer is a keras layer of the same name."""
    spec: Sequential = model._nbunify_spec
    return {step.layer.name: f"layers.{type(model.get_layer(step.layer.name)).__name__}" for step in spec.steps}


def count_parameters(model: Any) -> tuple[int, int]:
    """(all weights incl. BatchNorm moving statistics, trainable weights), as keras counts them."""
    trainable = sum(int(weight.numpy().size) for weight in model.trainable_weights)
    return int(model.count_params()), trainable
