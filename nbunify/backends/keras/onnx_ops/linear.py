"""Linear algebra: ONNX Gemm and MatMul (as keras Dense when the weight is a parameter), Einsum."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, ImportedValue, keras, tf

ops = keras.ops


def _is_parameter(context: Context, name: str) -> bool:
    return context.is_static(name) and context.graph.value(name).dtype.kind == "f"


def _dense(context: Context, node: Any, tensor: Any, kernel: np.ndarray, bias: np.ndarray | None) -> Any:
    """A keras Dense layer holding ``kernel`` (K, N) and ``bias`` (N,) as trainable weights.

    Built for K inputs, so it takes a tensor whose last size TensorFlow cannot infer (a reshape to computed sizes).
    """
    layer = keras.layers.Dense(kernel.shape[1], use_bias=bias is not None, dtype=str(kernel.dtype),
                               kernel_initializer=ImportedValue(kernel), bias_initializer=ImportedValue(bias),
                               name=context.layer_name(node.name or node.outputs[0]))
    layer.build((*tensor.shape[:-1], kernel.shape[0]))
    return layer(tensor)


@REGISTRY.register("Gemm", 11, 13)
def gemm(context: Context, node: Any) -> Any:
    alpha, beta = node.attrs.get("alpha", 1.0), node.attrs.get("beta", 1.0)
    trans_a, trans_b = node.attrs.get("transA", 0), node.attrs.get("transB", 0)
    first, second, bias_name = node.inputs[0], node.inputs[1], node.input(2)
    if _is_parameter(context, second) and not context.is_static(first):
        kernel = context.value(second)
        kernel = (kernel.T if trans_b else kernel) * np.asarray(alpha, kernel.dtype)
        bias = None
        if bias_name and context.is_static(bias_name):
            bias = np.broadcast_to(context.value(bias_name) * np.asarray(beta, kernel.dtype),
                                   (kernel.shape[1],)).astype(kernel.dtype) if context.value(bias_name).ndim <= 1 \
                else None
        if not bias_name or bias is not None:
            tensor = context.tensor(first)
            return _dense(context, node, ops.transpose(tensor) if trans_a else tensor, kernel, bias)
    a, b = context.tensor(first), context.tensor(second)
    a = ops.transpose(a) if trans_a else a
    b = ops.transpose(b) if trans_b else b
    dtype = str((b if not isinstance(b, np.ndarray) else a).dtype)
    result = ops.matmul(a, b)
    if alpha != 1.0:
        result = result * np.asarray(alpha, dtype)
    if bias_name:
        bias = context.tensor(bias_name)
        if isinstance(bias, np.ndarray):
            bias = bias.astype(dtype)
        result = result + (bias * np.asarray(beta, dtype) if beta != 1.0 else bias)
    return result


@REGISTRY.register("MatMul", 9, 13)
def matmul(context: Context, node: Any) -> Any:
    first, second = node.inputs
    if _is_parameter(context, second) and context.graph.value(second).ndim == 2 and not context.is_static(first):
        return _dense(context, node, context.tensor(first), context.value(second), None)
    return ops.matmul(context.tensor(first), context.tensor(second))


@REGISTRY.register("Einsum", 12)
def einsum(context: Context, node: Any) -> Any:
    equation = node.attrs["equation"].replace(" ", "")
    return ops.einsum(equation, *[context.tensor(name) for name in node.inputs])


@REGISTRY.register("Det", 11, 22)
def determinant(context: Context, node: Any) -> Any:
    return Determinant(name=context.layer_name("det"))(context.symbolic(node.inputs[0]))


@keras.saving.register_keras_serializable(package="nbunify")
class Determinant(keras.layers.Layer):
    """tf.linalg.det over the last two axes (keras.ops has no determinant)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)

    def call(self, tensor):
        return tf.linalg.det(tensor)
