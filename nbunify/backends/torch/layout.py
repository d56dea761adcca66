"""Torch dims of the spec's layouts, shared by build and codegen (no torch import: codegen runs without torch)."""

from __future__ import annotations

from typing import Any

from nbunify.spec import Block, Step
from nbunify.spec.layers import Shape, feature_axis


def feature_dim(layout: str) -> int:
    """The feature axis as a torch dim (softmax, torch.cat): 1 for a map's channels and a vector's features,
    -1 for a (N, L, E) sequence's features. Both are the same axis for a vector; 1 is what torch code writes."""
    return 1 if feature_axis(layout) == 0 or layout == "vector" else -1


def block_output(item: Any, steps: dict[int, Step]) -> tuple[Shape, str]:
    """(shape, layout) that ``item`` (a layer or a block) produces, as the spec inferred it."""
    if isinstance(item, Block):
        return item.output_shape, item.output_layout
    step = steps[id(item)]
    return step.output_shape, step.output_layout
