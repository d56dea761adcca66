"""Spec layer -> the paddle constructor call that builds it, as source (the codegen's vocabulary; imports no paddle).

Arguments at paddle's defaults are left out, except where torch and keras disagree on the number
(BatchNorm's momentum and epsilon, LayerNorm's epsilon), so the three generated sources show the same values.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from nbunify.spec import SpecError, Step
from nbunify.backends.paddle.arguments import (
    check_expressible,
    conv1d_padding,
    conv_padding,
    direction,
    feature_axis,
    plain,
)
from nbunify.backends.paddle import templates
from nbunify.spec import layers as L

WIDTH = 100
INDENT = "    "


class Call:
    """A call expression as black prints it: on one line when it fits, else its arguments on one indented line,
    else one argument per line (always so for calls holding calls, such as an nn.Sequential's entries)."""

    def __init__(self, function: str, *arguments: Any, **keywords: Any) -> None:
        self.function = function
        self.arguments = [("", value) for value in arguments] + [(f"{key}=", value) for key, value in keywords.items()]

    def flat(self) -> str:
        inner = ", ".join(prefix + _flat(value) for prefix, value in self.arguments)
        return f"{self.function}({inner})"

    def lines(self, indent: str, prefix: str = "", suffix: str = "") -> list[str]:
        one = f"{indent}{prefix}{self.flat()}{suffix}"
        if len(one) <= WIDTH or not self.arguments:
            return [one]
        inner = f"{indent}{INDENT}" + ", ".join(prefix + _flat(value) for prefix, value in self.arguments)
        if len(inner) <= WIDTH and not any(isinstance(value, Call) for _, value in self.arguments):
            return [f"{indent}{prefix}{self.function}(", inner, f"{indent}){suffix}"]  # black's second try
        result = [f"{indent}{prefix}{self.function}("]
        for name, value in self.arguments:
            if isinstance(value, Call):
                result += value.lines(indent + INDENT, name, ",")
            else:
                result.append(f"{indent}{INDENT}{name}{value},")
        return result + [f"{indent}){suffix}"]


def _flat(value: Any) -> str:
    return value.flat() if isinstance(value, Call) else str(value)


def assignment(target: str, value: Call | str, indent: str) -> list[str]:
    """``target = value`` as source lines (a call broken over lines when too long)."""
    return value.lines(indent, f"{target} = ") if isinstance(value, Call) else [f"{indent}{target} = {value}"]


def string(text: str) -> str:
    """A double-quoted Python string literal, as black writes them."""
    return json.dumps(text)


def _changed(options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value != defaults[key]}


def constructor(item: Any, step: Step) -> Call | str:
    """The paddle layer for spec layer ``item`` at ``step`` (recurrent layers: paddle's own, returning a tuple)."""
    write = _LAYERS.get(type(item))
    if write is None:
        supported = ", ".join([*(layer.KIND for layer in _LAYERS), *WRITTEN_ELSEWHERE])
        raise SpecError(f"paddle: layer {item.name!r} ({item.KIND}) has no paddle source; "
                        f"supported layers: {supported}")
    check_expressible(item)
    return write(item, step)


def recurrent(item: Any, step: Step, function: str | None = None, **extra: Any) -> Call:
    """``nn.LSTM(16, 24, direction="bidirect")`` (paddle's time_major=False default is the spec's layout)."""
    options = {"direction": string(direction(item))} if item.bidirectional else {}
    return Call(function or f"nn.{type(item).__name__}", step.input_shape[-1], item.units, **options, **extra)


def _dense(layer: L.Dense, step: Step) -> Call:
    return Call("nn.Linear", step.input_shape[-1], layer.units, **({} if layer.use_bias else {"bias_attr": False}))


def _conv1d(layer: L.Conv1d, step: Step) -> Call:
    options = {"stride": layer.stride, "padding": conv1d_padding(layer, step.input_shape), "dilation": layer.dilation,
               "groups": layer.groups, "bias_attr": None if layer.use_bias else False}
    written = _changed(options, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias_attr": None})
    return Call("nn.Conv1D", step.input_shape[0], layer.filters, kernel_size=layer.kernel_size, **written)


def _conv2d(layer: L.Conv2d, step: Step) -> Call:
    shape = step.input_shape
    options = {"stride": plain(layer.stride), "padding": conv_padding(layer, shape), "dilation": plain(layer.dilation),
               "groups": layer.groups, "bias_attr": None if layer.use_bias else False}
    written = _changed(options, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias_attr": None})
    return Call("nn.Conv2D", shape[0], layer.filters, kernel_size=plain(layer.kernel_size), **written)


def _conv_transpose2d(layer: L.ConvTranspose2d, step: Step) -> Call:
    options = {"stride": plain(layer.stride), "padding": plain(layer.padding),
               "output_padding": plain(layer.output_padding), "bias_attr": None if layer.use_bias else False}
    written = _changed(options, {"stride": 1, "padding": 0, "output_padding": 0, "bias_attr": None})
    return Call("nn.Conv2DTranspose", step.input_shape[0], layer.filters, kernel_size=plain(layer.kernel_size), **written)


def _batchnorm(layer: L.BatchNorm, step: Step) -> Call:
    # paddle's momentum weighs the running statistic, the spec's (torch's) the new batch.
    momentum = round(1 - layer.momentum, 12)
    return Call(f"nn.BatchNorm{'2D' if len(step.input_shape) == 3 else '1D'}", step.input_shape[0], momentum=momentum,
                epsilon=repr(layer.epsilon))


def _pool(kind: str) -> Callable[[Any, Step], Call]:
    def write(layer: Any, step: Step) -> Call:
        kernel, stride = plain(layer.kernel_size), plain(layer.strides())
        return Call(kind, kernel_size=kernel, **({} if stride == kernel else {"stride": stride}))

    return write


def _global_avgpool(layer: Any, step: Step) -> Call:
    return Call(f"nn.AdaptiveAvgPool{len(step.input_shape) - 1}D", 1)


def _transformer_encoder(layer: L.TransformerEncoder, step: Step) -> Call:
    options = {"dropout": layer.dropout, "activation": string(layer.activation), "normalize_before": layer.norm_first,
               "layer_norm_eps": layer.epsilon}
    written = _changed(options, {"dropout": 0.1, "activation": string("relu"), "normalize_before": False,
                                 "layer_norm_eps": 1e-5})
    if "layer_norm_eps" in written:
        written["layer_norm_eps"] = repr(layer.epsilon)
    return Call("nn.TransformerEncoderLayer", step.input_shape[-1], layer.num_heads, layer.dim_feedforward, **written)


def activation(function: str, layout: str) -> str:
    """``nn.ReLU()``; softmax over the feature axis of ``layout``."""
    return templates.LAYERS[function].format(axis=feature_axis(layout))


_LAYERS: dict[type, Callable[[Any, Step], Call]] = {
    L.Dense: _dense,
    L.Embedding: lambda layer, step: Call("nn.Embedding", layer.num_embeddings, layer.embedding_dim),
    L.Conv1d: _conv1d,
    L.Conv2d: _conv2d,
    L.ConvTranspose2d: _conv_transpose2d,
    L.BatchNorm: _batchnorm,
    L.LayerNorm: lambda layer, step: Call("nn.LayerNorm", step.input_shape[-1], epsilon=repr(layer.epsilon)),
    L.MaxPool1d: _pool("nn.MaxPool1D"),
    L.AvgPool1d: _pool("nn.AvgPool1D"),
    L.MaxPool2d: _pool("nn.MaxPool2D"),
    L.AvgPool2d: _pool("nn.AvgPool2D"),
    L.GlobalAvgPool1d: _global_avgpool,
    L.GlobalAvgPool2d: _global_avgpool,
    L.Flatten: lambda layer, step: Call("nn.Flatten"),
    L.SimpleRNN: recurrent,
    L.LSTM: recurrent,
    L.GRU: recurrent,
    L.MultiHeadAttention: lambda layer, step: Call("nn.MultiHeadAttention", step.input_shape[-1], layer.num_heads,
                                                   **({"dropout": layer.dropout} if layer.dropout else {})),
    L.TransformerEncoder: _transformer_encoder,
    L.Dropout: lambda layer, step: Call("nn.Dropout", **({} if layer.rate == 0.5 else {"p": layer.rate})),
    L.Activation: lambda layer, step: activation(layer.function, step.output_layout),
}
#: what the code generator writes without a constructor here (inline in forward, or a helper class)
WRITTEN_ELSEWHERE = ("reshape", "transpose")
