"""Activation ONNX ops: ReLU family, sigmoids, GELU, softmax family (ONNX's axis semantics per version), Erf."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node


def _prelu(tensor: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
    # ONNX broadcasts the slope numpy-style (F.prelu wants it per channel), so write it out. A 1-D slope of one
    # value per channel that cannot broadcast from the right is the per-channel slope of models upgraded from
    # opset 6 (whose PRelu broadcast along the channels).
    channels = tensor.shape[1] if tensor.dim() > 2 else None
    if slope.dim() == 1 and slope.numel() > 1 and slope.numel() == channels != tensor.shape[-1]:
        slope = slope.reshape(-1, *[1] * (tensor.dim() - 2))
    return torch.where(tensor < 0, tensor * slope, tensor)


def _hard_sigmoid(tensor: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    return torch.clamp(tensor * alpha + beta, 0, 1)


def _thresholded_relu(tensor: torch.Tensor, alpha: float) -> torch.Tensor:
    return torch.where(tensor > alpha, tensor, torch.zeros_like(tensor))


def _softsign(tensor: torch.Tensor) -> torch.Tensor:
    return tensor / (1 + torch.abs(tensor))


def _flat_softmax(op_type: str, tensor: torch.Tensor, axis: int) -> torch.Tensor:
    # Before opset 13 softmax treats the input as 2-D: dims [axis:] are flattened into one.
    return _LAST[op_type](tensor.flatten(axis)).reshape(tensor.shape)


def _hardmax(tensor: torch.Tensor, axis: int) -> torch.Tensor:
    # The first maximum wins, as in ONNX.
    indices = torch.argmax(tensor, dim=axis, keepdim=True)
    return torch.zeros_like(tensor).scatter_(axis, indices, 1)


def _softmax_last(tensor: torch.Tensor) -> torch.Tensor:
    return torch.softmax(tensor, -1)


def _log_softmax_last(tensor: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(tensor, -1)


def _hardmax_last(tensor: torch.Tensor) -> torch.Tensor:
    return _hardmax(tensor, -1)


_LAST = {"Softmax": _softmax_last, "LogSoftmax": _log_softmax_last, "Hardmax": _hardmax_last}


def _simple(function, *attributes: tuple[str, float]):
    def convert(builder: Builder, node: Node):
        return builder.call(function, builder.tensor(node.inputs[0]),
                            *(float(node.attrs.get(name, default)) for name, default in attributes))
    return convert


REGISTRY.register("Relu", 6, 13, 14)(_simple(torch.relu))
REGISTRY.register("Sigmoid", 6, 13)(_simple(torch.sigmoid))
REGISTRY.register("Tanh", 6, 13)(_simple(torch.tanh))
REGISTRY.register("Erf", 9, 13)(_simple(torch.erf))
REGISTRY.register("Softsign", 1, 22)(_simple(_softsign))
REGISTRY.register("Mish", 18, 22)(_simple(F.mish))
REGISTRY.register("HardSwish", 14, 22)(_simple(F.hardswish))
REGISTRY.register("LeakyRelu", 6, 16)(_simple(F.leaky_relu, ("alpha", 0.01)))
REGISTRY.register("Elu", 6, 22)(_simple(F.elu, ("alpha", 1.0)))
REGISTRY.register("Celu", 12)(_simple(F.celu, ("alpha", 1.0)))
REGISTRY.register("HardSigmoid", 6, 22)(_simple(_hard_sigmoid, ("alpha", 0.2), ("beta", 0.5)))
REGISTRY.register("ThresholdedRelu", 10, 22)(_simple(_thresholded_relu, ("alpha", 1.0)))


def _shrink(tensor: torch.Tensor, bias: float, lambd: float) -> torch.Tensor:
    zero = torch.zeros_like(tensor)
    shrunk = torch.where(tensor < -lambd, tensor + bias, torch.where(tensor > lambd, tensor - bias, zero))
    return shrunk.to(tensor.dtype)


@REGISTRY.register("Shrink", 9)
def shrink(builder: Builder, node: Node):
    return builder.call(_shrink, builder.tensor(node.inputs[0]), float(node.attrs.get("bias", 0.0)),
                        float(node.attrs.get("lambd", 0.5)))


@REGISTRY.register("Selu", 6, 22)
def selu(builder: Builder, node: Node):
    alpha, gamma = float(node.attrs.get("alpha", 1.67326319217681884765625)), float(
        node.attrs.get("gamma", 1.05070102214813232421875))
    return builder.call(torch.mul, builder.call(F.elu, builder.tensor(node.inputs[0]), alpha), gamma)


@REGISTRY.register("Softplus", 1, 22)
def softplus(builder: Builder, node: Node):
    # F.softplus switches to the identity above threshold 20 (exact within float precision).
    return builder.call(F.softplus, builder.tensor(node.inputs[0]))


@REGISTRY.register("PRelu", 9, 16)
def prelu(builder: Builder, node: Node):
    return builder.call(_prelu, *builder.inputs(node)[:2])


@REGISTRY.register("Gelu", 20)
def gelu(builder: Builder, node: Node):
    return builder.call(F.gelu, builder.tensor(node.inputs[0]), approximate=node.attrs.get("approximate", "none"))


@REGISTRY.register("Softmax", 11, 13)
@REGISTRY.register("LogSoftmax", 11, 13)
@REGISTRY.register("Hardmax", 11, 13)
def softmax(builder: Builder, node: Node):
    tensor = builder.tensor(node.inputs[0])
    if builder.since(node) >= 13:
        axis = int(node.attrs.get("axis", -1))
        if node.op_type == "Hardmax":
            return builder.call(_hardmax, tensor, axis)
        return builder.call(torch.softmax if node.op_type == "Softmax" else torch.log_softmax, tensor, axis)
    rank = builder.rank(node.inputs[0])
    axis = int(node.attrs.get("axis", 1)) % rank
    if axis == rank - 1:
        return builder.call(_LAST[node.op_type], tensor)
    return builder.call(_flat_softmax, node.op_type, tensor, axis)
