"""Pooling on channels-first maps: max/average windows in 1-D and 2-D, and global averages."""

from __future__ import annotations

from dataclasses import dataclass

from nbunify.spec.errors import shape_text
from nbunify.spec.layers.base import Layer, Shape, conv_extent, register, sizes


@dataclass(eq=False)
class _Pool(Layer):
    """Windows of kernel_size, no padding; stride defaults to kernel_size. ``DIMS`` spatial axes."""

    DIMS = 2
    ACCEPTS = ("map",)
    PREFERS = "map"

    kernel_size: int | tuple[int, ...] = 2
    stride: int | tuple[int, ...] | None = None
    name: str | None = None

    def validate(self) -> None:
        sizes(self, "kernel_size", self.kernel_size, self.DIMS)
        if self.stride is not None:
            sizes(self, "stride", self.stride, self.DIMS)

    def expects(self) -> str:
        return "a channels x length map" if self.DIMS == 1 else "a channels x height x width map"

    def kernel(self) -> tuple[int, ...]:
        return sizes(self, "kernel_size", self.kernel_size, self.DIMS)

    def strides(self) -> tuple[int, ...]:
        return sizes(self, "stride", self.stride if self.stride is not None else self.kernel_size, self.DIMS)

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != self.DIMS + 1:
            axes = "channels x length" if self.DIMS == 1 else "channels x height x width"
            raise self.fail(f"expects a {axes} input", shape)
        extents = tuple(conv_extent(size, k, s, 0, 1) for size, k, s in zip(shape[1:], self.kernel(), self.strides()))
        if min(extents) <= 0:
            raise self.fail(f"window {shape_text(self.kernel())} is larger than the input", shape)
        return (shape[0], *extents)


@register("maxpool1d")
@dataclass(eq=False)
class MaxPool1d(_Pool):
    """Max over kernel_size windows of a C x L map (no padding; stride defaults to kernel_size)."""

    DIMS = 1
    kernel_size: int = 2
    stride: int | None = None


@register("avgpool1d")
@dataclass(eq=False)
class AvgPool1d(_Pool):
    """Mean over kernel_size windows of a C x L map (no padding; stride defaults to kernel_size)."""

    DIMS = 1
    kernel_size: int = 2
    stride: int | None = None


@register("maxpool2d")
@dataclass(eq=False)
class MaxPool2d(_Pool):
    """Max over kernel_size windows (no padding; stride defaults to kernel_size)."""


@register("avgpool2d")
@dataclass(eq=False)
class AvgPool2d(_Pool):
    """Mean over kernel_size windows (no padding; stride defaults to kernel_size)."""


@register("global_avgpool1d")
@dataclass(eq=False)
class GlobalAvgPool1d(Layer):
    """Mean over the length: a C x L map -> C, or an L x E sequence -> E (keras's GlobalAveragePooling1D)."""

    ACCEPTS = ("map", "sequence")
    name: str | None = None

    def infer(self, shape: Shape, layout: str, hint: str | None = None) -> tuple[Shape, str]:
        self.check_layout(shape, layout)
        if len(shape) != 2:
            raise self.fail("expects a channels x length map or a length x features sequence", shape)
        return (shape[0],) if layout == "map" else (shape[1],), "vector"

    def reduced_axis(self, layout: str) -> int:
        """The per-sample axis averaged away: a map's length (1) or a sequence's steps (0)."""
        return 1 if layout == "map" else 0


@register("global_avgpool2d")
@dataclass(eq=False)
class GlobalAvgPool2d(Layer):
    """Mean over height and width: C x H x W -> C."""

    ACCEPTS = ("map",)
    name: str | None = None

    def expects(self) -> str:
        return "a channels x height x width map"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 3:
            raise self.fail("expects a channels x height x width input", shape)
        return (shape[0],)

    def output_layout(self, shape: Shape, layout: str, hint: str | None = None) -> str:
        self.check_layout(shape, layout)
        return "vector"
