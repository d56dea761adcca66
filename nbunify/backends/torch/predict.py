"""Inference with a torch model on channels-first numpy inputs."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def predict(model: nn.Module, inputs: np.ndarray) -> np.ndarray:
    """``model(inputs)`` in eval mode without autograd, on the model's device and dtype; returns numpy.

    Every submodule's train/eval flag is restored afterwards, so a model in the middle of training
    (or with some layers frozen in eval mode) is left exactly as it was.
    """
    reference = next(model.parameters(), None)
    device = reference.device if reference is not None else torch.device("cpu")
    dtype = reference.dtype if reference is not None and reference.is_floating_point() else torch.float32
    batch = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)).to(device=device, dtype=dtype)
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(batch)
    finally:
        for module, training in modes:
            module.training = training
    return outputs.detach().cpu().numpy()
