"""Activation ONNX ops: Relu family, sigmoids, Gelu, Mish, Softmax/LogSoftmax/Hardmax, Erf."""

from __future__ import annotations

from typing import Any

from nbunify.backends.keras.onnx_import import REGISTRY, Context, keras, tf
from nbunify.backends.keras.onnx_ops.elementwise import elementwise, unary

ops = keras.ops


def _scalar(tensor: Any, value: float) -> float:
    """A Python float: keras ops treat it as weakly typed, so the tensor keeps its dtype (float16 stays float16)."""
    return float(value)


@REGISTRY.register("Relu", 6, 13, 14)
def relu(context: Context, node: Any) -> Any:
    return unary(context, node, ops.relu)


@REGISTRY.register("LeakyRelu", 6, 16)
def leaky_relu(context: Context, node: Any) -> Any:
    alpha = node.attrs.get("alpha", 0.01)
    return unary(context, node, lambda tensor: ops.where(tensor >= 0, tensor, tensor * _scalar(tensor, alpha)))


@REGISTRY.register("PRelu", 9, 16)
def prelu(context: Context, node: Any) -> Any:
    slope_name, shape = node.inputs[1], context.graph.shape(node.inputs[0])
    if context.is_static(slope_name) and shape and len(shape) > 2:
        slope = context.graph.value(slope_name)
        if slope.ndim == 1 and slope.size == shape[1] and slope.size not in (1, shape[-1]):
            # a per-channel slope of old exporters (PRelu before opset 7): lay it along the channel axis
            tensor, slope = context.tensor(node.inputs[0]), context.tensor(slope_name)
            slope = ops.reshape(slope, (-1, *[1] * (len(shape) - 2)))
            return ops.where(tensor >= 0, tensor, tensor * slope)
    return elementwise(context, node, lambda tensor, slope: ops.where(tensor >= 0, tensor, tensor * slope))


@REGISTRY.register("Elu", 6, 22)
def elu(context: Context, node: Any) -> Any:
    alpha = node.attrs.get("alpha", 1.0)
    return unary(context, node, lambda tensor: ops.where(tensor > 0, tensor,
                                                         _scalar(tensor, alpha) * ops.expm1(tensor)))


@REGISTRY.register("Selu", 6, 22)
def selu(context: Context, node: Any) -> Any:
    alpha = node.attrs.get("alpha", 1.67326319217681884765625)
    gamma = node.attrs.get("gamma", 1.05070102214813232421875)
    return unary(context, node, lambda tensor: _scalar(tensor, gamma) * ops.where(
        tensor > 0, tensor, _scalar(tensor, alpha) * ops.expm1(tensor)))


@REGISTRY.register("Celu", 12)
def celu(context: Context, node: Any) -> Any:
    alpha = node.attrs.get("alpha", 1.0)
    return unary(context, node, lambda tensor: ops.maximum(tensor, 0.0) + ops.minimum(
        0.0, _scalar(tensor, alpha) * ops.expm1(tensor / _scalar(tensor, alpha))))


@REGISTRY.register("Sigmoid", 6, 13)
def sigmoid(context: Context, node: Any) -> Any:
    return unary(context, node, ops.sigmoid)


@REGISTRY.register("HardSigmoid", 6, 22)
def hard_sigmoid(context: Context, node: Any) -> Any:
    alpha, beta = node.attrs.get("alpha", 0.2), node.attrs.get("beta", 0.5)
    return unary(context, node, lambda tensor: ops.clip(tensor * _scalar(tensor, alpha) + _scalar(tensor, beta), 0, 1))


@REGISTRY.register("HardSwish", 14, 22)
def hard_swish(context: Context, node: Any) -> Any:
    return unary(context, node, lambda tensor: tensor * ops.clip(tensor / _scalar(tensor, 6) + _scalar(tensor, 0.5),
                                                                  0, 1))


@REGISTRY.register("Softplus", 1, 22)
def softplus(context: Context, node: Any) -> Any:
    return unary(context, node, ops.softplus)


@REGISTRY.register("Softsign", 1, 22)
def softsign(context: Context, node: Any) -> Any:
    return unary(context, node, lambda tensor: tensor / (ops.abs(tensor) + 1.0))


@REGISTRY.register("Tanh", 6, 13)
def tanh(context: Context, node: Any) -> Any:
    return unary(context, node, ops.tanh)


@REGISTRY.register("Erf", 9, 13)
def erf(context: Context, node: Any) -> Any:
    return unary(context, node, ops.erf)


