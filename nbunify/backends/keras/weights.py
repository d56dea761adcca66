"""Canonical weights (torch layout) <-> a keras model built by nbunify: exact transposes and permutations."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from nbunify.backends import NotBuiltByNbunifyError, spec_of
from nbunify.backends.keras.layout import KerasLayout
from nbunify.backends.keras.mapping import to_canonical, to_keras
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError

ENCODER = "nbunify>TransformerEncoder"  # keras's registered name of layers.TransformerEncoder


def _spec_and_layout(model: Any) -> tuple[Sequential, KerasLayout]:
    hint = (" (a model loaded from a .keras file loses this link: rebuild it from the spec and copy weights with "
            "nu.load_weights)")
    spec = spec_of(model, "keras", hint)
    layout = getattr(model, "_nbunify_layout", None)
    if layout is None:
        raise NotBuiltByNbunifyError(f"keras model {getattr(model, 'name', model)!r} has its spec but not its layout "
                                     f"record: build it with nu.build(spec, 'keras'){hint}")
    return spec, layout


def native_variables(layer: Any) -> dict[str, Any]:
    """The variables of a keras layer under the keys mapping.py uses, found by structure, not by name.

    Inside a Bidirectional both directions name their variables "kernel", so they are keyed
    ``forward.kernel`` and ``backward.kernel``; attention and encoder sublayers are prefixed alike.
    """
    keras = load("keras")

    def prefixed(prefix: str, sublayer: Any) -> dict[str, Any]:
        return {f"{prefix}.{key}": variable for key, variable in native_variables(sublayer).items()}

    if isinstance(layer, keras.layers.Bidirectional):
        return {**prefixed("forward", layer.forward_layer), **prefixed("backward", layer.backward_layer)}
    if isinstance(layer, keras.layers.RNN):
        return {variable.name: variable for variable in layer.cell.weights}
    if isinstance(layer, keras.layers.MultiHeadAttention):
        return {**prefixed("query", layer.query_dense), **prefixed("key", layer.key_dense),
                **prefixed("value", layer.value_dense), **prefixed("output", layer.output_dense)}
    if keras.saving.get_registered_name(type(layer)) == ENCODER:  # nbunify's class, or generated code's copy of it
        return {key: value for part in ("attention", "dense1", "dense2", "norm1", "norm2")
                for key, value in prefixed(part, getattr(layer, part)).items()}
    return {variable.name: variable for variable in layer.weights}


def get_weights(model: Any) -> dict[str, np.ndarray]:
    """Every canonical tensor of the spec, ``{"<layer>.<param>": float32 array}``, in the spec's order."""
    spec, layout = _spec_and_layout(model)
    result: dict[str, np.ndarray] = {}
    for step in spec.steps:
        parameters = step.layer.parameters(step.input_shape)
        if not parameters:
            continue
        variables = native_variables(model.get_layer(step.layer.name))
        values = {key: np.asarray(variable.numpy()) for key, variable in variables.items()}
        canonical = to_canonical(step.layer, step.input_shape, values, layout.permutations.get(step.layer.name))
        for key in parameters:
            result[f"{step.layer.name}.{key}"] = canonical[key]
    return result


def set_weights(model: Any, weights: Mapping[str, np.ndarray]) -> None:
    """Write canonical ``weights`` (as ``get_weights`` returns them, from any framework) into ``model``."""
    spec, layout = _spec_and_layout(model)
    expected = spec.parameters()
    missing = [key for key in expected if key not in weights]
    if missing:
        raise SpecError(f"weights for keras model {spec.name!r} lack {', '.join(missing[:5])}"
                        f"{' ...' if len(missing) > 5 else ''}; pass every tensor nu.weights(model) returns")
    for step in spec.steps:
        parameters = step.layer.parameters(step.input_shape)
        if not parameters:
            continue
        name = step.layer.name
        canonical = {key: np.asarray(weights[f"{name}.{key}"], np.float32) for key in parameters}
        for key, value in canonical.items():
            if value.shape != parameters[key].shape:
                raise SpecError(f"weight '{name}.{key}' has shape {value.shape}, the spec needs {parameters[key].shape}")
        variables = native_variables(model.get_layer(name))
        for key, value in to_keras(step.layer, step.input_shape, canonical, layout.permutations.get(name)).items():
            variables[key].assign(value)
