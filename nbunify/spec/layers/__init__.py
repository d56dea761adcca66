"""The neutral layers: arguments, layouts, output shapes and canonical parameters (torch/ONNX layout, channels-first)."""

from nbunify.spec.layers.base import (
    ACTIVATIONS,
    FLOATS,
    LAYERS,
    LAYOUTS,
    LEAKY_RELU_SLOPE,
    Layer,
    Parameter,
    Shape,
    describe_layout,
    feature_axis,
    register,
    resolve_layout,
)
from nbunify.spec.layers.core import Activation, Dense, Dropout, Embedding
from nbunify.spec.layers.conv import Conv1d, Conv2d, ConvTranspose2d
from nbunify.spec.layers.pool import AvgPool1d, AvgPool2d, GlobalAvgPool1d, GlobalAvgPool2d, MaxPool1d, MaxPool2d
from nbunify.spec.layers.norm import BatchNorm, LayerNorm
from nbunify.spec.layers.shape import Flatten, Reshape, Transpose
from nbunify.spec.layers.recurrent import GRU, LSTM, SimpleRNN
from nbunify.spec.layers.attention import MultiHeadAttention, TransformerEncoder

__all__ = [
    "ACTIVATIONS", "FLOATS", "LAYERS", "LAYOUTS", "LEAKY_RELU_SLOPE", "Layer", "Parameter", "Shape",
    "describe_layout", "feature_axis", "register", "resolve_layout",
    "Activation", "AvgPool1d", "AvgPool2d", "BatchNorm", "Conv1d", "Conv2d", "ConvTranspose2d", "Dense", "Dropout",
    "Embedding", "Flatten", "GlobalAvgPool1d", "GlobalAvgPool2d", "GRU", "LSTM", "LayerNorm", "MaxPool1d",
    "MaxPool2d", "MultiHeadAttention", "Reshape", "SimpleRNN", "TransformerEncoder", "Transpose",
]
