"""Inference with a keras model built by nbunify: canonical (channels-first) numpy in, canonical numpy out."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.layout import to_canonical_outputs, to_keras_inputs
from nbunify.backends.keras.traced import infer
from nbunify.frameworks import load

BATCH_SIZE = 1024  # bounds memory for large inputs; one call per chunk (traced from the second)


def predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    """``model``'s outputs for ``inputs`` (N, *spec.input_shape), in inference mode.

    Inputs are float32, or int64 token ids for a spec whose input is tokens (kept int64); maps
    are transposed to channels-last and map outputs back, per the spec's input and output layouts.
    A keras model nbunify did not build gets rank-4 inputs/outputs transposed as NCHW <-> NHWC.
    """
    keras = load("keras")
    spec = getattr(model, "_nbunify_spec", None)
    tokens = spec is not None and spec.input_layout == "tokens"
    inputs = np.asarray(inputs, np.int64 if tokens else np.float32)
    if spec is not None and tuple(inputs.shape[1:]) != spec.input_shape:
        raise ValueError(f"keras model {model.name!r} takes channels-first inputs of shape (batch, "
                         f"{', '.join(map(str, spec.input_shape))}), got {inputs.shape}; nbunify transposes to "
                         "channels-last itself, so pass the same NCHW arrays as to torch or paddle")
    input_layout = spec.input_layout if spec is not None else "map" if inputs.ndim == 4 else "vector"
    batches = to_keras_inputs(inputs, input_layout)
    chunks = [keras.ops.convert_to_numpy(infer(model, batches[start:start + BATCH_SIZE]))
              for start in range(0, max(len(batches), 1), BATCH_SIZE)]
    outputs = np.asarray(np.concatenate(chunks) if len(chunks) > 1 else chunks[0], np.float32)
    output_layout = spec.output_layout if spec is not None else "map" if outputs.ndim == 4 else "vector"
    layout = getattr(model, "_nbunify_layout", None)
    return to_canonical_outputs(outputs, output_layout, getattr(layout, "output_permutation", None))
