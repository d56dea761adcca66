"""Inference with a torch model on channels-first numpy inputs (float features, or int64 token ids)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def predict(model: nn.Module, inputs: np.ndarray) -> np.ndarray:
    """``model(inputs)`` in eval mode without autograd, on the model's device and dtype; returns numpy.

    Torch's layouts are the canonical ones (maps channels-first, sequences (N, L, E) with batch_first),
    so nothing is transposed. A spec whose input is tokens takes int64 ids (for its ``nn.Embedding``);
    float inputs take the model's dtype. Every submodule's train/eval flag is restored afterwards, so a model in
    the middle of training (or with some layers frozen in eval mode) is left exactly as it was.
    """
    reference = next(model.parameters(), None)
    device = reference.device if reference is not None else torch.device("cpu")
    array = np.asarray(inputs)
    spec = getattr(model, "_nbunify_spec", None)
    tokens = spec.input_layout == "tokens" if spec is not None else array.dtype.kind in "iu"
    if tokens:
        batch = torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64)).to(device)
    else:
        dtype = reference.dtype if reference is not None and reference.is_floating_point() else torch.float32
        batch = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(device=device, dtype=dtype)
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(batch)
    finally:
        for module, training in modes:
            module.training = training
    return outputs.detach().cpu().numpy()
