"""What nu.summary needs from a torch model: the native type of each spec layer and torch's own parameter count."""

from __future__ import annotations

from torch import nn

from nbunify.backends.torch.weights import _module, _spec


def layer_types(model: nn.Module) -> dict[str, str]:
    """``{spec layer name: "nn.Conv2d"}`` for every layer of the spec."""
    return {step.layer.name: f"nn.{type(_module(model, step)).__name__}" for step in _spec(model).steps}


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(parameters + BatchNorm running statistics, trainable parameters), as torch counts them."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return sum(p.numel() for p in model.parameters()) + buffers, trainable
