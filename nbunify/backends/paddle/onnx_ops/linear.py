"""Linear-algebra converters: Gemm, MatMul, Einsum, Det."""

from __future__ import annotations

import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, widened


@REGISTRY.register("Gemm", 9, 11, 13)
def gemm(node, context):
    alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))
    transpose_a, transpose_b = bool(node.attrs.get("transA", 0)), bool(node.attrs.get("transB", 0))

    def run(left, right, bias=None):
        product = paddle.matmul(left, right, transpose_a, transpose_b)
        if alpha != 1.0:
            product = product * alpha
        if bias is None:
            return product
        return product + (bias if beta == 1.0 else bias * beta)

    return widened(run)


@REGISTRY.register("MatMul", 9, 13)
def matmul(node, context):
    return widened(paddle.matmul)


@REGISTRY.register("Einsum", 12)
def einsum(node, context):
    equation = node.attrs["equation"].replace(" ", "")
    return lambda *tensors: paddle.einsum(equation, *tensors)


@REGISTRY.register("Det", 11, 22)
def determinant(node, context):
    return paddle.linalg.det
