"""Element-wise ONNX ops: arithmetic, math functions, variadic Min/Max/Sum/Mean, comparisons, logic, Where."""

from __future__ import annotations

import functools
import operator

import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.backends.torch.onnx_ops import symbolic
from nbunify.convert.onnx_graph import Node


def _divide(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    # ONNX integer division truncates toward zero (C semantics); torch's "/" would return floats.
    if left.is_floating_point():
        return left / right
    return torch.div(left, right, rounding_mode="trunc")


def _power(base: torch.Tensor, exponent: torch.Tensor) -> torch.Tensor:
    # ONNX Pow returns the base's type whatever the exponent's type is.
    return torch.pow(base, exponent).to(base.dtype)


def _modulo(left: torch.Tensor, right: torch.Tensor, fmod: int) -> torch.Tensor:
    dtype, (left, right) = left.dtype, _signed(left, right)
    return (torch.fmod(left, right) if fmod else torch.remainder(left, right)).to(dtype)


_VARIADIC = {"Max": torch.maximum, "Min": torch.minimum, "Sum": torch.add}


def _variadic(op_type: str, *tensors: torch.Tensor) -> torch.Tensor:
    return functools.reduce(_VARIADIC[op_type], _signed(*tensors)).to(tensors[0].dtype)


def _mean(*tensors: torch.Tensor) -> torch.Tensor:
    return functools.reduce(torch.add, tensors) / len(tensors)


def _clip(tensor: torch.Tensor, low: torch.Tensor | None, high: torch.Tensor | None) -> torch.Tensor:
    # torch.clamp refuses min > max; ONNX (like numpy) then returns max, which clamp_min-then-clamp_max gives.
    if low is not None:
        tensor = torch.clamp_min(tensor, low)
    if high is not None:
        tensor = torch.clamp_max(tensor, high)
    return tensor


def _bit_shift(tensor: torch.Tensor, shift: torch.Tensor, left: bool) -> torch.Tensor:
    dtype, (tensor, shift) = tensor.dtype, _signed(tensor, shift)
    return (torch.bitwise_left_shift(tensor, shift) if left else torch.bitwise_right_shift(tensor, shift)).to(dtype)


def _is_inf(tensor: torch.Tensor, positive: int, negative: int) -> torch.Tensor:
    if positive and negative:
        return torch.isinf(tensor)
    if positive:
        return torch.isposinf(tensor)
    if negative:
        return torch.isneginf(tensor)
    return torch.zeros_like(tensor, dtype=torch.bool)


def _round(tensor: torch.Tensor) -> torch.Tensor:
    return torch.round(tensor)  # half to even, as ONNX says


_UNSIGNED = (torch.uint16, torch.uint32, torch.uint64)


def _signed(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """uint16/32/64 tensors as int64, since most torch CPU kernels do not take them (cast back by the caller)."""
    return [tensor.to(torch.int64) if tensor.dtype in _UNSIGNED else tensor for tensor in tensors]


def _bitwise_not(tensor: torch.Tensor) -> torch.Tensor:
    return torch.bitwise_not(*_signed(tensor)).to(tensor.dtype)


def _binary(function):
    def convert(builder: Builder, node: Node):
        folded = symbolic.arithmetic(builder, node)  # shape arithmetic stays Python ints and x.size(i)
        if folded is not None:
            return folded
        return builder.call(function, *builder.inputs(node)[:2])
    return convert


def _unary(function):
    def convert(builder: Builder, node: Node):
        return builder.call(function, builder.tensor(node.inputs[0]))
    return convert


for _op, _function, _versions in (
        ("Add", operator.add, (7, 13, 14)), ("Sub", operator.sub, (7, 13, 14)), ("Mul", operator.mul, (7, 13, 14)),
        ("Div", _divide, (7, 13, 14)), ("Pow", _power, (7, 12, 13, 15)),
        ("Equal", torch.eq, (11, 13, 19)), ("Greater", torch.gt, (9, 13)), ("Less", torch.lt, (9, 13)),
        ("GreaterOrEqual", torch.ge, (12, 16)), ("LessOrEqual", torch.le, (12, 16)),
        ("And", torch.logical_and, (7,)), ("Or", torch.logical_or, (7,)), ("Xor", torch.logical_xor, (7,)),
        ("BitwiseAnd", torch.bitwise_and, (18,)), ("BitwiseOr", torch.bitwise_or, (18,)),
        ("BitwiseXor", torch.bitwise_xor, (18,))):
    REGISTRY.register(_op, *_versions)(_binary(_function))

for _op, _function, _versions in (
        ("Abs", torch.abs, (6, 13)), ("Neg", torch.neg, (6, 13)), ("Exp", torch.exp, (6, 13)),
        ("Log", torch.log, (6, 13)), ("Sqrt", torch.sqrt, (6, 13)), ("Reciprocal", torch.reciprocal, (6, 13)),
        ("Floor", torch.floor, (6, 13)), ("Ceil", torch.ceil, (6, 13)), ("Sign", torch.sign, (9, 13)),
        ("Sin", torch.sin, (7, 22)), ("Cos", torch.cos, (7, 22)), ("Tan", torch.tan, (7, 22)),
        ("Asin", torch.asin, (7, 22)), ("Acos", torch.acos, (7, 22)), ("Atan", torch.atan, (7, 22)),
        ("Sinh", torch.sinh, (9, 22)), ("Cosh", torch.cosh, (9, 22)), ("Asinh", torch.asinh, (9, 22)),
        ("Acosh", torch.acosh, (9, 22)), ("Atanh", torch.atanh, (9, 22)), ("Round", _round, (11, 22)),
        ("Not", torch.logical_not, (1,)), ("BitwiseNot", _bitwise_not, (18,)),
        ("IsNaN", torch.isnan, (9, 13, 20))):
    REGISTRY.register(_op, *_versions)(_unary(_function))


@REGISTRY.register("Max", 8, 12, 13)
@REGISTRY.register("Min", 8, 12, 13)
@REGISTRY.register("Sum", 8, 13)
def variadic(builder: Builder, node: Node):
    tensors = builder.inputs(node)
    if len(tensors) == 1:
        return tensors[0]
    return builder.call(_variadic, node.op_type, *tensors)


@REGISTRY.register("Mean", 8, 13)
def mean(builder: Builder, node: Node):
    return builder.call(_mean, *builder.inputs(node))


@REGISTRY.register("Clip", 11, 12, 13)
def clip(builder: Builder, node: Node):
    tensor, low, high = (builder.inputs(node) + [None, None])[:3]
    return builder.call(_clip, tensor, low, high)


@REGISTRY.register("Mod", 10, 13)
def mod(builder: Builder, node: Node):
    return builder.call(_modulo, *builder.inputs(node)[:2], int(node.attrs.get("fmod", 0)))


@REGISTRY.register("BitShift", 11)
def bit_shift(builder: Builder, node: Node):
    return builder.call(_bit_shift, *builder.inputs(node)[:2], node.attrs["direction"] == "LEFT")


@REGISTRY.register("IsInf", 10, 20)
def is_inf(builder: Builder, node: Node):
    return builder.call(_is_inf, builder.tensor(node.inputs[0]), int(node.attrs.get("detect_positive", 1)),
                        int(node.attrs.get("detect_negative", 1)))


@REGISTRY.register("Where", 9, 16)
def where(builder: Builder, node: Node):
    return builder.call(torch.where, *builder.inputs(node)[:3])
