"""Normalizations: ONNX BatchNormalization (inference), Instance/Layer/Group normalization, LRN, LpNorm, MVN."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, ImportedValue, keras, tf
from nbunify.convert.registry import schema_version

ops = keras.ops


def _laid_input(context: Context, name: str) -> Any:
    """(N, C) as is, (N, C, *spatial) channels-last: per-channel parameters then broadcast along the last axis."""
    tensor_shape = context.graph.shape(name)
    rank = len(tensor_shape) if tensor_shape is not None else len(context.tensor(name).shape)
    return context.channels_last_tensor(name) if rank > 2 else context.tensor(name), rank


def _store(context: Context, node: Any, result: Any, rank: int) -> None:
    if rank > 2:
        context.set_channels_last(node.outputs[0], result)
    else:
        context.set(node.outputs[0], result)


@REGISTRY.register("BatchNormalization", 9, 14, 15)
def batch_normalization(context: Context, node: Any) -> Any:
    if node.attrs.get("training_mode", 0):
        raise ValueError("BatchNormalization with training_mode=1 (batch statistics as outputs) is not supported; "
                         "import the inference graph")
    epsilon = node.attrs.get("epsilon", 1e-5)
    tensor, rank = _laid_input(context, node.inputs[0])
    names = node.inputs[1:5]
    if all(context.is_static(name) for name in names) and str(tensor.dtype) == "float32":
        scale, bias, mean, variance = (np.asarray(context.value(name), np.float32) for name in names)
        if tensor.shape[-1] is None and None not in tensor.shape[1:-1]:
            # the channel count comes from a reshape computed at run time (paddle's flatten): the parameters
            # say it, and keras needs it to make its variables
            tensor = keras.layers.Reshape((*tensor.shape[1:-1], scale.size),
                                          name=context.layer_name("channels_known"))(tensor)
        layer = keras.layers.BatchNormalization(
            axis=-1, epsilon=epsilon, momentum=node.attrs.get("momentum", 0.9),
            gamma_initializer=ImportedValue(scale), beta_initializer=ImportedValue(bias),
            moving_mean_initializer=ImportedValue(mean), moving_variance_initializer=ImportedValue(variance),
            name=context.layer_name(node.name or node.outputs[0]))
        result = layer(tensor)
    else:
        scale, bias, mean, variance = (context.tensor(name) for name in names)
        result = (tensor - mean) / ops.sqrt(variance + np.asarray(epsilon, str(tensor.dtype))) * scale + bias
    _store(context, node, result, rank)


@REGISTRY.register("InstanceNormalization", 6, 22)
def instance_normalization(context: Context, node: Any) -> Any:
    tensor, rank = _laid_input(context, node.inputs[0])
    epsilon = np.asarray(node.attrs.get("epsilon", 1e-5), str(tensor.dtype))
    mean, variance = ops.moments(tensor, axes=list(range(1, rank - 1)), keepdims=True)
    scale, bias = context.tensor(node.inputs[1]), context.tensor(node.inputs[2])
    _store(context, node, (tensor - mean) / ops.sqrt(variance + epsilon) * scale + bias, rank)


@REGISTRY.register("LayerNormalization", 17)
def layer_normalization(context: Context, node: Any) -> Any:
    tensor = context.tensor(node.inputs[0])
    rank = len(tensor.shape)
    axis = node.attrs.get("axis", -1)
    axis = axis + rank if axis < 0 else axis
    epsilon = node.attrs.get("epsilon", 1e-5)
    axes = list(range(axis, rank))
    wanted_statistics = len([name for name in node.outputs[1:] if name])
    scale_name, bias_name = node.inputs[1], node.input(2)
    if (axis == rank - 1 and not wanted_statistics and context.is_static(scale_name) and str(tensor.dtype) == "float32"
            and (not bias_name or context.is_static(bias_name))):
        scale = np.asarray(context.value(scale_name), np.float32).reshape(-1)
        bias = np.asarray(context.value(bias_name), np.float32).reshape(-1) if bias_name else None
        layer = keras.layers.LayerNormalization(axis=-1, epsilon=epsilon, center=bool(bias_name),
                                                gamma_initializer=ImportedValue(scale),
                                                beta_initializer=ImportedValue(bias),
                                                name=context.layer_name(node.name or node.outputs[0]))
        return layer(tensor)
    work = ops.cast(tensor, "float32") if str(tensor.dtype) != "float64" else tensor
    mean, variance = ops.moments(work, axes=axes, keepdims=True)
    inverse = 1.0 / ops.sqrt(variance + np.asarray(epsilon, str(work.dtype)))
    result = ops.cast((work - mean) * inverse, tensor.dtype) * context.tensor(scale_name)
    if bias_name:
        result = result + context.tensor(bias_name)
    return [result, mean, inverse]


@REGISTRY.register("GroupNormalization", 18, 21)
def group_normalization(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    rank = len(tensor.shape)
    channels = tensor.shape[1]
    groups = node.attrs["num_groups"]
    if channels is None:
        raise ValueError("GroupNormalization needs the channel count known at import time")
    epsilon = np.asarray(node.attrs.get("epsilon", 1e-5), str(tensor.dtype))
    grouped = ops.reshape(tensor, (-1, groups, channels // groups, *tensor.shape[2:]))
    mean, variance = ops.moments(grouped, axes=list(range(2, rank + 1)), keepdims=True)
    normalized = ops.reshape((grouped - mean) / ops.sqrt(variance + epsilon), (-1, *tensor.shape[1:]))
    scale, bias = context.tensor(node.inputs[1]), context.tensor(node.inputs[2])
    if schema_version("GroupNormalization", context.graph.opsets.get("", 0)) == 18:  # one scale, bias per group
        scale, bias = (ops.repeat(value, channels // groups, axis=0) for value in (scale, bias))
    shape = (channels, *([1] * (rank - 2)))
    return normalized * ops.reshape(scale, shape) + ops.reshape(bias, shape)


@keras.saving.register_keras_serializable(package="nbunify")
class LocalResponseNormalization(keras.layers.Layer):
    """ONNX LRN on a channels-last tensor: square sums over a window of neighbouring channels."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, bias=1.0, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.bias = size, alpha, beta, bias

    def call(self, tensor):
        before, after = (self.size - 1) // 2, self.size - 1 - (self.size - 1) // 2
        squares = tf.square(tensor)
        padded = tf.pad(squares, [[0, 0]] * (len(tensor.shape) - 1) + [[before, after]])
        channels = tf.shape(tensor)[-1]
        total = tf.add_n([padded[..., offset:offset + channels] for offset in range(self.size)])
        return tensor / tf.pow(self.bias + self.alpha / self.size * total, self.beta)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


