"""Element-wise ONNX ops: arithmetic, math functions, Min/Max/Sum/Mean, Clip, Mod, Pow, comparisons, logic, Where."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, channels_last_permutation, keras, tf

ops = keras.ops


def rank_of(operand: Any) -> int:
    return len(operand.shape)


def to_channels_last_operand(operand: Any, rank: int) -> Any:
    """A static (numpy or weight) operand broadcast against an (N, C, ...) tensor, re-laid for (N, ..., C)."""
    shape = (1,) * (rank - len(operand.shape)) + tuple(operand.shape)
    permutation = channels_last_permutation(rank)
    if isinstance(operand, np.ndarray):
        return np.transpose(operand.reshape(shape), permutation)
    return ops.transpose(ops.reshape(operand, shape), permutation)


def unary(context: Context, node: Any, function: Callable[[Any], Any]) -> Any:
    """Apply ``function`` in whichever layout the input already has (no transpose for channels-last chains)."""
    name = node.inputs[0]
    if context.has_channels_last(name) and name not in context.values:
        context.set_channels_last(node.outputs[0], function(context.channels_last[name]))
        return None
    return function(context.tensor(name))


def elementwise(context: Context, node: Any, function: Callable[..., Any]) -> Any:
    """Apply an n-ary broadcasting ``function``; in channels-last when one operand is and the others are static."""
    names = [name for name in node.inputs if name]
    laid = [name for name in names if context.has_channels_last(name)]
    if laid:
        rank = rank_of(context.channels_last[laid[0]])
        static_ok = all(context.has_channels_last(name) or (context.is_static(name)
                        and len(context.graph.value(name).shape) <= rank) for name in names)
        if static_ok and all(rank_of(context.channels_last[name]) == rank for name in laid):
            operands = [context.channels_last[name] if context.has_channels_last(name)
                        else to_channels_last_operand(context.tensor(name), rank) for name in names]
            context.set_channels_last(node.outputs[0], function(*operands))
            return None
    return function(*[context.tensor(name) for name in names])


def binary(function: Callable[[Any, Any], Any]) -> Callable[[Context, Any], Any]:
    return lambda context, node: elementwise(context, node, function)


def _same_dtype(function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """ONNX operands share one dtype; numpy constants are cast to the tensor's so keras does not promote."""
    def apply(first: Any, second: Any) -> Any:
        if isinstance(second, np.ndarray) and not isinstance(first, np.ndarray):
            second = second.astype(first.dtype)
        elif isinstance(first, np.ndarray) and not isinstance(second, np.ndarray):
            first = first.astype(second.dtype)
        dtype = str((first if not isinstance(first, np.ndarray) else second).dtype)
        if dtype == "uint64" and function in _UINT64_SAFE:  # keras promotes uint64 results to uint32
            return _tensorflow_binary(_UINT64_SAFE[function])(first, second)
        return function(first, second)
    return apply


@keras.saving.register_keras_serializable(package="nbunify")
class IntegerArithmetic(SettingsLayer):
    """TensorFlow's integer division and remainders, which keras.ops lacks (ONNX integer Div truncates toward zero,
    Mod follows the divisor's sign with fmod=0, the dividend's with fmod=1), and the uint64 arithmetic keras
    narrows to uint32."""

    def call(self, first, second):
        function = {"truncatediv": tf.truncatediv, "truncatemod": tf.truncatemod, "floormod": tf.math.floormod,
                    **{name: getattr(tf.bitwise, name, None) or getattr(tf.math, name)
                       for name in _UINT64_SAFE.values()}}[self.settings["function"]]
        if first.dtype == tf.float16:  # TensorFlow's CPU remainders have no float16 kernels
            return tf.cast(function(tf.cast(first, tf.float32), tf.cast(second, tf.float32)), tf.float16)
        return function(first, second)


def _tensorflow_binary(function: str) -> Callable[[Any, Any], Any]:
    def apply(first: Any, second: Any) -> Any:
        operands = [ops.convert_to_tensor(operand) if isinstance(operand, np.ndarray) else operand
                    for operand in (first, second)]
        return IntegerArithmetic({"function": function})(*operands)
    return apply