@REGISTRY.register("Gelu", 20)
def gelu(context: Context, node: Any) -> Any:
    approximate = node.attrs.get("approximate", "none") == "tanh"
    return unary(context, node, lambda tensor: ops.gelu(tensor, approximate=approximate))


@REGISTRY.register("Mish", 18, 22)
def mish(context: Context, node: Any) -> Any:
    return unary(context, node, lambda tensor: tensor * ops.tanh(ops.softplus(tensor)))


@REGISTRY.register("ThresholdedRelu", 10, 22)
def thresholded_relu(context: Context, node: Any) -> Any:
    alpha = node.attrs.get("alpha", 1.0)
    return unary(context, node, lambda tensor: ops.where(tensor > _scalar(tensor, alpha), tensor,
                                                         ops.zeros_like(tensor)))


@REGISTRY.register("Shrink", 9)
def shrink(context: Context, node: Any) -> Any:
    bias, lambd = node.attrs.get("bias", 0.0), node.attrs.get("lambd", 0.5)

    def apply(tensor: Any) -> Any:
        work = ops.cast(tensor, "float32")
        result = ops.where(work < -lambd, work + bias, ops.where(work > lambd, work - bias, ops.zeros_like(work)))
        return ops.cast(result, tensor.dtype)
    return unary(context, node, apply)


def _axis_function(name: str) -> Any:
    if name == "softmax":
        return lambda tensor, axis: tf.nn.softmax(tensor, axis=axis)
    if name == "log_softmax":
        return lambda tensor, axis: tf.nn.log_softmax(tensor, axis=axis)
    return lambda tensor, axis: tf.one_hot(tf.argmax(tensor, axis=axis), tf.shape(tensor)[axis], axis=axis,
                                           dtype=tensor.dtype)


@keras.saving.register_keras_serializable(package="nbunify")
class Coerced2D(keras.layers.Layer):
    """softmax, log_softmax or hardmax over all dimensions from ``axis`` on (ONNX before opset 13)."""

    def __init__(self, function="softmax", axis=1, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.function, self.axis = function, axis

    def call(self, tensor):
        shape = tf.shape(tensor)
        flat = tf.reshape(tensor, tf.stack([tf.reduce_prod(shape[:self.axis]), -1]))
        return tf.reshape(_axis_function(self.function)(flat, 1), shape)

    def get_config(self):
        return {**super().get_config(), "function": self.function, "axis": self.axis}


@keras.saving.register_keras_serializable(package="nbunify")
class AxisActivation(keras.layers.Layer):
    """softmax, log_softmax or hardmax along one axis (ONNX opset 13 on)."""

    def __init__(self, function="softmax", axis=-1, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.function, self.axis = function, axis

    def call(self, tensor):
        return _axis_function(self.function)(tensor, self.axis)

    def get_config(self):
        return {**super().get_config(), "function": self.function, "axis": self.axis}


def _register_axis_op(op_type: str, function: str, old_versions: tuple[int, ...]) -> None:
    def coerced(context: Context, node: Any) -> Any:
        tensor = context.tensor(node.inputs[0])
        axis = node.attrs.get("axis", 1)
        axis = axis + len(tensor.shape) if axis < 0 else axis
        if axis == len(tensor.shape) - 1:
            return AxisActivation(function, -1, name=context.layer_name(node.op_type))(tensor)
        return Coerced2D(function, axis, name=context.layer_name(node.op_type))(tensor)

    def along_axis(context: Context, node: Any) -> Any:
        axis = node.attrs.get("axis", -1)
        name = node.inputs[0]
        if context.has_channels_last(name) and name not in context.values:
            rank = len(context.channels_last[name].shape)
            axis = axis + rank if axis < 0 else axis
            if axis == 1:  # channel softmax on a channels-last tensor: the last axis
                layer = AxisActivation(function, -1, name=context.layer_name(node.op_type))
                context.set_channels_last(node.outputs[0], layer(context.channels_last[name]))
                return None
        return AxisActivation(function, axis, name=context.layer_name(node.op_type))(context.tensor(name))

    REGISTRY.register(op_type, *old_versions)(coerced)
    REGISTRY.register(op_type, 13)(along_axis)


_register_axis_op("Softmax", "softmax", (11,))
_register_axis_op("LogSoftmax", "log_softmax", (11,))
_register_axis_op("Hardmax", "hardmax", (11,))
