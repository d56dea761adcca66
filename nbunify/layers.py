"""`nu.layers`: the layers and blocks a spec is made of (the neutral definitions live in nbunify.spec)."""

from nbunify.spec.layers import (
    Activation,
    AvgPool2d,
    BatchNorm,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    MaxPool2d,
)
from nbunify.spec.model import Concat, Residual

__all__ = [
    "Activation", "AvgPool2d", "BatchNorm", "Concat", "Conv2d", "Dense", "Dropout", "Flatten",
    "GlobalAvgPool2d", "MaxPool2d", "Residual",
]