#: keras ops whose uint64 results keras narrows, and the TensorFlow functions computing them in uint64.
_UINT64_SAFE = {ops.maximum: "maximum", ops.minimum: "minimum", ops.add: "add", ops.subtract: "subtract",
                ops.multiply: "multiply", ops.bitwise_and: "bitwise_and", ops.bitwise_or: "bitwise_or",
                ops.bitwise_xor: "bitwise_xor", ops.left_shift: "left_shift", ops.right_shift: "right_shift"}


def _divide(first: Any, second: Any) -> Any:
    dtype = first.dtype if not isinstance(first, np.ndarray) else second.dtype
    if np.dtype(str(dtype)).kind in "iu":
        return _tensorflow_binary("truncatediv")(first, second)
    return ops.divide(first, second)


for _op, _function, _versions in (("Add", ops.add, (7, 13, 14)), ("Sub", ops.subtract, (7, 13, 14)),
                                   ("Mul", ops.multiply, (7, 13, 14)), ("Div", _divide, (7, 13, 14))):
    REGISTRY.register(_op, *_versions)(binary(_same_dtype(_function)))


def _float_unary(function: Callable[[Any], Any]) -> Callable[[Context, Any], Any]:
    return lambda context, node: unary(context, node, function)


_UNARY = {
    "Abs": (ops.absolute, (6, 13)), "Neg": (ops.negative, (6, 13)), "Ceil": (ops.ceil, (6, 13)),
    "Floor": (ops.floor, (6, 13)), "Exp": (ops.exp, (6, 13)), "Log": (ops.log, (6, 13)),
    "Sqrt": (ops.sqrt, (6, 13)), "Reciprocal": (ops.reciprocal, (6, 13)), "Sign": (ops.sign, (9, 13)),
    "Sin": (ops.sin, (7, 22)), "Cos": (ops.cos, (7, 22)), "Tan": (ops.tan, (7, 22)), "Asin": (ops.arcsin, (7, 22)),
    "Acos": (ops.arccos, (7, 22)), "Atan": (ops.arctan, (7, 22)), "Sinh": (ops.sinh, (9, 22)),
    "Cosh": (ops.cosh, (9, 22)), "Asinh": (ops.arcsinh, (9, 22)), "Acosh": (ops.arccosh, (9, 22)),
    "Atanh": (ops.arctanh, (9, 22)), "Round": (ops.round, (11, 22)), "Not": (ops.logical_not, (1,)),
    "IsNaN": (ops.isnan, (9, 13, 20)), "BitwiseNot": (ops.bitwise_invert, (18,)),
}
for _op, (_function, _versions) in _UNARY.items():
    REGISTRY.register(_op, *_versions)(_float_unary(_function))


@REGISTRY.register("IsInf", 10, 20)
def is_inf(context: Context, node: Any) -> Any:
    tensor = context.tensor(node.inputs[0])
    positive, negative = node.attrs.get("detect_positive", 1), node.attrs.get("detect_negative", 1)
    result = ops.zeros_like(tensor, dtype="bool")
    if positive:
        result = ops.logical_or(result, ops.equal(tensor, np.inf))
    if negative:
        result = ops.logical_or(result, ops.equal(tensor, -np.inf))
    return result


def _variadic(function: Callable[[Any, Any], Any], finish: Callable[[Any, int], Any] | None = None):
    def convert(context: Context, node: Any) -> Any:
        def combine(*operands: Any) -> Any:
            result = operands[0]
            for operand in operands[1:]:
                result = _same_dtype(function)(result, operand)
            return finish(result, len(operands)) if finish else result
        if len([name for name in node.inputs if name]) == 1:
            return unary(context, node, lambda tensor: combine(tensor) if finish is None else finish(tensor, 1))
        return elementwise(context, node, combine)
    return convert


