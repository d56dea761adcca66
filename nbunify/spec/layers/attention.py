"""Self-attention on length x features sequences: MultiHeadAttention and a Transformer encoder block.

Canonical parameters are torch's names and layouts (``in_proj_weight`` stacks the query, key and
value projections, [out, in]), so a torch state_dict holds them under the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbunify.spec.layers.base import Layer, Parameter, Shape, check_activation, check_rate, positive_int, register


def _attention_parameters(features: int, prefix: str = "") -> dict[str, Parameter]:
    return {
        f"{prefix}in_proj_weight": Parameter((3 * features, features), "fan_in_uniform", fan_in=features),
        f"{prefix}in_proj_bias": Parameter((3 * features,), "zeros"),
        f"{prefix}out_proj.weight": Parameter((features, features), "fan_in_uniform", fan_in=features),
        f"{prefix}out_proj.bias": Parameter((features,), "zeros"),
    }


def _check_heads(layer: Layer, shape: Shape, heads: int) -> None:
    if shape[-1] % heads:
        raise layer.fail(f"the features ({shape[-1]}) must be divisible by num_heads ({heads})", shape)


@register("multihead_attention")
@dataclass(eq=False)
class MultiHeadAttention(Layer):
    """Self-attention (query = key = value = the input), num_heads heads of features / num_heads each, no mask."""

    ACCEPTS = ("sequence",)
    PREFERS = "sequence"

    num_heads: int
    dropout: float = 0.0
    name: str | None = None

    def validate(self) -> None:
        positive_int(self, "num_heads", self.num_heads)
        check_rate(self, "dropout", self.dropout)

    def output_shape(self, shape: Shape) -> Shape:
        _check_heads(self, shape, self.num_heads)
        return shape

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        return _attention_parameters(shape[-1])


@register("transformer_encoder")
@dataclass(eq=False)
class TransformerEncoder(Layer):
    """One Transformer encoder block (torch's TransformerEncoderLayer, paddle's, Keras's TransformerBlock recipe).

    Post-norm by default: x = norm1(x + attention(x)); x = norm2(x + linear2(activation(linear1(x)))).
    ``norm_first=True`` normalizes before each sub-block instead.
    """

    ACCEPTS = ("sequence",)
    PREFERS = "sequence"

    num_heads: int
    dim_feedforward: int = 2048
    dropout: float = 0.1
    activation: str = "relu"
    norm_first: bool = False
    epsilon: float = 1e-5
    name: str | None = None

    def validate(self) -> None:
        positive_int(self, "num_heads", self.num_heads)
        positive_int(self, "dim_feedforward", self.dim_feedforward)
        check_rate(self, "dropout", self.dropout)
        check_activation(self, self.activation, ("relu", "gelu"))
        if not isinstance(self.norm_first, bool):
            raise self.fail(f"norm_first must be true or false, got {self.norm_first!r}")
        if isinstance(self.epsilon, bool) or not isinstance(self.epsilon, (int, float)) or not self.epsilon > 0:
            raise self.fail(f"epsilon must be a positive number, got {self.epsilon!r}")

    def output_shape(self, shape: Shape) -> Shape:
        _check_heads(self, shape, self.num_heads)
        return shape

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        features, hidden = shape[-1], self.dim_feedforward
        return {
            **_attention_parameters(features, "self_attn."),
            "linear1.weight": Parameter((hidden, features), "fan_in_uniform", fan_in=features),
            "linear1.bias": Parameter((hidden,), "fan_in_uniform", fan_in=features),
            "linear2.weight": Parameter((features, hidden), "fan_in_uniform", fan_in=hidden),
            "linear2.bias": Parameter((features,), "fan_in_uniform", fan_in=hidden),
            "norm1.weight": Parameter((features,), "ones"),
            "norm1.bias": Parameter((features,), "zeros"),
            "norm2.weight": Parameter((features,), "ones"),
            "norm2.bias": Parameter((features,), "zeros"),
        }