@REGISTRY.register("LRN", 1, 13)
def lrn(context: Context, node: Any) -> Any:
    tensor = context.channels_last_tensor(node.inputs[0])
    layer = LocalResponseNormalization(node.attrs["size"], node.attrs.get("alpha", 1e-4), node.attrs.get("beta", 0.75),
                                       node.attrs.get("bias", 1.0), name=context.layer_name(node.name or "lrn"))
    context.set_channels_last(node.outputs[0], layer(tensor))


@REGISTRY.register("LpNormalization", 1, 22)
def lp_normalization(context: Context, node: Any) -> Any:
    tensor = context.tensor(node.inputs[0])
    axis, power = node.attrs.get("axis", -1), node.attrs.get("p", 2)
    norm = ops.sum(ops.abs(tensor), axis=axis, keepdims=True) if power == 1 else ops.sqrt(
        ops.sum(tensor * tensor, axis=axis, keepdims=True))
    return tensor / norm


@REGISTRY.register("MeanVarianceNormalization", 9, 13)
def mean_variance_normalization(context: Context, node: Any) -> Any:
    tensor = context.tensor(node.inputs[0])
    axes = list(node.attrs.get("axes") or [0, 2, 3])
    mean = ops.mean(tensor, axis=axes, keepdims=True)
    variance = ops.mean(tensor * tensor, axis=axes, keepdims=True) - mean * mean
    return (tensor - mean) / (ops.sqrt(variance) + np.asarray(1e-9, str(tensor.dtype)))
