"""Torch dims of the spec's layouts, shared by build and codegen (no torch import: codegen runs without torch)."""

from __future__ import annotations

import functools
from typing import Any

from nbunify.spec import Block, Concat, Step
from nbunify.spec.layers import Shape, feature_axis


def feature_dim(layout: str) -> int:
    """The feature axis as a torch dim (softmax, torch.cat): 1 for a map's channels and a vector's features,
    -1 for a (N, L, E) sequence's features. Both are the same axis for a vector; 1 is what torch code writes."""
    return 1 if feature_axis(layout) == 0 or layout == "vector" else -1


def block_output(item: Any, steps: dict[int, Step], shape: Shape, layout: str) -> tuple[Shape, str]:
    """(shape, layout) that ``item`` (a layer or a block) turns an input of ``shape`` and ``layout`` into."""
    if not isinstance(item, Block):
        step = steps[id(item)]
        return step.output_shape, step.output_layout
    outputs = [functools.reduce(lambda before, inner: block_output(inner, steps, *before), branch, (shape, layout))
               for branch in item.branches()]
    if not isinstance(item, Concat):
        return outputs[0]
    (first, out_layout) = outputs[0]
    axis = feature_axis(out_layout) % len(first)
    joined = list(first)
    joined[axis] = sum(out[axis] for out, _ in outputs)
    return tuple(joined), out_layout
