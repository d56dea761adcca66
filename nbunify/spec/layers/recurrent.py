"""Recurrent layers on length x features sequences: SimpleRNN, LSTM and GRU (last state or full sequence, bidirectional).

Canonical parameters are torch's, per direction (suffix ``_reverse`` for the backward one), gates in
torch's order (LSTM i, f, g, o; GRU r, z, n). SimpleRNN and LSTM keep one bias per direction, the sum
of torch's ``bias_ih`` and ``bias_hh``: Keras has a single bias there, and one canonical bias is what
lets weights move between all three frameworks bit-exactly. A GRU keeps both, as Keras's
``reset_after=True`` GRU (the default) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nbunify.spec.layers.base import Layer, Parameter, Shape, positive_int, register


@dataclass(eq=False)
class _Recurrent(Layer):
    ACCEPTS = ("sequence",)
    PREFERS = "sequence"
    GATES: ClassVar[int] = 1
    SPLIT_BIAS: ClassVar[bool] = False

    units: int
    return_sequences: bool = False
    bidirectional: bool = False
    name: str | None = None

    def validate(self) -> None:
        positive_int(self, "units", self.units)
        for argument in ("return_sequences", "bidirectional"):
            if not isinstance(getattr(self, argument), bool):
                raise self.fail(f"{argument} must be true or false, got {getattr(self, argument)!r}")

    def directions(self) -> tuple[str, ...]:
        """Parameter-name suffixes, forward first."""
        return ("", "_reverse") if self.bidirectional else ("",)

    def infer(self, shape: Shape, layout: str, hint: str | None = None) -> tuple[Shape, str]:
        self.check_layout(shape, layout)
        width = self.units * len(self.directions())
        if self.return_sequences:
            return (shape[0], width), "sequence"
        return (width,), "vector"

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        features, rows = shape[-1], self.GATES * self.units
        result = {}
        for suffix in self.directions():
            # torch draws every RNN tensor from U(-1/sqrt(units), 1/sqrt(units))
            result[f"weight_ih{suffix}"] = Parameter((rows, features), "fan_in_uniform", fan_in=self.units)
            result[f"weight_hh{suffix}"] = Parameter((rows, self.units), "fan_in_uniform", fan_in=self.units)
            for bias in (("bias_ih", "bias_hh") if self.SPLIT_BIAS else ("bias",)):
                result[f"{bias}{suffix}"] = Parameter((rows,), "fan_in_uniform", fan_in=self.units)
        return result


@register("simple_rnn")
@dataclass(eq=False)
class SimpleRNN(_Recurrent):
    """h_t = tanh(W_ih x_t + W_hh h_(t-1) + b); the output is the last h (or every h with return_sequences)."""

    GATES = 1


@register("lstm")
@dataclass(eq=False)
class LSTM(_Recurrent):
    """Long short-term memory; the output is the last hidden state (or every one with return_sequences)."""

    GATES = 4


@register("gru")
@dataclass(eq=False)
class GRU(_Recurrent):
    """Gated recurrent unit, torch's formulation (the reset gate scales W_hn h + b_hn, Keras's reset_after=True)."""

    GATES = 3
    SPLIT_BIAS = True
