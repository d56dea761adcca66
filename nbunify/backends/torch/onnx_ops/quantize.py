"""Quantization ONNX ops: (De)QuantizeLinear, DynamicQuantizeLinear and the integer/QLinear MatMul and Conv."""

from __future__ import annotations

import operator

import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder, torch_dtype
from nbunify.backends.torch.onnx_ops.conv import _conv_padded
from nbunify.convert.onnx_graph import Node


def _broadcast(parameter, x, axis: int, block_size: int):
    """A scale or zero point shaped to broadcast against x: per tensor, per axis or per block along ``axis``."""
    if parameter.dim() == 0 or parameter.numel() == 1 and not block_size:
        return parameter.reshape(())
    axis %= x.dim()
    if block_size:
        return parameter.repeat_interleave(block_size, axis).narrow(axis, 0, x.shape[axis])
    shape = [1] * x.dim()
    shape[axis] = -1
    return parameter.reshape(shape)


def _saturate(values, dtype: torch.dtype):
    info = torch.iinfo(dtype)
    return torch.round(values).clamp(info.min, info.max).to(dtype)  # round half to even, as ONNX


def _dequantize(x, scale, zero_point, axis: int, block_size: int):
    values = x.to(torch.float32)
    if zero_point is not None:
        values = values - _broadcast(zero_point, x, axis, block_size).to(torch.float32)
    return (values * _broadcast(scale, x, axis, block_size)).to(scale.dtype)


@REGISTRY.register("DequantizeLinear", 10, 13, 19, 21)
def dequantize_linear(builder: Builder, node: Node):
    x, scale, zero_point = (builder.inputs(node) + [None])[:3]
    return builder.call(_dequantize, x, scale, zero_point, int(node.attrs.get("axis", 1)),
                        int(node.attrs.get("block_size", 0)))


def _quantize(x, scale, zero_point, axis: int, block_size: int, dtype: torch.dtype):
    values = x.to(torch.float32) / _broadcast(scale, x, axis, block_size).to(torch.float32)
    values = torch.round(values)
    if zero_point is not None:
        values = values + _broadcast(zero_point, x, axis, block_size).to(torch.float32)
    return _saturate(values, zero_point.dtype if zero_point is not None else dtype)


@REGISTRY.register("QuantizeLinear", 10, 13, 19, 21)
def quantize_linear(builder: Builder, node: Node):
    x, scale, zero_point = (builder.inputs(node) + [None])[:3]
    output = int(node.attrs.get("output_dtype", 0) or 0)
    return builder.call(_quantize, x, scale, zero_point, int(node.attrs.get("axis", 1)),
                        int(node.attrs.get("block_size", 0)), torch_dtype(output) if output else torch.uint8)


def _dynamic_quantize(x):
    low, high = torch.clamp_max(x.min(), 0), torch.clamp_min(x.max(), 0)
    scale = (high - low) / 255
    zero_point = _saturate(-low / scale, torch.uint8)
    return _saturate(torch.round(x / scale) + zero_point.to(x.dtype), torch.uint8), scale, zero_point


@REGISTRY.register("DynamicQuantizeLinear", 11)
def dynamic_quantize_linear(builder: Builder, node: Node):
    triple = builder.call(_dynamic_quantize, builder.tensor(node.inputs[0]))
    return [builder.call(operator.getitem, triple, index) for index in range(3)]


def _centred(x, zero_point, axis: int):
    values = x.to(torch.float64)  # exact for the integer ranges quantized models use
    if zero_point is None:
        return values
    if zero_point.dim() and zero_point.numel() > 1:
        shape = [1] * x.dim()
        shape[axis] = -1
        return values - zero_point.to(torch.float64).reshape(shape)
    return values - zero_point.to(torch.float64).reshape(())


def _matmul_integer(a, b, a_zero, b_zero):
    # A's zero point may be per row (axis -2 of A), B's per column (the last axis of B).
    product = _centred(a, a_zero, -2 if a.dim() > 1 else 0) @ _centred(b, b_zero, -1)
    return torch.round(product).to(torch.int32)


@REGISTRY.register("MatMulInteger", 10)
def matmul_integer(builder: Builder, node: Node):
    return builder.call(_matmul_integer, *(builder.inputs(node) + [None, None])[:4])


def _qlinear_matmul(a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero):
    real = (_centred(a, a_zero, -2) * a_scale.double().reshape(-1, 1) if a_scale.numel() > 1
            else _centred(a, a_zero, -2) * a_scale.double()) @ (_centred(b, b_zero, -1) * b_scale.double())
    return _saturate(real / y_scale.double() + y_zero.double(), y_zero.dtype)


@REGISTRY.register("QLinearMatMul", 10, 21)
def qlinear_matmul(builder: Builder, node: Node):
    return builder.call(_qlinear_matmul, *builder.inputs(node)[:8])


def _conv_integer(x, weight, x_zero, w_zero, strides, dilations, group, pads, auto_pad):
    result = _conv_padded(_centred(x, x_zero, 1), _centred(weight, w_zero, 0), None, strides, dilations, group, pads,
                          auto_pad)
    return torch.round(result).to(torch.int32)


def _conv_settings(builder: Builder, node: Node) -> tuple:
    spatial = builder.rank(node.inputs[1 if node.op_type == "ConvInteger" else 3]) - 2
    pads = list(node.attrs.get("pads") or [0] * 2 * spatial)
    auto_pad = node.attrs.get("auto_pad", "NOTSET")
    return (list(node.attrs.get("strides") or [1] * spatial), list(node.attrs.get("dilations") or [1] * spatial),
            int(node.attrs.get("group", 1)), [0] * 2 * spatial if auto_pad == "VALID" else pads,
            "NOTSET" if auto_pad == "VALID" else auto_pad)


@REGISTRY.register("ConvInteger", 10)
def conv_integer(builder: Builder, node: Node):
    x, weight, x_zero, w_zero = (builder.inputs(node) + [None, None])[:4]
    return builder.call(_conv_integer, x, weight, x_zero, w_zero, *_conv_settings(builder, node))


def _qlinear_conv(x, x_scale, x_zero, weight, w_scale, w_zero, y_scale, y_zero, bias, strides, dilations, group,
                  pads, auto_pad):
    accumulated = _conv_padded(_centred(x, x_zero, 1), _centred(weight, w_zero, 0), None, strides, dilations, group,
                               pads, auto_pad)
    if bias is not None:
        accumulated = accumulated + bias.double().reshape(1, -1, *[1] * (x.dim() - 2))
    scale = (x_scale.double() * w_scale.double()).reshape(1, -1, *[1] * (x.dim() - 2))
    return _saturate(accumulated * scale / y_scale.double() + y_zero.double(), y_zero.dtype)


@REGISTRY.register("QLinearConv", 10)
def qlinear_conv(builder: Builder, node: Node):
    inputs = (builder.inputs(node) + [None])[:9]
    return builder.call(_qlinear_conv, *inputs, *_conv_settings(builder, node))
