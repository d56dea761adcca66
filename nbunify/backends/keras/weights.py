"""Canonical weights (torch layout) <-> a keras model built by nbunify: exact transposes and permutations."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from nbunify.backends import NotBuiltByNbunifyError, spec_of
from nbunify.backends.keras.layout import KerasLayout, to_canonical, to_keras
from nbunify.spec import Sequential, SpecError


def _spec_and_layout(model: Any) -> tuple[Sequential, KerasLayout]:
    hint = (" (a model loaded from a .keras file loses this link: rebuild it from the spec and copy weights with "
            "nu.load_weights)")
    spec = spec_of(model, "keras", hint)
    layout = getattr(model, "_nbunify_layout", None)
    if layout is None:
        raise NotBuiltByNbunifyError(f"keras model {getattr(model, 'name', model)!r} has its spec but not its layout "
                                     f"record: build it with nu.build(spec, 'keras'){hint}")
    return spec, layout


def _variables(model: Any, name: str) -> dict[str, Any]:
    return {variable.name: variable for variable in model.get_layer(name).weights}


def get_weights(model: Any) -> dict[str, np.ndarray]:
    """Every canonical tensor of the spec, ``{"<layer>.<param>": float32 array}``, in the spec's order."""
    spec, layout = _spec_and_layout(model)
    result: dict[str, np.ndarray] = {}
    for step in spec.steps:
        if not step.layer.parameters(step.input_shape):
            continue
        values = {key: np.asarray(variable.numpy()) for key, variable in _variables(model, step.layer.name).items()}
        permutation = layout.permutations.get(step.layer.name)
        for key, value in to_canonical(step.layer, step.input_shape, values, permutation).items():
            result[f"{step.layer.name}.{key}"] = value
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
        variables = _variables(model, name)
        for key, value in to_keras(step.layer, step.input_shape, canonical, layout.permutations.get(name)).items():
            variables[key].assign(value)
