"""The small torch modules a spec needs beyond torch.nn: residual and concat blocks, activations by name."""

from __future__ import annotations

import torch
from torch import nn

from nbunify.spec.layers import LEAKY_RELU_SLOPE


class Residual(nn.Module):
    """``body(x) + shortcut(x)``; ``shortcut`` is ``nn.Identity`` when the spec gives no shortcut layers."""

    def __init__(self, body: nn.Module, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class Concat(nn.Module):
    """Concatenate the outputs of parallel ``branches`` on the channel axis (dim 1); an ``nn.Identity`` branch passes x."""

    def __init__(self, branches: list[nn.Module]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def activation(name: str) -> nn.Module:
    """The torch module for a spec activation name; softmax runs over the channel/feature axis (dim 1)."""
    factories = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_RELU_SLOPE),
        "gelu": nn.GELU,  # exact (erf) form, torch's default
        "silu": nn.SiLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "softmax": lambda: nn.Softmax(dim=1),
    }
    return factories[name]()
