"""The base of every neutral layer: arguments, layouts, canonical parameters, and the checks they share."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, ClassVar

from nbunify.spec.errors import SpecError, did_you_mean, shape_text

Shape = tuple[int, ...]  # per sample, batch excluded, channels first

ACTIVATIONS = ("relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid", "softmax")
#: The negative slope of leaky_relu everywhere (torch's default; keras's default 0.3 is overridden).
LEAKY_RELU_SLOPE = 0.01
#: kind -> layer class, filled by @register; the DSL and error messages read it.
LAYERS: dict[str, type["Layer"]] = {}

# What the axes of a per-sample tensor mean. The spec is channels-first like torch and ONNX:
#   "vector"    (F,)                 features
#   "map"       (C, L) or (C, H, W)  channels first, then the spatial axes (conv1d/conv2d, pools)
#   "sequence"  (L, E)               steps first, features last (embedding, RNNs, attention), as
#                                    torch's batch_first=True, keras and paddle lay sequences out
#   "tokens"    (L,)                 integer token ids (the input of an embedding)
# Layouts never change what a layer computes on the canonical tensor, with one exception that is
# the point of having them: the "feature axis" (softmax, concat) is the channels of a map and the
# last axis of a sequence. Keras keeps maps channels-last and sequences as they are.
LAYOUTS = ("vector", "map", "sequence", "tokens")
FLOATS = ("vector", "map", "sequence")


@dataclass(frozen=True)
class Parameter:
    """One tensor of a layer in canonical layout; ``init`` names how initial values are drawn."""

    shape: Shape
    init: str  # "fan_in_uniform", "normal", "ones", "zeros"
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


def describe_layout(shape: Shape, layout: str) -> str:
    """Words for a tensor, as error messages use them: 'a 16x20 sequence (length x features)'."""
    words = {"vector": "vector (features)", "sequence": "sequence (length x features)", "tokens": "token-id sequence",
             "map": "map (channels x length)" if len(shape) == 2 else "map (channels x height x width)"}
    return f"a {shape_text(shape)} {words[layout]}"


def feature_axis(layout: str) -> int:
    """The per-sample axis softmax and concat work on: a map's channels (0), else the last axis."""
    return 0 if layout == "map" else -1


def resolve_layout(shape: Shape, declared: str | None, hint: str | None, where: str) -> str:
    """The layout of an input or reshape result of ``shape``: ``declared`` if given, else what the
    next layer prefers (``hint``), else vector / sequence / map by rank."""
    rank = len(shape)
    if declared is not None and declared not in LAYOUTS:
        raise SpecError(f"{where}: unknown layout {declared!r}.{did_you_mean(str(declared), LAYOUTS)} "
                        f"Choose one of {', '.join(LAYOUTS)}")
    if not 1 <= rank <= 3:
        raise SpecError(f"{where}: a sample has 1 to 3 axes (features; channels x length or length x features; "
                        f"channels x height x width), got {shape_text(shape)}")
    allowed = {1: ("vector", "tokens"), 2: ("map", "sequence"), 3: ("map",)}[rank]
    if declared is not None:
        if declared not in allowed:
            raise SpecError(f"{where}: a {shape_text(shape)} sample cannot be laid out as {declared!r}; "
                            f"with {rank} axes it is {' or '.join(repr(a) for a in allowed)}")
        return declared
    if hint in allowed:
        return hint
    return {1: "vector", 2: "sequence", 3: "map"}[rank]


@dataclass(eq=False)
class Layer:
    """Base of every layer. Subclasses declare arguments as dataclass fields (``name`` is always last)."""

    KIND: ClassVar[str] = "layer"
    #: input layouts the layer takes; the float layouts when None
    ACCEPTS: ClassVar[tuple[str, ...] | None] = None
    #: the layout an undecided input (rank 2: map or sequence) should take to suit this layer
    PREFERS: ClassVar[str | None] = None

    def validate(self) -> None:
        """Check argument types and ranges at construction time (raise SpecError)."""

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def infer(self, shape: Shape, layout: str, hint: str | None = None) -> tuple[Shape, str]:
        """(output shape, output layout) for an input of ``shape`` laid out as ``layout``; raises SpecError."""
        output_layout = self.output_layout(shape, layout, hint)
        return self.output_shape(shape), output_layout

    def output_layout(self, shape: Shape, layout: str, hint: str | None = None) -> str:
        """Check that the input's ``layout`` suits this layer and return the output's (the same by default).

        ``hint`` is what the next layer prefers, for layers whose output layout is open (reshape).
        """
        self.check_layout(shape, layout)
        return layout

    def check_layout(self, shape: Shape, layout: str) -> None:
        accepts = self.ACCEPTS if self.ACCEPTS is not None else FLOATS
        if layout in accepts:
            return
        given = describe_layout(shape, layout)
        if layout == "tokens":
            raise self.fail(f"gets {given}: token ids go into an `embedding` layer first")
        if accepts == ("tokens",):
            raise self.fail(f"takes integer token ids but gets {given}: declare the input as tokens "
                            "(`input 20 tokens`, or input_layout='tokens')")
        wanted = self.expects()
        if len(shape) == 2 and {layout, *accepts} >= {"map", "sequence"}:
            fix = "add `transpose` before it (torch code writes x.transpose(1, 2))"
        else:
            fix = "add `reshape` before it"
        raise self.fail(f"expects {wanted} but gets {given}: {fix}")

    def expects(self) -> str:
        """What the layer takes, in words for error messages."""
        accepts = self.ACCEPTS if self.ACCEPTS is not None else FLOATS
        return " or ".join({"vector": "a vector", "map": "a channels-first map", "tokens": "token ids",
                            "sequence": "a length x features sequence"}[a] for a in accepts)

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


def positive_int(layer: Layer, argument: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise layer.fail(f"{argument} must be a positive integer, got {value!r}")


def sizes(layer: Layer, argument: str, value: Any, count: int, minimum: int = 1) -> tuple[int, ...]:
    """An int or a tuple of ``count`` ints (each >= ``minimum``) as a tuple of ``count`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * count
    result = tuple(value) if isinstance(value, (tuple, list)) else None
    if result is None or len(result) != count or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in result):
        several = "" if count == 1 else " or a pair of them" if count == 2 else f" or {count} of them"
        raise layer.fail(f"{argument} must be an integer >= {minimum}{several}, got {value!r}")
    return result


def pair(layer: Layer, argument: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    return sizes(layer, argument, value, 2, minimum)  # type: ignore[return-value]


def check_activation(layer: Layer, value: Any, choices: tuple[str, ...] = ACTIVATIONS) -> None:
    if value is not None and value not in choices:
        raise layer.fail(f"unknown activation {value!r}.{did_you_mean(str(value), choices)} "
                         f"Choose one of {', '.join(choices)}")


def check_rate(layer: Layer, argument: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise layer.fail(f"{argument} must be in [0, 1), got {value!r}")


def conv_extent(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) zero padding of TensorFlow's "same": the odd extra row/column goes at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2
