"""The torch module constructors the code generator writes, e.g. ``nn.Conv1d(8, 12, kernel_size=4, stride=2)``."""

from __future__ import annotations

from typing import Callable

from nbunify.backends.torch.layout import feature_dim
from nbunify.backends.torch.source import Node, call, compact, unless
from nbunify.backends.torch.templates import MODULES
from nbunify.spec import Step
from nbunify.spec import layers as L
from nbunify.spec.layers import Shape

RECURRENT = {L.LSTM: "LSTM", L.GRU: "GRU", L.SimpleRNN: "RNN"}  # spec layer -> torch module (and helper) name


def constructor(layer: L.Layer, step: Step, helper: Callable[[str], str], inside: bool = False) -> Node:
    """The torch module of the layer itself (no padding, activation or flatten around it), as source.

    ``inside`` a block, the layers forward would write inline become one-tensor helper modules, named by
    ``helper`` (which also records that the file needs the helper class).
    """
    shape = step.input_shape
    bias = None if getattr(layer, "use_bias", True) else False
    if isinstance(layer, L.Dense):
        return call("nn.Linear", shape[-1], layer.units, bias=bias)
    if isinstance(layer, L.Embedding):
        return call("nn.Embedding", layer.num_embeddings, layer.embedding_dim)
    if isinstance(layer, (L.Conv1d, L.Conv2d)):
        return convolution(layer, shape)
    if isinstance(layer, L.ConvTranspose2d):
        return call("nn.ConvTranspose2d", shape[0], layer.filters, kernel_size=compact(layer.kernel_size),
                    stride=compact(layer.stride, default=1), padding=compact(layer.padding, default=0),
                    output_padding=compact(layer.output_padding, default=0), bias=bias)
    if isinstance(layer, L.BatchNorm):
        return call("nn.BatchNorm1d" if len(shape) <= 2 else "nn.BatchNorm2d", shape[0],
                    eps=unless(layer.epsilon, 1e-5), momentum=unless(layer.momentum, 0.1))
    if isinstance(layer, L.LayerNorm):
        return call("nn.LayerNorm", shape[-1], eps=unless(layer.epsilon, 1e-5))
    if isinstance(layer, (L.MaxPool1d, L.AvgPool1d, L.MaxPool2d, L.AvgPool2d)):
        kernel, stride = compact(layer.kernel()), compact(layer.strides())
        return call(f"nn.{type(layer).__name__}", kernel, stride=stride if stride != kernel else None)
    if isinstance(layer, L.GlobalAvgPool2d):
        return "nn.AdaptiveAvgPool2d(1)"
    if isinstance(layer, L.GlobalAvgPool1d):
        return "nn.AdaptiveAvgPool1d(1)" if step.input_layout == "map" else f"{helper('Mean')}(dim=1)"
    if isinstance(layer, L.Flatten):
        return "nn.Flatten()"
    if isinstance(layer, L.Reshape):
        if len(step.output_shape) == 1:
            return "nn.Flatten()"
        if len(shape) == 1:
            return call("nn.Unflatten", 1, step.output_shape)
        return call(helper("Reshape"), *step.output_shape)
    if isinstance(layer, L.Transpose):
        return f"{helper('Transpose')}()"
    if isinstance(layer, tuple(RECURRENT)):
        kind = RECURRENT[type(layer)]
        return call(helper(kind) if inside else f"nn.{kind}", shape[-1], layer.units, batch_first=True,
                    bidirectional=layer.bidirectional or None,
                    return_sequences=(inside and layer.return_sequences) or None)
    if isinstance(layer, L.MultiHeadAttention):
        return call(helper("SelfAttention") if inside else "nn.MultiheadAttention", shape[-1], layer.num_heads,
                    dropout=unless(layer.dropout, 0.0), batch_first=True)
    if isinstance(layer, L.TransformerEncoder):
        return call("nn.TransformerEncoderLayer", shape[-1], layer.num_heads,
                    dim_feedforward=unless(layer.dim_feedforward, 2048), dropout=unless(layer.dropout, 0.1),
                    activation=unless(layer.activation, "relu"), layer_norm_eps=unless(layer.epsilon, 1e-5),
                    batch_first=True, norm_first=layer.norm_first or None)
    if isinstance(layer, L.Dropout):
        return call("nn.Dropout", p=unless(layer.rate, 0.5))
    if isinstance(layer, L.Activation):
        return activation_module(layer.function, step.output_layout)
    raise layer.fail(f"the torch code generator cannot write layers of kind {layer.KIND!r} yet")


def convolution(layer: L.Conv1d | L.Conv2d, shape: Shape) -> Node:
    """nn.Conv1d / nn.Conv2d with symmetric padding (torch's "same" where it applies); uneven padding is done before."""
    pads = layer.pads(shape)
    before, after = tuple(b for b, _ in pads), tuple(a for _, a in pads)
    stride = compact(layer.strides(), default=1)
    padding = compact(before, default=0) if before == after else None
    if layer.padding == "same" and stride is None and before == after:
        padding = "same"  # torch's own "same" takes stride 1 and pads both sides equally
    return call(f"nn.Conv{len(pads)}d", shape[0], layer.filters, kernel_size=compact(layer.kernel()), stride=stride,
                padding=padding, dilation=compact(layer.dilations(), default=1),
                groups=unless(layer.groups, 1), bias=None if layer.use_bias else False)


def activation_module(activation: str, layout: str) -> str:
    """``nn.ReLU()``, ``nn.Softmax(dim=-1)`` (softmax over the feature axis of ``layout``) ..."""
    return MODULES[activation].format(dim=feature_dim(layout))
