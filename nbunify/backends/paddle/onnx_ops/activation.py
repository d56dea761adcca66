"""Activation converters: ReLU family, sigmoid family, Softmax/LogSoftmax/Hardmax, Gelu, Erf."""

from __future__ import annotations

import math

import paddle
import paddle.nn.functional as F

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, widened


@REGISTRY.register("Relu", 6, 13, 14)
def relu(node, context):
    return widened(F.relu)


@REGISTRY.register("LeakyRelu", 6, 16)
def leaky_relu(node, context):
    slope = float(node.attrs.get("alpha", 0.01))
    return widened(lambda tensor: F.leaky_relu(tensor, slope))


def _prelu(tensor, slope):
    if slope.ndim == 1 and tensor.ndim > 2 and slope.shape[0] == tensor.shape[1] != tensor.shape[-1]:
        # a per-channel slope of the opset-6 models onnx's version converter upgrades unchanged
        slope = slope.reshape([-1] + [1] * (tensor.ndim - 2))
    return paddle.where(tensor < 0, tensor * slope, tensor)


@REGISTRY.register("PRelu", 9, 16)
def prelu(node, context):
    # ONNX's slope broadcasts (unidirectionally) against x; paddle's prelu wants a per-channel weight
    return widened(_prelu)


@REGISTRY.register("Elu", 6, 22)
def elu(node, context):
    alpha = float(node.attrs.get("alpha", 1.0))
    return widened(lambda tensor: F.elu(tensor, alpha))


@REGISTRY.register("Selu", 6, 22)
def selu(node, context):
    alpha, gamma = float(node.attrs.get("alpha", 1.67326319217681884765625)), float(
        node.attrs.get("gamma", 1.05070102214813232421875))
    return widened(lambda tensor: F.selu(tensor, gamma, alpha))


@REGISTRY.register("Celu", 12)
def celu(node, context):
    alpha = float(node.attrs.get("alpha", 1.0))
    return widened(lambda tensor: F.celu(tensor, alpha))


@REGISTRY.register("Sigmoid", 6, 13)
def sigmoid(node, context):
    return widened(F.sigmoid)


@REGISTRY.register("HardSigmoid", 6, 22)
def hard_sigmoid(node, context):
    alpha, beta = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    return widened(lambda tensor: paddle.clip(tensor * alpha + beta, 0.0, 1.0))


@REGISTRY.register("HardSwish", 14, 22)
def hard_swish(node, context):
    # ONNX: x * max(0, min(1, x/6 + 1/2)); paddle's hardswish is the same function
    return widened(F.hardswish)


@REGISTRY.register("Softplus", 1, 22)
def softplus(node, context):
    # log(1 + exp(x)) without paddle's threshold shortcut, which differs from ONNX past x = 20
    return widened(lambda tensor: paddle.logaddexp(tensor, paddle.zeros_like(tensor)))


@REGISTRY.register("Softsign", 1, 22)
def softsign(node, context):
    return widened(F.softsign)


@REGISTRY.register("Tanh", 6, 13)
def tanh(node, context):
    return widened(paddle.tanh)


@REGISTRY.register("Gelu", 20)
def gelu(node, context):
    approximate = node.attrs.get("approximate", "none") == "tanh"
    return widened(lambda tensor: F.gelu(tensor, approximate=approximate))


@REGISTRY.register("Mish", 18, 22)
def mish(node, context):
    return widened(lambda tensor: tensor * paddle.tanh(paddle.logaddexp(tensor, paddle.zeros_like(tensor))))


@REGISTRY.register("ThresholdedRelu", 10, 22)
def thresholded_relu(node, context):
    alpha = float(node.attrs.get("alpha", 1.0))
    return widened(lambda tensor: paddle.where(tensor > alpha, tensor, paddle.zeros_like(tensor)))


@REGISTRY.register("Erf", 9, 13)
def erf(node, context):
    return widened(paddle.erf)


@REGISTRY.register("Shrink", 9)
def shrink(node, context):
    bias, lambd = float(node.attrs.get("bias", 0.0)), float(node.attrs.get("lambd", 0.5))

    def function(tensor):
        wide = tensor.astype("float64") if tensor.dtype != paddle.float64 else tensor
        result = paddle.where(wide < -lambd, wide + bias, paddle.where(wide > lambd, wide - bias,
                                                                         paddle.zeros_like(wide)))
        return result.astype(tensor.dtype)

    return function


def _flattened(function, axis: int):
    """Softmax-like ops before opset 13 work on the input flattened to 2-D at ``axis``."""
    def call(tensor):
        shape = tensor.shape
        position = axis if axis >= 0 else axis + len(shape)
        rows = math.prod(shape[:position])
        return function(tensor.reshape([rows, -1]), 1).reshape(shape)

    return call


def _hardmax(tensor, axis):
    index = paddle.argmax(tensor, axis=axis, keepdim=True)
    return paddle.zeros_like(tensor).put_along_axis(index, paddle.ones_like(index, tensor.dtype), axis)


_SOFTMAX = {"Softmax": lambda tensor, axis: F.softmax(tensor, axis), "LogSoftmax": lambda tensor, axis: F.log_softmax(
    tensor, axis), "Hardmax": _hardmax}


@REGISTRY.register("Softmax", 1, 11, 13)
@REGISTRY.register("LogSoftmax", 1, 11, 13)
@REGISTRY.register("Hardmax", 1, 11, 13)
def softmax(node, context):
    function = _SOFTMAX[node.op_type]
    version = context.graph.opsets.get("", 0)
    axis = int(node.attrs.get("axis", -1 if version >= 13 else 1))
    if version < 13:
        return widened(_flattened(function, axis))
    return widened(lambda tensor: function(tensor, axis))
