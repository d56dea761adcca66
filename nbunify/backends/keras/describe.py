"""What nu.summary needs from a keras model: each spec layer's native type and parameter counts, as keras counts them."""

from __future__ import annotations

from typing import Any

from nbunify.frameworks import load
from nbunify.spec import Sequential


def _type_name(keras: Any, layer: Any) -> str:
    """"layers.Conv2D"; "layers.Bidirectional(layers.LSTM)"; nbunify's own classes by their bare name."""
    cls = type(layer)
    name = f"layers.{cls.__name__}" if getattr(keras.layers, cls.__name__, None) is cls else cls.__name__
    if isinstance(layer, keras.layers.Bidirectional):
        name += f"({_type_name(keras, layer.forward_layer)})"
    return name


def layer_types(model: Any) -> dict[str, str]:
    """``{spec layer name: "layers.Conv2D"}``: every spec layer is a keras layer of the same name
    (a Transpose is a ``layers.Identity``: keras already holds the data in the transposed order)."""
    keras = load("keras")
    spec: Sequential = model._nbunify_spec
    return {step.layer.name: _type_name(keras, model.get_layer(step.layer.name)) for step in spec.steps}


def layer_parameters(model: Any) -> dict[str, tuple[int, int]]:
    """``{spec layer name: (all weights incl. BatchNorm moving statistics, trainable weights)}`` of its keras layer.

    Helper layers a spec layer may add (``<name>_pad``, ``<name>_crop``, ``<name>_activation``, the
    Permutes of a Reshape) hold no weights, so the layer of the spec layer's own name has them all.
    """
    spec: Sequential = model._nbunify_spec
    result = {}
    for step in spec.steps:
        layer = model.get_layer(step.layer.name)
        result[step.layer.name] = (_size(layer.weights), _size(layer.trainable_weights))
    return result


def count_parameters(model: Any) -> tuple[int, int]:
    """(all weights incl. BatchNorm moving statistics, trainable weights), as keras counts them."""
    return _size(model.weights), _size(model.trainable_weights)


def _size(variables: list[Any]) -> int:
    total = 0
    for variable in variables:
        count = 1
        for extent in variable.shape:
            count *= int(extent)
        total += count
    return total
