"""Inference with a paddle model on channels-first numpy inputs: eval mode, no gradients, numpy out."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.frameworks import load

paddle = load("paddle")


def predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    """``model(inputs)`` in eval mode under ``paddle.no_grad()``; every layer's training flag is restored after.

    Inputs are float32, or int64 token ids for a spec whose input is tokens (an nn.Embedding looks them up as is).
    """
    spec = getattr(model, "_nbunify_spec", None)
    dtype = np.int64 if spec is not None and spec.input_dtype == "int64" else np.float32
    inputs = np.ascontiguousarray(inputs, dtype=dtype)
    if spec is not None and tuple(inputs.shape[1:]) != tuple(spec.input_shape):
        raise ValueError(f"paddle: inputs of shape {inputs.shape} do not fit spec {spec.name!r}, which takes "
                         f"(batch, {', '.join(map(str, spec.input_shape))}) channels-first")
    flags = [(layer, layer.training) for layer in (model, *model.sublayers())]
    tracer = paddle.base.framework._dygraph_tracer()  # eval() also flips this process-wide dygraph flag
    tracer_training = getattr(tracer, "_train_mode", None)
    model.eval()
    try:
        with paddle.no_grad():
            return model(paddle.to_tensor(inputs)).numpy()
    finally:
        for layer, training in flags:
            layer.training = training
        if tracer_training is not None:
            tracer._train_mode = tracer_training
