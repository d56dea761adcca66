"""Normalization converters: BatchNormalization (inference), Instance/Layer/Group norm, LRN, Lp, MeanVariance."""

from __future__ import annotations

import paddle
import paddle.nn.functional as F

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, axis_list


def _channel_shaped(tensor, rank):
    """A per-channel vector shaped to broadcast over an NC... tensor of ``rank`` dims."""
    return tensor.reshape([1, -1] + [1] * (rank - 2))


@REGISTRY.register("BatchNormalization", 9, 14, 15)
def batch_normalization(node, context):
    if node.attrs.get("training_mode", 0):
        raise NotImplementedError("BatchNormalization with training_mode=1 (running-statistics outputs) is a "
                                  "training graph; import the inference graph and train with nu.fit")
    epsilon = float(node.attrs.get("epsilon", 1e-5))
    for name in node.inputs[3:5]:
        context.frozen(name)  # running statistics are not trained by gradients

    def run(tensor, scale, bias, mean, variance):
        if tensor.ndim >= 2 and tensor.dtype == paddle.float32 and scale.dtype == paddle.float32:
            return F.batch_norm(tensor, mean, variance, scale, bias, False, 0.9, epsilon)
        rank = tensor.ndim
        inverse = paddle.rsqrt(_channel_shaped(variance, rank).astype(tensor.dtype) + epsilon)
        centered = tensor - _channel_shaped(mean, rank).astype(tensor.dtype)
        return (centered * inverse * _channel_shaped(scale, rank).astype(tensor.dtype)
                + _channel_shaped(bias, rank).astype(tensor.dtype))

    return run


def _normalized(tensor, axes, epsilon):
    mean = paddle.mean(tensor, axis=axes, keepdim=True)
    centered = tensor - mean
    variance = paddle.mean(centered * centered, axis=axes, keepdim=True)
    return centered * paddle.rsqrt(variance + epsilon), mean, variance


@REGISTRY.register("InstanceNormalization", 6, 22)
def instance_normalization(node, context):
    epsilon = float(node.attrs.get("epsilon", 1e-5))

    def run(tensor, scale, bias):
        rank = tensor.ndim
        normalized, _, _ = _normalized(tensor, list(range(2, rank)), epsilon)
        return normalized * _channel_shaped(scale, rank) + _channel_shaped(bias, rank)

    return run


@REGISTRY.register("LayerNormalization", 17)
def layer_normalization(node, context):
    axis, epsilon = int(node.attrs.get("axis", -1)), float(node.attrs.get("epsilon", 1e-5))
    extra_outputs = len(node.outputs) > 1

    def run(tensor, scale, bias=None):
        start = axis % tensor.ndim
        wide = tensor.astype("float32") if tensor.dtype in (paddle.float16, paddle.bfloat16) else tensor
        normalized_shape = wide.shape[start:]
        if not extra_outputs and list(scale.shape) == normalized_shape and (
                bias is None or list(bias.shape) == normalized_shape):
            # paddle's kernel takes the scale and bias flattened
            return F.layer_norm(wide, normalized_shape, scale.astype(wide.dtype).reshape([-1]),
                                None if bias is None else bias.astype(wide.dtype).reshape([-1]),
                                epsilon).astype(tensor.dtype)
        normalized, mean, variance = _normalized(wide, list(range(start, wide.ndim)), epsilon)
        result = normalized * scale.astype(wide.dtype)
        if bias is not None:
            result = result + bias.astype(wide.dtype)
        if not extra_outputs:
            return result.astype(tensor.dtype)
        return result.astype(tensor.dtype), mean, paddle.rsqrt(variance + epsilon)

    return run


@REGISTRY.register("GroupNormalization", 18, 21)
def group_normalization(node, context):
    groups, epsilon = int(node.attrs["num_groups"]), float(node.attrs.get("epsilon", 1e-5))
    per_group = context.graph.opsets.get("", 0) < 21  # opset 18's scale and bias have one value per group

    def run(tensor, scale, bias):
        batch, channels = tensor.shape[:2]
        grouped = tensor.reshape([batch, groups, -1])
        normalized, _, _ = _normalized(grouped, [2], epsilon)
        normalized = normalized.reshape(tensor.shape)
        if per_group:
            scale = paddle.repeat_interleave(scale, channels // groups)
            bias = paddle.repeat_interleave(bias, channels // groups)
        return normalized * _channel_shaped(scale, tensor.ndim) + _channel_shaped(bias, tensor.ndim)

    return run


@REGISTRY.register("LRN", 1, 13)
def local_response_normalization(node, context):
    size = int(node.attrs["size"])
    alpha, beta, bias = float(node.attrs.get("alpha", 1e-4)), float(node.attrs.get("beta", 0.75)), float(
        node.attrs.get("bias", 1.0))
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2

    def run(tensor):
        batch, channels = tensor.shape[:2]
        squares = (tensor * tensor).reshape([batch, 1, channels, -1])
        padded = F.pad(squares, [0, 0, 0, 0, before, after, 0, 0])  # the channel window's zero padding
        window_sum = F.avg_pool2d(padded, [size, 1], 1, 0) * size
        return tensor / (bias + alpha / size * window_sum.reshape(tensor.shape)) ** beta

    return run


@REGISTRY.register("LpNormalization", 1, 22)
def lp_normalization(node, context):
    axis, order = int(node.attrs.get("axis", -1)), int(node.attrs.get("p", 2))

    def run(tensor):
        if order == 1:
            norm = paddle.sum(paddle.abs(tensor), axis=axis, keepdim=True)
        else:
            norm = paddle.sqrt(paddle.sum(tensor * tensor, axis=axis, keepdim=True))
        return tensor / norm

    return run


@REGISTRY.register("MeanVarianceNormalization", 9, 13)
def mean_variance_normalization(node, context):
    axes = axis_list(node.attrs.get("axes", [0, 2, 3]))

    def run(tensor):
        mean = paddle.mean(tensor, axis=axes, keepdim=True)
        variance = paddle.mean(tensor * tensor, axis=axes, keepdim=True) - mean * mean
        return (tensor - mean) / (paddle.sqrt(variance) + 1e-9)

    return run
