"""Quantization ONNX ops: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger (per tensor/axis)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf

_RANGES = {"uint8": (0, 255), "int8": (-128, 127), "uint16": (0, 65535), "int16": (-32768, 32767),
           "int32": (-2**31, 2**31 - 1)}


def _per_axis(value: Any, rank: int, axis: int) -> Any:
    """A 1-D scale or zero point laid along ``axis`` of a rank-``rank`` tensor (scalars broadcast as they are)."""
    if len(value.shape) != 1:
        return value
    shape = [1] * rank
    shape[axis] = -1
    return tf.reshape(value, shape)


@keras.saving.register_keras_serializable(package="nbunify")
class Quantize(SettingsLayer):
    """x / scale rounded half to even, plus the zero point, saturated to the output type."""

    def call(self, tensor, scale, zero_point=None):
        rank, axis, dtype = len(tensor.shape), self.settings["axis"], self.settings["dtype"]
        scale = _per_axis(scale, rank, axis % rank if rank else 0)
        quotient = tf.round(tf.cast(tensor, tf.float32) / tf.cast(scale, tf.float32))
        if zero_point is not None:
            quotient = quotient + tf.cast(_per_axis(zero_point, rank, axis % rank if rank else 0), tf.float32)
        low, high = _RANGES[dtype]
        return tf.cast(tf.clip_by_value(quotient, low, high), dtype)


@keras.saving.register_keras_serializable(package="nbunify")
class Dequantize(SettingsLayer):
    def call(self, tensor, scale, zero_point=None):
        rank, axis = len(tensor.shape), self.settings["axis"]
        scale = _per_axis(scale, rank, axis % rank if rank else 0)
        values = tf.cast(tensor, tf.float32)
        if zero_point is not None:
            values = values - tf.cast(_per_axis(zero_point, rank, axis % rank if rank else 0), tf.float32)
        return tf.cast(values * tf.cast(scale, tf.float32), scale.dtype)


def _operands(context: Context, node: Any) -> list[Any]:
    return [context.symbolic(name) for name in node.inputs if name]


@REGISTRY.register("QuantizeLinear", 10, 13, 19, 21)
def quantize_linear(context: Context, node: Any) -> Any:
    if node.attrs.get("block_size", 0):
        raise ValueError("blocked QuantizeLinear (block_size > 0) is not supported by the keras importer")
    zero_point = node.input(2)
    dtype = np.dtype(context.graph.dtype(zero_point) if zero_point else np.uint8).name
    if dtype not in _RANGES:
        raise ValueError(f"QuantizeLinear to {dtype} is not supported by the keras importer")
    return Quantize({"axis": node.attrs.get("axis", 1), "dtype": dtype}, name=context.layer_name("quantize"))(
        *_operands(context, node))


@REGISTRY.register("DequantizeLinear", 10, 13, 19, 21)
def dequantize_linear(context: Context, node: Any) -> Any:
    if node.attrs.get("block_size", 0):
        raise ValueError("blocked DequantizeLinear (block_size > 0) is not supported by the keras importer")
    if np.dtype(context.graph.dtype(node.inputs[0]) or np.uint8).name not in _RANGES:
        raise ValueError("DequantizeLinear of float8/int4 values is not supported by the keras importer")
    return Dequantize({"axis": node.attrs.get("axis", 1)}, name=context.layer_name("dequantize"))(
        *_operands(context, node))


@keras.saving.register_keras_serializable(package="nbunify")
class DynamicQuantize(SettingsLayer):
    """uint8 quantization with the scale and zero point taken from the tensor's range (0 always included)."""

    def call(self, tensor):
        low = tf.minimum(tf.reduce_min(tensor), 0.0)
        high = tf.maximum(tf.reduce_max(tensor), 0.0)
        scale = (high - low) / 255.0
        zero_point = tf.clip_by_value(tf.round(-low / scale), 0, 255)
        quantized = tf.clip_by_value(tf.round(tensor / scale) + zero_point, 0, 255)
        return tf.cast(quantized, tf.uint8), scale, tf.cast(zero_point, tf.uint8)


@REGISTRY.register("DynamicQuantizeLinear", 11)
def dynamic_quantize_linear(context: Context, node: Any) -> Any:
    return list(DynamicQuantize({}, name=context.layer_name("dynamic_quantize"))(context.symbolic(node.inputs[0])))


@keras.saving.register_keras_serializable(package="nbunify")
class IntegerMatMul(SettingsLayer):
    """(A - a_zero_point) @ (B - b_zero_point) in int32; a 1-D A zero point is per row, B's per column."""

    def call(self, first, second, first_zero=None, second_zero=None):
        first, second = tf.cast(first, tf.int32), tf.cast(second, tf.int32)
        if first_zero is not None:
            zero = tf.cast(first_zero, tf.int32)
            first = first - (zero[:, None] if len(zero.shape) == 1 else zero)
        if second_zero is not None:
            second = second - tf.cast(second_zero, tf.int32)
        return tf.matmul(first, second)


@REGISTRY.register("MatMulInteger", 10)
def matmul_integer(context: Context, node: Any) -> Any:
    operands = [context.symbolic(name) if name else None for name in node.inputs]
    return IntegerMatMul({}, name=context.layer_name("matmul_integer"))(*operands)
