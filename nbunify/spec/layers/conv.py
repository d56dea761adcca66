"""Convolutions on channels-first maps: Conv1d (C x L), Conv2d (C x H x W) and ConvTranspose2d."""

from __future__ import annotations

from dataclasses import dataclass

from nbunify.spec.errors import shape_text
from nbunify.spec.layers.base import (
    Layer,
    Parameter,
    Shape,
    check_activation,
    conv_extent,
    positive_int,
    register,
    same_padding,
    sizes,
)


@dataclass(eq=False)
class _Conv(Layer):
    """Shared by Conv1d and Conv2d: ``DIMS`` spatial axes after the channels."""

    DIMS = 2
    ACCEPTS = ("map",)
    PREFERS = "map"

    filters: int
    kernel_size: int | tuple[int, ...] = 3
    stride: int | tuple[int, ...] = 1
    padding: int | tuple[int, ...] | str = 0
    dilation: int | tuple[int, ...] = 1
    groups: int = 1
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None

    def validate(self) -> None:
        positive_int(self, "filters", self.filters)
        positive_int(self, "groups", self.groups)
        for argument in ("kernel_size", "stride", "dilation"):
            sizes(self, argument, getattr(self, argument), self.DIMS)
        if isinstance(self.padding, str):
            if self.padding not in ("valid", "same"):
                several = ", a pair" if self.DIMS == 2 else ""
                raise self.fail(f"padding must be an integer{several}, 'valid' or 'same', got {self.padding!r}")
        else:
            sizes(self, "padding", self.padding, self.DIMS, minimum=0)
        check_activation(self, self.activation)
        if self.filters % self.groups:
            raise self.fail(f"filters ({self.filters}) must be divisible by groups ({self.groups})")

    def expects(self) -> str:
        return "a channels x length map" if self.DIMS == 1 else "a channels x height x width map"

    def kernel(self) -> tuple[int, ...]:
        return sizes(self, "kernel_size", self.kernel_size, self.DIMS)

    def strides(self) -> tuple[int, ...]:
        return sizes(self, "stride", self.stride, self.DIMS)

    def dilations(self) -> tuple[int, ...]:
        return sizes(self, "dilation", self.dilation, self.DIMS)

    def pads(self, shape: Shape) -> tuple[tuple[int, int], ...]:
        """((before, after) per spatial axis): explicit zero padding, as TensorFlow computes 'same'."""
        if self.padding == "valid":
            return ((0, 0),) * self.DIMS
        if self.padding == "same":
            return tuple(same_padding(size, k, s, d) for size, k, s, d
                         in zip(shape[1:], self.kernel(), self.strides(), self.dilations()))
        return tuple((p, p) for p in sizes(self, "padding", self.padding, self.DIMS, minimum=0))

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != self.DIMS + 1:
            axes = "channels x length" if self.DIMS == 1 else "channels x height x width"
            raise self.fail(f"expects a {axes} input", shape)
        if shape[0] % self.groups:
            raise self.fail(f"input channels ({shape[0]}) must be divisible by groups ({self.groups})", shape)
        extents = tuple(conv_extent(size + before + after, k, s, 0, d) for size, (before, after), k, s, d
                        in zip(shape[1:], self.pads(shape), self.kernel(), self.strides(), self.dilations()))
        if min(extents) <= 0:
            raise self.fail(f"kernel {shape_text(self.kernel())} does not fit; the output would be {shape_text(extents)}", shape)
        return (self.filters, *extents)

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        kernel = self.kernel()
        fan_in = shape[0] // self.groups
        for size in kernel:
            fan_in *= size
        result = {"weight": Parameter((self.filters, shape[0] // self.groups, *kernel), "fan_in_uniform", fan_in=fan_in)}
        if self.use_bias:
            result["bias"] = Parameter((self.filters,), "fan_in_uniform", fan_in=fan_in)
        return result


@register("conv1d")
@dataclass(eq=False)
class Conv1d(_Conv):
    """1-D convolution on C x L; padding is an int, "valid" or "same"; groups=C is depthwise."""

    DIMS = 1
    kernel_size: int = 3
    stride: int = 1
    padding: int | str = 0
    dilation: int = 1

    def explicit_padding(self, shape: Shape) -> tuple[int, int]:
        """(left, right) zero padding."""
        return self.pads(shape)[0]


@register("conv2d")
@dataclass(eq=False)
class Conv2d(_Conv):
    """2-D convolution on C x H x W; padding is an int, a pair, "valid" or "same"; groups=C is depthwise."""

    DIMS = 2
    kernel_size: int | tuple[int, int] = 3
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] | str = 0
    dilation: int | tuple[int, int] = 1

    def explicit_padding(self, shape: Shape) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) zero padding, as TensorFlow computes 'same' (extra row/column at the end)."""
        (top, bottom), (left, right) = self.pads(shape)
        return (top, bottom, left, right)


@register("conv_transpose2d")
@dataclass(eq=False)
class ConvTranspose2d(Layer):
    """Transposed 2-D convolution (torch's ConvTranspose2d): out = (in - 1) * stride - 2 * padding + kernel + output_padding.

    The canonical weight is torch's (in_channels, filters, kh, kw).
    """

    ACCEPTS = ("map",)
    PREFERS = "map"

    filters: int
    kernel_size: int | tuple[int, int] = 3
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] = 0
    output_padding: int | tuple[int, int] = 0
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None

    def expects(self) -> str:
        return "a channels x height x width map"

    def validate(self) -> None:
        positive_int(self, "filters", self.filters)
        sizes(self, "kernel_size", self.kernel_size, 2)
        stride = sizes(self, "stride", self.stride, 2)
        sizes(self, "padding", self.padding, 2, minimum=0)
        extra = sizes(self, "output_padding", self.output_padding, 2, minimum=0)
        if any(e >= s for e, s in zip(extra, stride)):
            raise self.fail(f"output_padding {extra} must be smaller than stride {stride}")
        check_activation(self, self.activation)

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 3:
            raise self.fail("expects a channels x height x width input", shape)
        kernel, stride = sizes(self, "kernel_size", self.kernel_size, 2), sizes(self, "stride", self.stride, 2)
        padding = sizes(self, "padding", self.padding, 2, minimum=0)
        extra = sizes(self, "output_padding", self.output_padding, 2, minimum=0)
        extents = tuple((size - 1) * s - 2 * p + k + e for size, s, p, k, e in zip(shape[1:], stride, padding, kernel, extra))
        if min(extents) <= 0:
            raise self.fail(f"padding {padding} crops the whole output away (it would be {shape_text(extents)})", shape)
        return (self.filters, *extents)

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        kernel = sizes(self, "kernel_size", self.kernel_size, 2)
        fan_in = self.filters * kernel[0] * kernel[1]  # torch computes it from weight.size(1)
        result = {"weight": Parameter((shape[0], self.filters, *kernel), "fan_in_uniform", fan_in=fan_in)}
        if self.use_bias:
            result["bias"] = Parameter((self.filters,), "fan_in_uniform", fan_in=fan_in)
        return result
