"""The small torch modules a spec needs beyond torch.nn: blocks, activations by name, one-line tensor ops."""

from __future__ import annotations

from typing import Any

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
    """Concatenate the outputs of parallel ``branches`` on the feature axis ``dim``: the channels of a map (1) or
    the last axis of a sequence (-1); an ``nn.Identity`` branch passes x."""

    def __init__(self, branches: list[nn.Module], dim: int = 1) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def activation(name: str, dim: int = 1) -> nn.Module:
    """The torch module for a spec activation name; softmax runs over the feature axis ``dim``."""
    factories = {
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_RELU_SLOPE),
        "gelu": nn.GELU,  # exact (erf) form, torch's default
        "silu": nn.SiLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "softmax": lambda: nn.Softmax(dim=dim),
    }
    return factories[name]()


class Transpose(nn.Module):
    """``x.transpose(1, 2)``: a (N, L, E) sequence <-> a (N, C, L) map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


class Reshape(nn.Module):
    """``x.reshape(N, *shape)``: a row-major reshape of each sample (nn.Unflatten/nn.Flatten cover vectors)."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return ", ".join(map(str, self.shape))


class Mean(nn.Module):
    """``x.mean(dim)``: the average over the steps of a (N, L, E) sequence with ``dim=1``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _Recurrent:
    """Mixed into nn.LSTM / nn.GRU / nn.RNN (batch_first): forward gives one tensor, so the layer fits nn.Sequential.

    The output is the full (N, L, D*H) sequence with ``return_sequences``, else the last hidden state of
    each direction, forward | backward (torch's h_n). The state_dict is exactly the torch module's.
    """

    def __init__(self, input_size: int, hidden_size: int, *, bidirectional: bool = False,
                 return_sequences: bool = False, **options: Any) -> None:
        super().__init__(input_size, hidden_size, batch_first=True, bidirectional=bidirectional, **options)
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, state = super().forward(x)
        if self.return_sequences:
            return output
        h = state[0] if isinstance(state, tuple) else state  # an LSTM's state is (h_n, c_n)
        return torch.cat([h[-2], h[-1]], dim=1) if self.bidirectional else h[-1]

    def extra_repr(self) -> str:
        return super().extra_repr() + (", return_sequences=True" if self.return_sequences else "")


class LSTM(_Recurrent, nn.LSTM):
    """nn.LSTM(batch_first=True) returning the output sequence or the last hidden state(s)."""


class GRU(_Recurrent, nn.GRU):
    """nn.GRU(batch_first=True) returning the output sequence or the last hidden state(s)."""


class RNN(_Recurrent, nn.RNN):
    """nn.RNN(batch_first=True, tanh) returning the output sequence or the last hidden state(s)."""


class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention(batch_first=True) on one input: query = key = value = x, no mask, no weights returned."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x, x, x, need_weights=False)[0]
