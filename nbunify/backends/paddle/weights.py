"""Canonical weights <-> a paddle model built by nbunify (Linear weights transposed, BatchNorm _mean/_variance,
RNN ``_l0`` names and the folded bias, attention's in_proj split into q/k/v projections)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from nbunify.backends import spec_of as backend_spec_of
from nbunify.frameworks import load
from nbunify.spec import Concat, Residual, Sequential, SpecError
from nbunify.spec import layers as L

#: canonical parameter name -> paddle's attribute name, where they differ
NATIVE_NAMES = {"running_mean": "_mean", "running_var": "_variance"}
RECURRENT = (L.SimpleRNN, L.LSTM, L.GRU)
PROJECTIONS = ("q_proj", "k_proj", "v_proj")


def get_weights(model: Any) -> dict[str, np.ndarray]:
    """``{"<layer>.<param>": float32 array}`` in canonical (torch) layout, in the spec's execution order."""
    result = {}
    for key, layer, name, native in _entries(model):
        parts = [_linear_layout(owner, attribute, tensor.numpy()) for owner, attribute, tensor in _targets(layer, name, native)]
        if _folded_bias(layer, name):
            bias_ih, bias_hh = parts  # the canonical bias is torch's bias_ih + bias_hh
            value = bias_ih if not bias_hh.any() else bias_ih + bias_hh  # adding +0.0 would turn a -0.0 into +0.0
        else:
            value = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
        result[key] = np.array(value, dtype=np.float32, order="C")  # a copy: later training must not change it
    return result


def set_weights(model: Any, weights: Mapping[str, np.ndarray]) -> None:
    """Write canonical ``weights`` into ``model`` exactly; checks every key and shape before writing any."""
    entries = list(_entries(model))
    missing = [key for key, *_ in entries if key not in weights]
    if missing:
        raise SpecError(f"paddle: weights for {len(missing)} tensor(s) are missing, e.g. {missing[:5]}; "
                        f"give one array per key of spec.parameters()")
    values = []
    for key, layer, name, native in entries:
        value = np.asarray(weights[key], dtype=np.float32)
        targets = _targets(layer, name, native)
        if _folded_bias(layer, name):
            pieces = [value, np.zeros_like(value)]  # bias_ih = bias, bias_hh = 0
        elif len(targets) == len(PROJECTIONS):  # in_proj stacks [q; k; v]
            if not value.ndim or value.shape[0] % len(PROJECTIONS):
                raise SpecError(f"paddle: weight {key!r} has canonical shape {value.shape}, which does not split "
                                f"into the query, key and value projections")
            pieces = np.split(value, len(PROJECTIONS), axis=0)
        else:
            pieces = [value]
        for (owner, attribute, tensor), piece in zip(targets, pieces):
            native_value = _linear_layout(owner, attribute, piece)
            if tuple(native_value.shape) != tuple(tensor.shape):
                raise SpecError(f"paddle: weight {key!r} has canonical shape {tuple(np.shape(weights[key]))}, "
                                f"which does not fit the layer (paddle holds {tuple(tensor.shape)})")
            values.append((tensor, np.ascontiguousarray(native_value)))
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


def _entries(model: Any) -> Iterator[tuple[str, L.Layer, str, Any]]:
    """(canonical key, spec layer, canonical name, native paddle layer) for every canonical tensor."""
    spec = spec_of(model)
    layers = native_layers(model)
    for step in spec.steps:
        for name in step.layer.parameters(step.input_shape):
            yield f"{step.layer.name}.{name}", step.layer, name, layers[step.layer.name]


def _targets(layer: L.Layer, name: str, native: Any) -> list[tuple[Any, str, Any]]:
    """The paddle tensors holding canonical ``name``, as (owning layer, attribute, tensor), in canonical order."""
    if isinstance(layer, RECURRENT):  # weight_ih_reverse -> weight_ih_l0_reverse; bias -> bias_ih_l0, bias_hh_l0
        base, reverse = (name[:-len("_reverse")], "_reverse") if name.endswith("_reverse") else (name, "")
        names = ["bias_ih", "bias_hh"] if base == "bias" else [base]
        return [(native, n, getattr(native, f"{n}_l0{reverse}")) for n in names]
    *path, attribute = name.split(".")
    owner = native
    for part in path:
        owner = getattr(owner, part)
    if attribute in ("in_proj_weight", "in_proj_bias"):  # torch stacks [q; k; v], paddle has three Linear layers
        field = attribute[len("in_proj_"):]
        return [(getattr(owner, p), field, getattr(getattr(owner, p), field)) for p in PROJECTIONS]
    attribute = NATIVE_NAMES.get(attribute, attribute)
    return [(owner, attribute, getattr(owner, attribute))]


def _folded_bias(layer: L.Layer, name: str) -> bool:
    """A SimpleRNN/LSTM canonical bias: paddle's bias_ih_l0 + bias_hh_l0."""
    return isinstance(layer, RECURRENT) and not layer.SPLIT_BIAS and name.startswith("bias")


def _is_linear_weight(owner: Any, attribute: str) -> bool:
    return attribute == "weight" and isinstance(owner, load("paddle").nn.Linear)


def _linear_layout(owner: Any, attribute: str, value: np.ndarray) -> np.ndarray:
    """paddle's Linear holds [in, out], the canonical (torch) layout [out, in]: the map is its own inverse."""
    return value.T if _is_linear_weight(owner, attribute) else value
