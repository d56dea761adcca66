"""Canonical (torch, channels-first) <-> keras layouts of tensors: maps are channels-last in keras, the rest as is."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nbunify.spec.layers import Shape


@dataclass
class KerasLayout:
    """What a keras build needs to map weights and outputs back to canonical order.

    ``permutations[layer]`` is set for per-feature layers (Dense, BatchNorm, LayerNorm) fed by the
    flatten of a channels-last map: keras feature k holds canonical feature ``permutation[k]``.
    ``output_permutation`` does the same for the model output when it is such a flattened vector.
    """

    permutations: dict[str, np.ndarray] = field(default_factory=dict)
    output_permutation: np.ndarray | None = None


def is_map(layout: str) -> bool:
    """Maps (C x L, C x H x W) are stored channels-last in keras; vectors, sequences and token ids as they are."""
    return layout == "map"


def keras_shape(shape: Shape, layout: str) -> Shape:
    """The per-sample keras shape of a canonical per-sample ``shape`` laid out as ``layout``."""
    return (*shape[1:], shape[0]) if is_map(layout) else tuple(shape)


def moves_channels(shape: Shape, layout: str) -> bool:
    """Whether keras's channels-last storage orders the values differently from the canonical row-major order
    (not for a single channel, nor for a single position)."""
    return is_map(layout) and shape[0] > 1 and math.prod(shape[1:]) > 1


def flatten_permutation(shape: Shape) -> np.ndarray:
    """For a flattened channels-last map of canonical (C, *spatial) ``shape``: the canonical index at each keras position."""
    rank = len(shape)
    return np.arange(math.prod(shape)).reshape(shape).transpose(*range(1, rank), 0).ravel()


def channels_first(rank: int) -> tuple[int, ...]:
    """keras.layers.Permute dims moving the last of ``rank`` axes first: (L, C) -> (C, L), (H, W, C) -> (C, H, W)."""
    return (rank, *range(1, rank))


def channels_last(rank: int) -> tuple[int, ...]:
    """keras.layers.Permute dims moving the first of ``rank`` axes last."""
    return (*range(2, rank + 1), 1)


def to_keras_inputs(inputs: np.ndarray, layout: str) -> np.ndarray:
    """A batch of canonical inputs in keras's layout: maps channels-last ((N, C, L) -> (N, L, C), NCHW -> NHWC)."""
    return np.ascontiguousarray(np.moveaxis(inputs, 1, -1)) if is_map(layout) else inputs


def to_canonical_outputs(outputs: np.ndarray, layout: str, permutation: np.ndarray | None) -> np.ndarray:
    """A batch of keras outputs in canonical layout: maps channels-first, a flattened (permuted) vector in canonical order."""
    if is_map(layout):
        return np.ascontiguousarray(np.moveaxis(outputs, -1, 1))
    if permutation is not None:
        canonical = np.empty_like(outputs)
        canonical[:, permutation] = outputs
        return canonical
    return outputs


def same_order(first: np.ndarray | None, second: np.ndarray | None) -> bool:
    """Whether two branches order their flat features the same way (None: canonical order)."""
    if first is None or second is None:
        return first is None and second is None
    return bool(np.array_equal(first, second))
