"""Element-wise converters: arithmetic, math functions, Min/Max/Sum/Mean, Clip, Mod, Pow, comparisons and logic."""

from __future__ import annotations

import functools
from typing import Any

import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, widened

_FLOATS = (paddle.float16, paddle.float32, paddle.float64, paddle.bfloat16)


def _integer_divide(left: Any, right: Any) -> Any:
    """ONNX integer Div truncates toward zero (paddle's floor-divides)."""
    quotient = paddle.trunc(left.astype("float64") / right.astype("float64"))
    return quotient.astype(left.dtype)


def _divide(left: Any, right: Any) -> Any:
    if left.dtype in _FLOATS:
        return widened(paddle.divide)(left, right)
    return widened(_integer_divide)(left, right)


_BINARY = {"Add": widened(paddle.add), "Sub": widened(paddle.subtract), "Mul": widened(paddle.multiply), "Div": _divide}


@REGISTRY.register("Add", 7, 13, 14)
@REGISTRY.register("Sub", 7, 13, 14)
@REGISTRY.register("Mul", 7, 13, 14)
@REGISTRY.register("Div", 7, 13, 14)
def binary(node, context):
    return _BINARY[node.op_type]


def _round_half_even(tensor: Any) -> Any:
    rounded = paddle.floor(tensor + 0.5)
    tie = (rounded - tensor) == 0.5
    odd = paddle.remainder(rounded, paddle.full([], 2.0, tensor.dtype)) != 0
    return paddle.where(tie & odd, rounded - 1, rounded)


_UNARY = {"Abs": paddle.abs, "Neg": paddle.neg, "Exp": paddle.exp, "Log": paddle.log, "Sqrt": paddle.sqrt,
          "Reciprocal": paddle.reciprocal, "Floor": paddle.floor, "Ceil": paddle.ceil, "Sign": paddle.sign,
          "Sin": paddle.sin, "Cos": paddle.cos, "Tan": paddle.tan, "Asin": paddle.asin, "Acos": paddle.acos,
          "Atan": paddle.atan, "Sinh": paddle.sinh, "Cosh": paddle.cosh, "Asinh": paddle.asinh,
          "Acosh": paddle.acosh, "Atanh": paddle.atanh, "Round": _round_half_even}


@REGISTRY.register("Abs", 6, 13)
@REGISTRY.register("Neg", 6, 13)
@REGISTRY.register("Exp", 6, 13)
@REGISTRY.register("Log", 6, 13)
@REGISTRY.register("Sqrt", 6, 13)
@REGISTRY.register("Reciprocal", 6, 13)
@REGISTRY.register("Floor", 6, 13)
@REGISTRY.register("Ceil", 6, 13)
@REGISTRY.register("Sign", 9, 13)
@REGISTRY.register("Sin", 7, 22)
@REGISTRY.register("Cos", 7, 22)
@REGISTRY.register("Tan", 7, 22)
@REGISTRY.register("Asin", 7, 22)
@REGISTRY.register("Acos", 7, 22)
@REGISTRY.register("Atan", 7, 22)
@REGISTRY.register("Sinh", 9, 22)
@REGISTRY.register("Cosh", 9, 22)
@REGISTRY.register("Asinh", 9, 22)
@REGISTRY.register("Acosh", 9, 22)
@REGISTRY.register("Atanh", 9, 22)
@REGISTRY.register("Round", 11, 22)
def unary(node, context):
    return widened(_UNARY[node.op_type])


_VARIADIC = {"Max": paddle.maximum, "Min": paddle.minimum, "Sum": paddle.add}


@REGISTRY.register("Max", 8, 12, 13)
@REGISTRY.register("Min", 8, 12, 13)
@REGISTRY.register("Sum", 8, 13)
@REGISTRY.register("Mean", 8, 13)
def variadic(node, context):
    combine = widened(_VARIADIC.get(node.op_type, paddle.add))
    count, mean = len(node.inputs), node.op_type == "Mean"

    def reduce(*tensors):
        if count == 1:
            return tensors[0]
        result = functools.reduce(combine, tensors)
        return result / count if mean else result

    return reduce


@REGISTRY.register("Clip", 11, 12, 13)
def clip(node, context):
    low_name, high_name = node.input(1), node.input(2)
    low = float(context.value(low_name)) if context.is_static(low_name) else None
    high = float(context.value(high_name)) if context.is_static(high_name) else None

    def function(tensor, low_tensor=None, high_tensor=None):
        result = tensor
        if low_tensor is not None:
            result = widened(paddle.maximum)(result, low_tensor)
        elif low is not None:
            result = widened(paddle.maximum)(result, paddle.full([], low, tensor.dtype))
        if high_tensor is not None:
            result = widened(paddle.minimum)(result, high_tensor)
        elif high is not None:
            result = widened(paddle.minimum)(result, paddle.full([], high, tensor.dtype))
        return result

    return function