REGISTRY.register("Max", 8, 12, 13)(_variadic(ops.maximum))
REGISTRY.register("Min", 8, 12, 13)(_variadic(ops.minimum))
REGISTRY.register("Sum", 8, 13)(_variadic(ops.add))
REGISTRY.register("Mean", 8, 13)(_variadic(ops.add, lambda total, count: total / count if count > 1 else total))

for _op, _function, _versions in (
        ("Equal", ops.equal, (11, 13, 19)), ("Greater", ops.greater, (9, 13)), ("Less", ops.less, (9, 13)),
        ("GreaterOrEqual", ops.greater_equal, (12, 16)), ("LessOrEqual", ops.less_equal, (12, 16)),
        ("And", ops.logical_and, (7,)), ("Or", ops.logical_or, (7,)), ("Xor", ops.logical_xor, (7,)),
        ("BitwiseAnd", ops.bitwise_and, (18,)), ("BitwiseOr", ops.bitwise_or, (18,)),
        ("BitwiseXor", ops.bitwise_xor, (18,))):
    REGISTRY.register(_op, *_versions)(binary(_same_dtype(_function)))


@REGISTRY.register("BitShift", 11)
def bit_shift(context: Context, node: Any) -> Any:
    function = ops.left_shift if node.attrs["direction"] == "LEFT" else ops.right_shift
    return elementwise(context, node, _same_dtype(function))


@REGISTRY.register("Pow", 7, 12, 13, 15)
def power(context: Context, node: Any) -> Any:
    base = context.tensor(node.inputs[0])
    exponent = context.tensor(node.inputs[1])
    base_dtype = str(base.dtype)
    if isinstance(exponent, np.ndarray):
        if exponent.size == 1 and float(exponent.reshape(-1)[0]) == 2.0:  # the common square: exact and fast
            return ops.multiply(base, base)
        exponent = exponent.astype(base_dtype)
    else:
        exponent = ops.cast(exponent, base_dtype)
    if np.dtype(base_dtype).kind in "iu":  # integer powers: compute in float64, cast back (ONNX truncates)
        result = ops.power(ops.cast(base, "float64"), ops.cast(exponent, "float64"))
        return ops.cast(result, base_dtype)
    return ops.power(base, exponent)


@REGISTRY.register("Mod", 10, 13)
def modulo(context: Context, node: Any) -> Any:
    function = "truncatemod" if node.attrs.get("fmod", 0) else "floormod"
    return elementwise(context, node, _same_dtype(_tensorflow_binary(function)))


@REGISTRY.register("Clip", 11, 12, 13)
def clip(context: Context, node: Any) -> Any:
    low = node.input(1)
    high = node.input(2)
    dtype = context.graph.dtype(node.inputs[0])
    if (low and not context.is_static(low)) or (high and not context.is_static(high)):  # bounds as tensors
        tensor = context.tensor(node.inputs[0])
        if low:
            tensor = ops.maximum(tensor, context.tensor(low))
        return ops.minimum(tensor, context.tensor(high)) if high else tensor
    low_value = context.value(low).item() if low else None
    high_value = context.value(high).item() if high else None

    def apply(tensor: Any) -> Any:
        if low_value is not None:
            tensor = ops.maximum(tensor, np.asarray(low_value, dtype=dtype))
        if high_value is not None:
            tensor = ops.minimum(tensor, np.asarray(high_value, dtype=dtype))
        return tensor
    if low_value == 0 and high_value == 6 and np.dtype(dtype) == np.float32:
        return unary(context, node, ops.relu6)
    return unary(context, node, apply)


@REGISTRY.register("Where", 9, 16)
def where(context: Context, node: Any) -> Any:
    condition, first, second = (context.tensor(name) for name in node.inputs)
    dtype = context.graph.dtype(node.inputs[1]) or context.graph.dtype(node.inputs[2])
    if isinstance(first, np.ndarray):
        first = first.astype(dtype)
    if isinstance(second, np.ndarray):
        second = second.astype(dtype)
    return ops.where(condition, first, second)
