"""Quantization converters: (Dynamic)QuantizeLinear, DequantizeLinear, QLinearMatMul/Conv, MatMul/ConvInteger."""

from __future__ import annotations

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, paddle_dtype
from nbunify.backends.paddle.onnx_ops.conv import convolution
from nbunify.backends.paddle.onnx_ops.elementwise import _round_half_even

#: The range of each integer type a quantized value saturates to (paddle has no uint16: it is held in int32).
_RANGES = {np.dtype(name): (np.iinfo(name).min, np.iinfo(name).max) for name in
           ("int8", "uint8", "int16", "uint16", "int32")}


def _broadcast(parameter, tensor, axis, block_size):
    """A scale or zero point shaped to broadcast over ``tensor``: scalar, per ``axis``, or per block along it."""
    if parameter.ndim == 0 or parameter.size == 1:
        return parameter.reshape([])
    position = axis % tensor.ndim
    if block_size:  # paddle's repeat_interleave has no 8-bit kernels
        wide = parameter.astype("int32") if parameter.dtype in (paddle.int8, paddle.uint8) else parameter
        repeated = paddle.repeat_interleave(wide, block_size, axis=position)
        return paddle.slice(repeated, [position], [0], [tensor.shape[position]]).astype(parameter.dtype)
    shape = [1] * tensor.ndim
    shape[position] = -1
    return parameter.reshape(shape)


def _target_dtype(node, context):
    """The quantized dtype: the zero point's, else output_dtype (opset 21), else uint8."""
    import onnx

    zero_point = node.input(2)
    if zero_point and context.dtype(zero_point) is not None:
        return np.dtype(context.dtype(zero_point))
    code = node.attrs.get("output_dtype", 0)
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(code)) if code else np.dtype(np.uint8)


def quantize(values, scale, zero_point, dtype):
    """round-half-even(values / scale) + zero_point, saturated to ``dtype``'s range.

    The division is in the values' float type, as onnx's reference and onnxruntime do it (a float32 quotient
    can land exactly on .5 where a float64 one does not); the rest is exact in float64."""
    low, high = _RANGES[dtype]
    compute = values.dtype if values.dtype in (paddle.float32, paddle.float64) else paddle.float32
    result = _round_half_even(values.astype(compute) / scale.astype(compute)).astype("float64")
    if zero_point is not None:
        result = result + zero_point.astype("float64")
    return paddle.clip(result, float(low), float(high)).astype(paddle_dtype(dtype))


@REGISTRY.register("QuantizeLinear", 10, 13, 19, 21)
def quantize_linear(node, context):
    dtype = _target_dtype(node, context)
    if dtype not in _RANGES:
        raise NotImplementedError(f"QuantizeLinear to {dtype} (float8/int4 types) is not supported in paddle")
    axis, block_size = int(node.attrs.get("axis", 1)), int(node.attrs.get("block_size", 0))

    def run(values, scale, zero_point=None):
        scale = _broadcast(scale, values, axis, block_size)
        zero = None if zero_point is None else _broadcast(zero_point, values, axis, block_size)
        return quantize(values, scale, zero, dtype)

    return run


@REGISTRY.register("DequantizeLinear", 10, 13, 19, 21)
def dequantize_linear(node, context):
    axis, block_size = int(node.attrs.get("axis", 1)), int(node.attrs.get("block_size", 0))

    def run(values, scale, zero_point=None):
        wide = values.astype("float64")
        if zero_point is not None:
            wide = wide - _broadcast(zero_point, values, axis, block_size).astype("float64")
        return (wide * _broadcast(scale, values, axis, block_size).astype("float64")).astype(scale.dtype)

    return run


@REGISTRY.register("DynamicQuantizeLinear", 11)
def dynamic_quantize_linear(node, context):
    def run(values):
        low = paddle.minimum(values.min(), paddle.zeros([], values.dtype))
        high = paddle.maximum(values.max(), paddle.zeros([], values.dtype))
        scale = (high - low) / 255.0
        zero_point = paddle.clip(_round_half_even(-low / scale), 0.0, 255.0)
        quantized = quantize(values, scale, zero_point, np.dtype(np.uint8))
        return quantized, scale, zero_point.astype("uint8")

    return run


def _centered(values, zero_point, axis=None):
    """An integer tensor minus its zero point, in float64 (exact for 8/16-bit products and their sums)."""
    wide = values.astype("float64")
    if zero_point is None:
        return wide
    zero = zero_point.astype("float64")
    if axis is not None and zero.ndim == 1 and zero.shape[0] > 1:
        shape = [1] * values.ndim
        shape[axis] = -1
        zero = zero.reshape(shape)
    return wide - zero


@REGISTRY.register("MatMulInteger", 10)
def matmul_integer(node, context):
    def run(left, right, left_zero=None, right_zero=None):
        left = _centered(left, left_zero, axis=left.ndim - 2 if left.ndim > 1 else None)
        return paddle.matmul(left, _centered(right, right_zero, axis=-1)).astype("int32")

    return run


@REGISTRY.register("QLinearMatMul", 10, 21)
def qlinear_matmul(node, context):
    dtype = np.dtype(context.dtype(node.input(7)) or np.uint8)

    def run(left, left_scale, left_zero, right, right_scale, right_zero, out_scale, out_zero):
        product = paddle.matmul(_centered(left, left_zero), _centered(right, right_zero))
        multiplier = left_scale.astype("float64") * right_scale.astype("float64") / out_scale.astype("float64")
        return quantize(product * multiplier, paddle.ones([], "float64"), out_zero, dtype)

    return run


def _weight_zero(zero_point, weight):
    """A weight zero point: scalar, or one per output channel."""
    if zero_point is None:
        return None
    return zero_point.astype("float64").reshape([-1] + [1] * (weight.ndim - 1)) if zero_point.size > 1 else (
        zero_point.astype("float64").reshape([]))


@REGISTRY.register("ConvInteger", 10)
def conv_integer(node, context):
    convolve = convolution(node, context, node.input(1))

    def run(values, weight, values_zero=None, weight_zero=None):
        centered = _centered(values, values_zero)
        kernel = weight.astype("float64")
        if weight_zero is not None:
            kernel = kernel - _weight_zero(weight_zero, weight)
        return convolve(centered, kernel).astype("int32")

    return run


@REGISTRY.register("QLinearConv", 10)
def qlinear_conv(node, context):
    convolve = convolution(node, context, node.input(3))
    dtype = np.dtype(context.dtype(node.input(7)) or np.uint8)

    def run(values, values_scale, values_zero, weight, weight_scale, weight_zero, out_scale, out_zero, bias=None):
        kernel = weight.astype("float64")
        if weight_zero is not None:
            kernel = kernel - _weight_zero(weight_zero, weight)
        accumulated = convolve(_centered(values, values_zero), kernel)
        if bias is not None:
            accumulated = accumulated + bias.astype("float64").reshape([1, -1] + [1] * (values.ndim - 2))
        scale = weight_scale.astype("float64").reshape([1, -1] + [1] * (values.ndim - 2)) if weight_scale.size > 1 \
            else weight_scale.astype("float64")
        multiplier = values_scale.astype("float64") * scale / out_scale.astype("float64")
        return quantize(accumulated * multiplier, paddle.ones([], "float64"), out_zero, dtype)

    return run