def _fmod(left: Any, right: Any) -> Any:
    """C fmod: the remainder has the dividend's sign."""
    if left.dtype in _FLOATS:
        return left - paddle.trunc(left / right) * right
    quotient = paddle.trunc(left.astype("float64") / right.astype("float64")).astype(left.dtype)
    return left - quotient * right


@REGISTRY.register("Mod", 10, 13)
def mod(node, context):
    return widened(_fmod if node.attrs.get("fmod", 0) else paddle.remainder)


@REGISTRY.register("Pow", 7, 12, 13, 15)
def power(node, context):
    def function(base, exponent):
        if base.dtype in (paddle.float32, paddle.float64):
            return paddle.pow(base, exponent.astype(base.dtype))
        wide = "float64"
        return paddle.pow(base.astype(wide), exponent.astype(wide)).astype(base.dtype)

    return function


_COMPARE = {"Equal": paddle.equal, "Greater": paddle.greater_than, "Less": paddle.less_than,
            "GreaterOrEqual": paddle.greater_equal, "LessOrEqual": paddle.less_equal}


def _bool_result(function):
    """A comparison widened for paddle's missing kernels: its result is bool, never cast back."""
    def compare(left, right):
        wide = {paddle.int8: "int32", paddle.uint8: "int32", paddle.int16: "int32", paddle.float16: "float32",
                paddle.bool: "int32"}.get(left.dtype)
        if wide is not None:
            left, right = left.astype(wide), right.astype(wide)
        return function(left, right)

    return compare


@REGISTRY.register("Equal", 7, 11, 13, 19)
@REGISTRY.register("Greater", 9, 13)
@REGISTRY.register("Less", 9, 13)
@REGISTRY.register("GreaterOrEqual", 12, 16)
@REGISTRY.register("LessOrEqual", 12, 16)
def compare(node, context):
    return _bool_result(_COMPARE[node.op_type])


_LOGIC = {"And": paddle.logical_and, "Or": paddle.logical_or, "Xor": paddle.logical_xor}


@REGISTRY.register("And", 7)
@REGISTRY.register("Or", 7)
@REGISTRY.register("Xor", 7)
def logic(node, context):
    return _LOGIC[node.op_type]


@REGISTRY.register("Not", 1)
def logical_not(node, context):
    return paddle.logical_not


_BITWISE = {"BitwiseAnd": paddle.bitwise_and, "BitwiseOr": paddle.bitwise_or, "BitwiseXor": paddle.bitwise_xor}


@REGISTRY.register("BitwiseAnd", 18)
@REGISTRY.register("BitwiseOr", 18)
@REGISTRY.register("BitwiseXor", 18)
def bitwise(node, context):
    return _BITWISE[node.op_type]


@REGISTRY.register("BitwiseNot", 18)
def bitwise_not(node, context):
    return paddle.bitwise_not


@REGISTRY.register("Where", 9, 16)
def where(node, context):
    def function(condition, left, right):
        if left.dtype in (paddle.int8, paddle.uint8, paddle.int16, paddle.float16, paddle.bool):
            wide = "float32" if left.dtype == paddle.float16 else "int32"
            return paddle.where(condition, left.astype(wide), right.astype(wide)).astype(left.dtype)
        return paddle.where(condition, left, right)

    return function


@REGISTRY.register("IsNaN", 9, 13, 20)
def is_nan(node, context):
    return paddle.isnan


@REGISTRY.register("IsInf", 10, 20)
def is_inf(node, context):
    positive, negative = node.attrs.get("detect_positive", 1), node.attrs.get("detect_negative", 1)

    def function(tensor):
        infinite = paddle.isinf(tensor)
        if positive and negative:
            return infinite
        if positive:
            return infinite & (tensor > 0)
        if negative:
            return infinite & (tensor < 0)
        return paddle.zeros_like(infinite)

    return function


@REGISTRY.register("BitShift", 11)
def bit_shift(node, context):
    left = node.attrs.get("direction") == "LEFT"

    def function(tensor, amount):
        # paddle's shift kernels are signed; shifting the value held in int64 keeps uint results exact
        wide, shift = tensor.astype("int64"), amount.astype("int64")
        result = paddle.bitwise_left_shift(wide, shift) if left else paddle.bitwise_right_shift(wide, shift)
        return result.astype(tensor.dtype)

    return function

