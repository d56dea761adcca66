"""Layers that only rearrange values: Flatten, Reshape and Transpose."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nbunify.spec.errors import shape_text
from nbunify.spec.layers.base import LAYOUTS, Layer, Shape, register, resolve_layout


@register("flatten")
@dataclass(eq=False)
class Flatten(Layer):
    """C x H x W -> C*H*W in channels-first order (as torch and paddle flatten); any sample -> a vector."""

    name: str | None = None

    def output_shape(self, shape: Shape) -> Shape:
        return (math.prod(shape),)

    def output_layout(self, shape: Shape, layout: str, hint: str | None = None) -> str:
        self.check_layout(shape, layout)
        return "vector"


@register("reshape")
@dataclass(eq=False)
class Reshape(Layer):
    """Row-major reshape of the canonical (channels-first) sample to ``target_shape`` (one axis may be -1).

    A 2-axis result is a sequence (length x features) or a map (channels x length): ``layout`` says
    which; by default the next layer decides (an LSTM wants a sequence, a conv1d a map).
    """

    target_shape: tuple[int, ...]
    layout: str | None = None
    name: str | None = None

    def validate(self) -> None:
        target = (self.target_shape,) if isinstance(self.target_shape, int) and not isinstance(self.target_shape, bool) else self.target_shape
        if (not isinstance(target, (tuple, list)) or not 1 <= len(target) <= 3
                or any(isinstance(s, bool) or not isinstance(s, int) or (s <= 0 and s != -1) for s in target)
                or list(target).count(-1) > 1):
            raise self.fail(f"target_shape must be 1 to 3 positive sizes per sample (one may be -1), e.g. 16x7x7; "
                            f"got {self.target_shape!r}")
        self.target_shape = tuple(target)
        if self.layout is not None and self.layout not in LAYOUTS[:3]:
            raise self.fail(f"layout must be 'vector', 'map' or 'sequence', got {self.layout!r}")

    def output_shape(self, shape: Shape) -> Shape:
        total, known = math.prod(shape), math.prod(s for s in self.target_shape if s != -1)
        target = tuple(total // known if s == -1 else s for s in self.target_shape)
        if math.prod(target) != total:
            raise self.fail(f"cannot reshape {total} values into {shape_text(self.target_shape)}", shape)
        return target

    def output_layout(self, shape: Shape, layout: str, hint: str | None = None) -> str:
        self.check_layout(shape, layout)
        where = f"layer {self.name!r} (reshape)"
        return resolve_layout(self.output_shape(shape), self.layout, hint if hint != "tokens" else None, where)


@register("transpose")
@dataclass(eq=False)
class Transpose(Layer):
    """Swap the two axes of a sample: a length x features sequence <-> a channels x length map (torch's x.transpose(1, 2)).

    Keras lays both out as (length, features/channels), so there this layer moves no data.
    """

    ACCEPTS = ("map", "sequence")
    name: str | None = None

    def infer(self, shape: Shape, layout: str, hint: str | None = None) -> tuple[Shape, str]:
        self.check_layout(shape, layout)
        if len(shape) != 2:
            raise self.fail("swaps the two axes of a channels x length map or a length x features sequence", shape)
        return (shape[1], shape[0]), "sequence" if layout == "map" else "map"
