"""Inference with a keras model built by nbunify: channels-first numpy in, channels-first numpy out."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.layout import to_canonical_outputs, to_keras_inputs
from nbunify.frameworks import load

BATCH_SIZE = 1024  # bounds memory for large inputs; one eager call per chunk


def predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    """``model``'s outputs for ``inputs`` (N, *spec.input_shape) float32 channels-first, in inference mode."""
    keras = load("keras")
    inputs = np.asarray(inputs, np.float32)
    spec = getattr(model, "_nbunify_spec", None)
    if spec is not None and tuple(inputs.shape[1:]) != spec.input_shape:
        raise ValueError(f"keras model {model.name!r} takes channels-first inputs of shape (batch, "
                         f"{', '.join(map(str, spec.input_shape))}), got {inputs.shape}; nbunify transposes to "
                         "channels-last itself, so pass the same NCHW arrays as to torch or paddle")
    batches = to_keras_inputs(inputs)
    chunks = [keras.ops.convert_to_numpy(model(batches[start:start + BATCH_SIZE], training=False))
              for start in range(0, max(len(batches), 1), BATCH_SIZE)]
    outputs = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    layout = getattr(model, "_nbunify_layout", None)
    return to_canonical_outputs(np.asarray(outputs, np.float32), getattr(layout, "output_permutation", None))
