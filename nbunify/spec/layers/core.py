"""Core layers: Dense, Embedding, Dropout and elementwise activations."""

from __future__ import annotations

from dataclasses import dataclass

from nbunify.spec.errors import did_you_mean
from nbunify.spec.layers.base import (
    ACTIVATIONS,
    Layer,
    Parameter,
    Shape,
    check_activation,
    check_rate,
    positive_int,
    register,
)


@register("dense")
@dataclass(eq=False)
class Dense(Layer):
    """Fully connected: y = x W^T + b on the last axis (torch Linear, keras Dense, paddle Linear)."""

    units: int
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None

    def validate(self) -> None:
        positive_int(self, "units", self.units)
        check_activation(self, self.activation)

    def output_shape(self, shape: Shape) -> Shape:
        if not shape:
            raise self.fail("needs at least one feature axis", shape)
        return (*shape[:-1], self.units)

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        fan_in = shape[-1]
        result = {"weight": Parameter((self.units, fan_in), "fan_in_uniform", fan_in=fan_in)}
        if self.use_bias:
            result["bias"] = Parameter((self.units,), "fan_in_uniform", fan_in=fan_in)
        return result


@register("embedding")
@dataclass(eq=False)
class Embedding(Layer):
    """A lookup table: L token ids in [0, num_embeddings) -> an L x embedding_dim sequence."""

    ACCEPTS = ("tokens",)
    PREFERS = "tokens"

    num_embeddings: int
    embedding_dim: int
    name: str | None = None

    def validate(self) -> None:
        positive_int(self, "num_embeddings", self.num_embeddings)
        positive_int(self, "embedding_dim", self.embedding_dim)

    def infer(self, shape: Shape, layout: str, hint: str | None = None) -> tuple[Shape, str]:
        self.check_layout(shape, layout)
        return (*shape, self.embedding_dim), "sequence"

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        return {"weight": Parameter((self.num_embeddings, self.embedding_dim), "normal")}  # torch's N(0, 1)


@register("dropout")
@dataclass(eq=False)
class Dropout(Layer):
    """Zero a fraction ``rate`` of the values while training; identity in inference."""

    rate: float = 0.5
    name: str | None = None

    def validate(self) -> None:
        check_rate(self, "rate", self.rate)


@register("activation")
@dataclass(eq=False)
class Activation(Layer):
    """An elementwise activation (softmax over the feature axis: a map's channels, a sequence's last axis)."""

    function: str = "relu"
    name: str | None = None

    def validate(self) -> None:
        if self.function not in ACTIVATIONS:
            raise self.fail(f"unknown activation {self.function!r}.{did_you_mean(str(self.function), ACTIVATIONS)} "
                            f"Choose one of {', '.join(ACTIVATIONS)}")
