"""The neutral layers: arguments, output shape and canonical parameters (torch/ONNX layout, channels-first)."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nbunify.spec.errors import SpecError, did_you_mean, shape_text

Shape = tuple[int, ...]  # per sample, batch excluded, channels first

ACTIVATIONS = ("relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid", "softmax")
#: kind -> layer class, filled by @register; the DSL and error messages read it.
LAYERS: dict[str, type["Layer"]] = {}


@dataclass(frozen=True)
class Parameter:
    """One tensor of a layer in canonical layout; ``init`` names how initial values are drawn."""

    shape: Shape
    init: str  # "fan_in_uniform", "ones", "zeros"
    trainable: bool = True
    fan_in: int = 1


def register(kind: str):
    """Class decorator: make a dataclass layer known by ``kind`` and give its constructor clear errors."""

    def decorate(cls: type[Layer]) -> type[Layer]:
        cls.KIND = kind
        LAYERS[kind] = cls
        init = cls.__init__

        @functools.wraps(init)
        def checked_init(self: Layer, *args: Any, **kwargs: Any) -> None:
            names = [f.name for f in dataclasses.fields(cls)]
            for key in kwargs:
                if key not in names:
                    raise SpecError(f"{kind}: unknown argument {key!r}.{did_you_mean(key, names)} "
                                    f"Arguments: {', '.join(names)}.")
            try:
                init(self, *args, **kwargs)
            except TypeError as error:
                raise SpecError(f"{kind}: {error}. Arguments: {', '.join(names)}.") from None
            self.validate()

        cls.__init__ = checked_init
        return cls

    return decorate


@dataclass(eq=False)
class Layer:
    """Base of every layer. Subclasses declare arguments as dataclass fields (``name`` is always last)."""

    KIND: ClassVar[str] = "layer"

    def validate(self) -> None:
        """Check argument types and ranges at construction time (raise SpecError)."""

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        """Canonical parameters for an input of ``shape``: {name: Parameter}."""
        return {}

    def arguments(self) -> dict[str, Any]:
        """Arguments that differ from their defaults, in declaration order (for text and code)."""
        result = {}
        for item in dataclasses.fields(self):
            if item.name == "name":
                continue
            value = getattr(self, item.name)
            default = item.default if item.default is not dataclasses.MISSING else dataclasses.MISSING
            if value != default:
                result[item.name] = value
        return result

    def fail(self, problem: str, shape: Shape | None = None) -> SpecError:
        where = f"layer {self.name!r} ({self.KIND})" if getattr(self, "name", None) else self.KIND
        given = f" (input shape {shape_text(shape)})" if shape is not None else ""
        return SpecError(f"{where}: {problem}{given}")


def _positive_int(layer: Layer, argument: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise layer.fail(f"{argument} must be a positive integer, got {value!r}")


def _pair(layer: Layer, argument: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else tuple(value) if isinstance(value, (tuple, list)) else None
    if pair is None or len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in pair):
        raise layer.fail(f"{argument} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return pair  # type: ignore[return-value]


def _activation(layer: Layer, value: Any) -> None:
    if value is not None and value not in ACTIVATIONS:
        raise layer.fail(f"unknown activation {value!r}.{did_you_mean(str(value), ACTIVATIONS)} "
                         f"Choose one of {', '.join(ACTIVATIONS)}")


def _conv_extent(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@register("dense")
@dataclass(eq=False)
class Dense(Layer):
    """Fully connected: y = x W^T + b on the last axis (torch Linear, keras Dense, paddle Linear)."""

    units: int
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None

    def validate(self) -> None:
        _positive_int(self, "units", self.units)
        _activation(self, self.activation)

    def output_shape(self, shape: Shape) -> Shape:
        if not shape:
            raise self.fail("needs at least one feature axis", shape)
        return (*shape[:-1], self.units)

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        fan_in = shape[-1]
        result = {"weight": Parameter((self.units, fan_in), "fan_in_uniform", fan_in=fan_in)}
        if self.use_bias:
            result["bias"] = Parameter((self.units,), "fan_in_uniform", fan_in=fan_in)
        return result


@register("conv2d")
@dataclass(eq=False)
class Conv2d(Layer):
    """2-D convolution on C x H x W; padding is an int, a pair, "valid" or "same"; groups=C is depthwise."""

    filters: int
    kernel_size: int | tuple[int, int] = 3
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] | str = 0
    dilation: int | tuple[int, int] = 1
    groups: int = 1
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None

    def validate(self) -> None:
        _positive_int(self, "filters", self.filters)
        _positive_int(self, "groups", self.groups)
        _pair(self, "kernel_size", self.kernel_size)
        _pair(self, "stride", self.stride)
        _pair(self, "dilation", self.dilation)
        if isinstance(self.padding, str):
            if self.padding not in ("valid", "same"):
                raise self.fail(f"padding must be an integer, a pair, 'valid' or 'same', got {self.padding!r}")
        else:
            _pair(self, "padding", self.padding, minimum=0)
        _activation(self, self.activation)
        if self.filters % self.groups:
            raise self.fail(f"filters ({self.filters}) must be divisible by groups ({self.groups})")

    def explicit_padding(self, shape: Shape) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) zero padding, as TensorFlow computes 'same' (extra row/column at the end)."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding != "same":
            vertical, horizontal = _pair(self, "padding", self.padding, minimum=0)
            return (vertical, vertical, horizontal, horizontal)
        result = []
        for size, kernel, stride, dilation in zip(shape[1:], *(_pair(self, a, getattr(self, a)) for a in ("kernel_size", "stride", "dilation"))):
            out = math.ceil(size / stride)
            total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
            result += [total // 2, total - total // 2]
        return tuple(result)  # type: ignore[return-value]

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 3:
            raise self.fail("expects a channels x height x width input", shape)
        channels = shape[0]
        if channels % self.groups:
            raise self.fail(f"input channels ({channels}) must be divisible by groups ({self.groups})", shape)
        top, bottom, left, right = self.explicit_padding(shape)
        kernel, stride, dilation = (_pair(self, a, getattr(self, a)) for a in ("kernel_size", "stride", "dilation"))
        height = _conv_extent(shape[1] + top + bottom, kernel[0], stride[0], 0, dilation[0])
        width = _conv_extent(shape[2] + left + right, kernel[1], stride[1], 0, dilation[1])
        if height <= 0 or width <= 0:
            raise self.fail(f"kernel {shape_text(kernel)} does not fit; the output would be {height}x{width}", shape)
        return (self.filters, height, width)

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        kernel = _pair(self, "kernel_size", self.kernel_size)
        fan_in = shape[0] // self.groups * kernel[0] * kernel[1]
        result = {"weight": Parameter((self.filters, shape[0] // self.groups, *kernel), "fan_in_uniform", fan_in=fan_in)}
        if self.use_bias:
            result["bias"] = Parameter((self.filters,), "fan_in_uniform", fan_in=fan_in)
        return result


@dataclass(eq=False)
class _Pool2d(Layer):
    kernel_size: int | tuple[int, int] = 2
    stride: int | tuple[int, int] | None = None
    name: str | None = None

    def validate(self) -> None:
        _pair(self, "kernel_size", self.kernel_size)
        if self.stride is not None:
            _pair(self, "stride", self.stride)

    def strides(self) -> tuple[int, int]:
        return _pair(self, "stride", self.stride if self.stride is not None else self.kernel_size)

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 3:
            raise self.fail("expects a channels x height x width input", shape)
        kernel, stride = _pair(self, "kernel_size", self.kernel_size), self.strides()
        height, width = (_conv_extent(shape[i + 1], kernel[i], stride[i], 0, 1) for i in range(2))
        if height <= 0 or width <= 0:
            raise self.fail(f"window {shape_text(kernel)} is larger than the input", shape)
        return (shape[0], height, width)


@register("maxpool2d")
@dataclass(eq=False)
class MaxPool2d(_Pool2d):
    """Max over kernel_size windows (no padding; stride defaults to kernel_size)."""


@register("avgpool2d")
@dataclass(eq=False)
class AvgPool2d(_Pool2d):
    """Mean over kernel_size windows (no padding; stride defaults to kernel_size)."""


@register("global_avgpool2d")
@dataclass(eq=False)
class GlobalAvgPool2d(Layer):
    """Mean over height and width: C x H x W -> C."""

    name: str | None = None

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 3:
            raise self.fail("expects a channels x height x width input", shape)
        return (shape[0],)


@register("batchnorm")
@dataclass(eq=False)
class BatchNorm(Layer):
    """Batch normalization over the channel axis (axis 0 per sample): BatchNorm1d on C, BatchNorm2d on C x H x W.

    ``momentum`` has torch's meaning (weight of the new batch statistic); keras and paddle get 1 - momentum.
    """

    epsilon: float = 1e-5
    momentum: float = 0.1
    name: str | None = None

    def validate(self) -> None:
        if not 0 < self.momentum < 1 or not self.epsilon > 0:
            raise self.fail(f"needs 0 < momentum < 1 and epsilon > 0, got momentum={self.momentum}, epsilon={self.epsilon}")

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) not in (1, 3):
            raise self.fail("normalizes a C (features) or C x H x W input", shape)
        return shape

    def parameters(self, shape: Shape) -> dict[str, Parameter]:
        channels = (shape[0],)
        return {
            "weight": Parameter(channels, "ones"),
            "bias": Parameter(channels, "zeros"),
            "running_mean": Parameter(channels, "zeros", trainable=False),
            "running_var": Parameter(channels, "ones", trainable=False),
        }


@register("flatten")
@dataclass(eq=False)
class Flatten(Layer):
    """C x H x W -> C*H*W in channels-first order (as torch and paddle flatten)."""

    name: str | None = None

    def output_shape(self, shape: Shape) -> Shape:
        return (math.prod(shape),)


@register("dropout")
@dataclass(eq=False)
class Dropout(Layer):
    """Zero a fraction ``rate`` of the values while training; identity in inference."""

    rate: float = 0.5
    name: str | None = None

    def validate(self) -> None:
        if not isinstance(self.rate, (int, float)) or not 0 <= self.rate < 1:
            raise self.fail(f"rate must be in [0, 1), got {self.rate!r}")


@register("activation")
@dataclass(eq=False)
class Activation(Layer):
    """An elementwise activation (softmax over the channel/feature axis)."""

    function: str = "relu"
    name: str | None = None

    def validate(self) -> None:
        if self.function not in ACTIVATIONS:
            raise self.fail(f"unknown activation {self.function!r}.{did_you_mean(str(self.function), ACTIVATIONS)} "
                            f"Choose one of {', '.join(ACTIVATIONS)}")


#: The negative slope of leaky_relu everywhere (torch's default; keras's default 0.3 is overridden).
LEAKY_RELU_SLOPE = 0.01
