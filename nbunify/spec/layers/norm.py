"""Normalization: BatchNorm over the channels of a map (or the features of a vector), LayerNorm over the last axis."""

from __future__ import annotations

from dataclasses import dataclass

from nbunify.spec.layers.base import Layer, Parameter, Shape, register


def _check_epsilon(layer: Layer, epsilon: object) -> None:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
        raise layer.fail(f"epsilon must be a positive number, got {epsilon!r}")


@register("batchnorm")
@dataclass(eq=False)
class BatchNorm(Layer):
    """Batch normalization over the channel axis (axis 0 per sample): BatchNorm1d on C or C x L, BatchNorm2d on C x H x W.

    ``momentum`` has torch's meaning (weight of the new batch statistic); keras and paddle get 1 - momentum.
    """

    ACCEPTS = ("vector", "map")
    PREFERS = "map"

    epsilon: float = 1e-5
    momentum: float = 0.1
    name: str | None = None

    def validate(self) -> None:
        if isinstance(self.momentum, bool) or not isinstance(self.momentum, (int, float)) or not 0 < self.momentum < 1:
            raise self.fail(f"needs 0 < momentum < 1, got momentum={self.momentum!r}")
        _check_epsilon(self, self.epsilon)

    def check_layout(self, shape: Shape, layout: str) -> None:
        if layout == "sequence":
            raise self.fail("normalizes channels, but a length x features sequence has its features last: use "
                            "`layernorm`, or `transpose` to a channels x length map first", shape)
        super().check_layout(shape, layout)

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        channels = (shape[0],)
        return {
            "weight": Parameter(channels, "ones"),
            "bias": Parameter(channels, "zeros"),
            "running_mean": Parameter(channels, "zeros", trainable=False),
            "running_var": Parameter(channels, "ones", trainable=False),
        }


@register("layernorm")
@dataclass(eq=False)
class LayerNorm(Layer):
    """Layer normalization over the last axis (the features of a vector or of each step of a sequence)."""

    ACCEPTS = ("vector", "sequence")
    PREFERS = "sequence"

    epsilon: float = 1e-5
    name: str | None = None

    def validate(self) -> None:
        _check_epsilon(self, self.epsilon)

    def check_layout(self, shape: Shape, layout: str) -> None:
        if layout == "map":
            raise self.fail("normalizes the last axis (features), which on a channels-first map is its width: use "
                            "`batchnorm` for maps, or `transpose` a channels x length map to a sequence first", shape)
        super().check_layout(shape, layout)

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        features = (shape[-1],)
        return {"weight": Parameter(features, "ones"), "bias": Parameter(features, "zeros")}
