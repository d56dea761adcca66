"""`nu.build`, `nu.weights`, `nu.load_weights`: one spec to native models with identical weights."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from nbunify import backends
from nbunify.spec import Sequential, SpecError


def build(spec: Sequential, framework: str | Sequence[str], seed: int = 0,
          weights: Mapping[str, np.ndarray] | None = None) -> Any:
    """Build ``spec`` as a native model of ``framework`` (or a dict name -> model for a list).

    Initial weights are drawn once from ``seed`` in canonical layout and mapped into each
    framework, so every model computes the same function. ``weights`` (canonical, as returned by
    ``nu.weights``) replaces the seeded draw.
    """
    if not isinstance(spec, Sequential):
        raise TypeError(f"nu.build needs a spec (nu.Sequential or nu.spec.parse), got {type(spec).__name__}")
    canonical = dict(weights) if weights is not None else spec.initial_weights(seed)
    _check_weights(spec, canonical)
    if isinstance(framework, str):
        return backends.part(framework, "build").build(spec, canonical)
    names = [backends.resolve(name) for name in framework]
    if not names:
        raise ValueError("give at least one framework, e.g. ['torch', 'keras', 'paddle']")
    return {name: backends.part(name, "build").build(spec, canonical) for name in dict.fromkeys(names)}


def weights(model: Any) -> dict[str, np.ndarray]:
    """A native model's weights in canonical layout (``{"<layer>.<param>": float32 array}``)."""
    return backends.part(backends.owner(model), "weights").get_weights(model)


def load_weights(model: Any, values: Mapping[str, np.ndarray]) -> None:
    """Write canonical weights (from ``nu.weights`` of any framework's build of the same spec) into ``model``."""
    name = backends.owner(model)
    spec = getattr(model, "_nbunify_spec", None)
    if spec is not None:
        _check_weights(spec, values)
    backends.part(name, "weights").set_weights(model, values)


def predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    """Inference with a native model on channels-first numpy inputs; returns numpy (channels-first).

    Inputs are float32, or int64 token ids for a spec whose input is tokens (checked against the
    embedding's vocabulary first: an id out of range is an error here, not undefined behaviour in a framework).
    A model imported by nu.from_onnx takes and gives what its ONNX graph does (eval mode, no gradients).
    """
    framework = backends.owner(model)
    spec = getattr(model, "_nbunify_spec", None)
    if spec is None and getattr(model, "_nbunify_onnx", None) is not None:
        # imported by nu.from_onnx: it takes and gives what its ONNX graph does (a single input and output here)
        from nbunify.convert.hub import run
        from nbunify.convert.parity import check_inputs, graph_signature

        signature = graph_signature(model._nbunify_onnx)
        array = np.asarray(inputs)
        if signature and array.dtype.kind == "f" and np.dtype(signature[0][1]).kind == "f":
            array = array.astype(signature[0][1], copy=False)  # numpy's float64 for a float32 graph
        check_inputs([array], signature, f"this {framework} model (imported from ONNX)")
        outputs = run(model, [array])
        if len(outputs) != 1:
            raise ValueError(f"nu.predict gives one output; this imported model has {len(outputs)}: call it directly")
        return outputs[0]
    return backends.part(framework, "predict").predict(model, prepare_inputs(spec, inputs, framework))


def prepare_inputs(spec: Sequential | None, inputs: Any, framework: str = "the") -> np.ndarray:
    """``inputs`` as the array a model of ``spec`` takes (float32, or int64 ids), with clear errors."""
    array = np.asarray(inputs)
    if spec is None:
        return array.astype(np.float32, copy=False)
    if array.shape[1:] != spec.input_shape:
        raise ValueError(f"the {framework} model of spec {spec.name!r} takes inputs of shape (batch, "
                         f"{', '.join(map(str, spec.input_shape))}) (channels first), got {array.shape}")
    if spec.input_layout != "tokens":
        return array.astype(np.float32, copy=False)
    if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and np.array_equal(array, np.round(array))):
        raise ValueError(f"spec {spec.name!r} takes integer token ids, got {array.dtype} values that are not whole numbers")
    ids = array.astype(np.int64)
    vocabulary = next((step.layer.num_embeddings for step in spec.steps if step.input_layout == "tokens"), None)
    if vocabulary is not None and ids.size and (ids.min() < 0 or ids.max() >= vocabulary):
        raise ValueError(f"token ids must be in [0, {vocabulary}) for spec {spec.name!r} (its embedding's "
                         f"num_embeddings), got ids from {ids.min()} to {ids.max()}")
    return ids


def _check_weights(spec: Sequential, values: Mapping[str, np.ndarray]) -> None:
    expected = spec.parameters()
    missing = [key for key in expected if key not in values]
    unexpected = [key for key in values if key not in expected]
    if missing or unexpected:
        raise SpecError(f"weights do not fit spec {spec.name!r}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    for key, parameter in expected.items():
        shape = tuple(np.shape(values[key]))
        if shape != parameter.shape:
            raise SpecError(f"weight {key!r} has shape {shape}, the spec needs {parameter.shape}")
