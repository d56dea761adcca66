"""How spec arguments are spelled in paddle (shared by build and codegen; imports no paddle)."""

from __future__ import annotations

from typing import Any

from nbunify.spec import layers as L


def plain(value: Any) -> Any:
    """3 or (3, 3) -> 3; (3, 5) -> [3, 5]: what one would write by hand."""
    if isinstance(value, int):
        return value
    first, second = value
    return first if first == second else [first, second]


def conv_padding(layer: L.Conv2d, shape: tuple) -> Any:
    """Explicit numbers as paddle takes them: [top, bottom, left, right] only for TensorFlow's uneven "same"."""
    top, bottom, left, right = layer.explicit_padding(shape)
    return plain((top, left)) if top == bottom and left == right else [top, bottom, left, right]
