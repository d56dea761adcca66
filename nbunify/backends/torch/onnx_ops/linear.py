"""Linear-algebra ONNX ops: Gemm (as F.linear when it is one), MatMul, Einsum."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node


def _gemm(a, b, c, alpha: float, beta: float, transpose_a: int, transpose_b: int):
    if transpose_a:
        a = a.t()
    if transpose_b:
        b = b.t()
    y = a @ b
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1.0 else c)
    return y


@REGISTRY.register("Gemm", 11, 13)
def gemm(builder: Builder, node: Node):
    a, b, c = (builder.inputs(node) + [None])[:3]
    alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))
    transpose_a, transpose_b = int(node.attrs.get("transA", 0)), int(node.attrs.get("transB", 0))
    weight_shape = builder.graph.shape(node.inputs[1])
    bias_is_vector = c is None or (weight_shape is not None and builder.graph.shape(node.inputs[2]) == weight_shape[:1])
    if alpha == 1.0 and beta == 1.0 and not transpose_a and transpose_b and bias_is_vector:
        return builder.call(F.linear, a, b, c)  # the nn.Linear layout torch exports: one fused addmm
    return builder.call(_gemm, a, b, c, alpha, beta, transpose_a, transpose_b)


@REGISTRY.register("MatMul", 9, 13)
def matmul(builder: Builder, node: Node):
    return builder.call(torch.matmul, *builder.inputs(node)[:2])


@REGISTRY.register("Einsum", 12)
def einsum(builder: Builder, node: Node):
    return builder.call(torch.einsum, node.attrs["equation"].replace(" ", ""), *builder.inputs(node))


@REGISTRY.register("Det", 11, 22)
def det(builder: Builder, node: Node):
    return builder.call(torch.linalg.det, builder.tensor(node.inputs[0]))
