"""Canonical weights <-> a paddle model built by nbunify (Linear weight transposed; BatchNorm _mean/_variance)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from nbunify.backends import spec_of as backend_spec_of
from nbunify.spec import Concat, Residual, Sequential, SpecError
from nbunify.spec import layers as L

#: canonical parameter name -> paddle's attribute name, where they differ
NATIVE_NAMES = {"running_mean": "_mean", "running_var": "_variance"}


def get_weights(model: Any) -> dict[str, np.ndarray]:
    """``{"<layer>.<param>": float32 array}`` in canonical (torch) layout, in the spec's execution order."""
    return {key: _canonical(layer, name, tensor.numpy()) for key, layer, name, tensor in _tensors(model)}


def set_weights(model: Any, weights: Mapping[str, np.ndarray]) -> None:
    """Write canonical ``weights`` into ``model`` exactly; checks every key and shape before writing any."""
    tensors = list(_tensors(model))
    missing = [key for key, *_ in tensors if key not in weights]
    if missing:
        raise SpecError(f"paddle: weights for {len(missing)} tensor(s) are missing, e.g. {missing[:5]}; "
                        f"give one array per key of spec.parameters()")
    values = []
    for key, layer, name, tensor in tensors:
        value = np.asarray(weights[key], dtype=np.float32)
        if isinstance(layer, L.Dense) and name == "weight":
            value = value.T  # canonical [out, in] -> paddle Linear [in, out]
        if tuple(value.shape) != tuple(tensor.shape):
            raise SpecError(f"paddle: weight {key!r} has canonical shape {tuple(np.shape(weights[key]))}, "
                            f"which does not fit the layer (paddle holds {tuple(tensor.shape)})")
        values.append((tensor, np.ascontiguousarray(value)))
    for tensor, value in values:
        tensor.set_value(value)


def spec_of(model: Any) -> Sequential:
    """The spec a model was built from, or a clear error for a model nbunify did not build."""
    return backend_spec_of(model, "paddle", ", or set `model._nbunify_spec = spec` for a model with the same structure")


def native_layers(model: Any) -> dict[str, Any]:
    """Spec layer name -> the paddle layer built for it, found by walking the spec and the model together."""
    found: dict[str, Any] = {}
    _walk(spec_of(model).layers, model, found, "model")
    return found


def _walk(items: Sequence[Any], container: Any, found: dict[str, Any], where: str) -> None:
    if not items:
        return
    children = dict(container.named_children())
    for item in items:
        child = children.get(item.name)
        if child is None:
            raise ValueError(f"paddle: {where} has no child {item.name!r}: the model no longer matches its spec "
                             f"(children: {', '.join(children) or 'none'})")
        if isinstance(item, Residual):
            _walk(item.layers, child.body, found, f"{item.name}.body")
            _walk(item.shortcut, child.shortcut, found, f"{item.name}.shortcut")
        elif isinstance(item, Concat):
            for index, (branch, native) in enumerate(zip(item.branches(), child.branches)):
                _walk(branch, native, found, f"{item.name}.branches.{index}")
        else:
            found[item.name] = child


def _tensors(model: Any) -> Iterator[tuple[str, L.Layer, str, Any]]:
    """(canonical key, spec layer, canonical name, paddle tensor) for every canonical tensor."""
    spec = spec_of(model)
    layers = native_layers(model)
    for step in spec.steps:
        for name in step.layer.parameters(step.input_shape):
            tensor = getattr(layers[step.layer.name], NATIVE_NAMES.get(name, name))
            yield f"{step.layer.name}.{name}", step.layer, name, tensor


def _canonical(layer: L.Layer, name: str, value: np.ndarray) -> np.ndarray:
    if isinstance(layer, L.Dense) and name == "weight":
        value = value.T
    return np.array(value, dtype=np.float32, order="C")  # a copy: later training must not change it
