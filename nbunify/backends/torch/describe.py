"""What nu.summary needs from a torch model: the native type and torch's own parameter count of each spec layer."""

from __future__ import annotations

from torch import nn

from nbunify.backends.torch.weights import _module, _spec


def layer_types(model: nn.Module) -> dict[str, str]:
    """``{spec layer name: "nn.Conv2d"}`` for every layer of the spec.

    nbunify's thin subclasses of a torch module (``layers.LSTM`` is an ``nn.LSTM`` whose forward returns one
    tensor) show as the torch module; the one-line helpers (``Transpose``, ``Reshape``, ``Mean``) by their name.
    """
    return {step.layer.name: _type_name(_module(model, step)) for step in _spec(model).steps}


def layer_parameters(model: nn.Module) -> dict[str, tuple[int, int]]:
    """``{spec layer name: (parameters + buffers, trainable parameters)}`` counted on each layer's torch module.

    Counts are torch's own: an LSTM has two biases per direction (the spec keeps their sum), BatchNorm's
    running statistics count, its ``num_batches_tracked`` step counter does not.
    """
    return {step.layer.name: _count(_module(model, step)) for step in _spec(model).steps}


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(parameters + BatchNorm running statistics, trainable parameters), as torch counts them."""
    return _count(model)


def _count(module: nn.Module) -> tuple[int, int]:
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return sum(p.numel() for p in module.parameters()) + buffers, trainable


def _type_name(module: nn.Module) -> str:
    for kind in type(module).__mro__:
        if kind.__module__.startswith("torch.nn") and getattr(nn, kind.__name__, None) is kind:
            return f"nn.{kind.__name__}" if kind is not nn.Module else type(module).__name__
    return type(module).__name__
