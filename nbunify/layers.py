"""`nu.layers`: the layers and blocks a spec is made of (the neutral definitions live in nbunify.spec)."""

from nbunify.spec.layers import (
    GRU,
    LSTM,
    Activation,
    AvgPool1d,
    AvgPool2d,
    BatchNorm,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAvgPool1d,
    GlobalAvgPool2d,
    LayerNorm,
    MaxPool1d,
    MaxPool2d,
    MultiHeadAttention,
    Reshape,
    SimpleRNN,
    TransformerEncoder,
    Transpose,
)
from nbunify.spec.model import Concat, Residual

__all__ = [
    "GRU", "LSTM", "Activation", "AvgPool1d", "AvgPool2d", "BatchNorm", "Concat", "Conv1d", "Conv2d", "ConvTranspose2d",
    "Dense", "Dropout", "Embedding", "Flatten", "GlobalAvgPool1d", "GlobalAvgPool2d", "LayerNorm", "MaxPool1d",
    "MaxPool2d", "MultiHeadAttention", "Reshape", "Residual", "SimpleRNN", "TransformerEncoder", "Transpose",
]
