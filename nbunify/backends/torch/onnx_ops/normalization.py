"""Normalization ONNX ops: BatchNormalization (inference), Instance/Layer/Group normalization, LRN, Lp, MVN."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node


def _batch_norm_training(x, scale, bias, mean, variance, epsilon: float, momentum: float):
    # ONNX's training mode: normalize with the batch's statistics, output the updated running ones.
    dims = [0, *range(2, x.dim())]
    batch_mean, batch_variance = x.mean(dims), x.var(dims, unbiased=False)
    shape = [1, -1] + [1] * (x.dim() - 2)
    y = (x - batch_mean.reshape(shape)) / torch.sqrt(batch_variance.reshape(shape) + epsilon)
    y = y * scale.reshape(shape) + bias.reshape(shape)
    return (y, mean * momentum + batch_mean * (1 - momentum), variance * momentum + batch_variance * (1 - momentum))


@REGISTRY.register("BatchNormalization", 9, 14, 15)
def batch_normalization(builder: Builder, node: Node):
    if int(node.attrs.get("training_mode", 0)) or len([name for name in node.outputs if name]) > 1:
        if builder.since(node) < 14:
            raise NotImplementedError("BatchNormalization-9 with statistics outputs")
        result = builder.call(_batch_norm_training, *(builder.tensor(name, trainable=False) if index >= 3
                                                      else builder.tensor(name)
                                                      for index, name in enumerate(node.inputs[:5])),
                              float(node.attrs.get("epsilon", 1e-5)), float(node.attrs.get("momentum", 0.9)))
        return [builder.call(_pick, result, index) for index in range(len(node.outputs))]
    x, scale, bias = (builder.tensor(name) for name in node.inputs[:3])
    # Statistics are buffers: gradients flow to scale and bias only, as in nn.BatchNorm.
    mean, variance = (builder.tensor(name, trainable=False) for name in node.inputs[3:5])
    return builder.call(F.batch_norm, x, mean, variance, scale, bias, False, 0.0,
                        float(node.attrs.get("epsilon", 1e-5)))


@REGISTRY.register("InstanceNormalization", 6, 22)
def instance_normalization(builder: Builder, node: Node):
    x, scale, bias = builder.inputs(node)[:3]
    return builder.call(F.instance_norm, x, None, None, scale, bias, True, 0.0,
                        float(node.attrs.get("epsilon", 1e-5)))


def _layer_norm(x, scale, bias, axis: int, epsilon: float, statistics: bool):
    axis = axis % x.dim()
    shape = x.shape[axis:]
    if not statistics and scale.shape == shape and (bias is None or bias.shape == shape):
        return F.layer_norm(x, shape, scale, bias, epsilon)
    dims = tuple(range(axis, x.dim()))
    # ONNX computes in float32 at least (stash_type 1) and returns the statistics in that type.
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    mean = work.mean(dims, keepdim=True)
    inverse = torch.rsqrt(((work - mean) ** 2).mean(dims, keepdim=True) + epsilon)
    y = ((work - mean) * inverse).to(x.dtype) * scale
    if bias is not None:
        y = y + bias
    return (y, mean, inverse) if statistics else y


@REGISTRY.register("LayerNormalization", 17)
def layer_normalization(builder: Builder, node: Node):
    x, scale, bias = (builder.inputs(node) + [None])[:3]
    statistics = len(node.outputs) > 1
    axis, epsilon = int(node.attrs.get("axis", -1)), float(node.attrs.get("epsilon", 1e-5))
    scale_shape, bias_shape = builder.graph.shape(node.inputs[1]), builder.graph.shape(node.input(2))
    x_shape = builder.graph.shape(node.inputs[0]) or builder.dims.get(node.inputs[0])
    trailing = -axis if axis < 0 else (len(x_shape) - axis if x_shape is not None else None)
    if (not statistics and x_shape is not None and scale_shape is not None and len(scale_shape) == trailing
            and tuple(x_shape[-trailing:]) == tuple(scale_shape)
            and (bias is None or bias_shape == scale_shape)):  # nn.LayerNorm's case: one fused call
        return builder.call(F.layer_norm, x, list(scale_shape), scale, bias, epsilon)
    result = builder.call(_layer_norm, x, scale, bias, int(node.attrs.get("axis", -1)),
                          float(node.attrs.get("epsilon", 1e-5)), statistics)
    if not statistics:
        return result
    return [builder.call(_pick, result, index) for index in range(len(node.outputs))]


def _pick(values, index):
    return values[index]


def _group_norm(x, scale, bias, groups: int, epsilon: float, per_group: bool):
    channels = x.shape[1]
    if per_group:  # opset 18 gives one scale and bias per group
        scale = scale.repeat_interleave(channels // groups)
        bias = bias.repeat_interleave(channels // groups)
    return F.group_norm(x, groups, scale, bias, epsilon)


@REGISTRY.register("GroupNormalization", 18, 21)
def group_normalization(builder: Builder, node: Node):
    x, scale, bias = builder.inputs(node)[:3]
    return builder.call(_group_norm, x, scale, bias, int(node.attrs["num_groups"]),
                        float(node.attrs.get("epsilon", 1e-5)), builder.since(node) == 18)


def _lrn(x, size: int, alpha: float, beta: float, bias: float):
    # ONNX sums squares over channels [c - floor((size-1)/2), c + ceil((size-1)/2)] (torch centres differently).
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    squares = F.pad((x * x).transpose(1, -1), (before, after)).transpose(1, -1)
    total = squares.unfold(1, size, 1).sum(-1)
    return x / (bias + alpha / size * total) ** beta


@REGISTRY.register("LRN", 1, 13)
def lrn(builder: Builder, node: Node):
    return builder.call(_lrn, builder.tensor(node.inputs[0]), int(node.attrs["size"]),
                        float(node.attrs.get("alpha", 1e-4)), float(node.attrs.get("beta", 0.75)),
                        float(node.attrs.get("bias", 1.0)))


def _lp_normalize(x, axis: int, p: int):
    return x / torch.linalg.vector_norm(x, p, dim=axis, keepdim=True)


@REGISTRY.register("LpNormalization", 1, 22)
def lp_normalization(builder: Builder, node: Node):
    return builder.call(_lp_normalize, builder.tensor(node.inputs[0]), int(node.attrs.get("axis", -1)),
                        int(node.attrs.get("p", 2)))


def _mean_variance(x, axes):
    mean = x.mean(axes, keepdim=True)
    variance = (x * x).mean(axes, keepdim=True) - mean * mean
    return (x - mean) / (torch.sqrt(variance) + 1e-9)


@REGISTRY.register("MeanVarianceNormalization", 9, 13)
def mean_variance_normalization(builder: Builder, node: Node):
    axes = [int(axis) for axis in node.attrs.get("axes", [0, 2, 3])]
    return builder.call(_mean_variance, builder.tensor(node.inputs[0]), axes)
