"""How spec arguments and layouts are spelled in paddle (shared by build and codegen; imports no paddle)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from nbunify.spec import Block, SpecError, Step
from nbunify.spec import layers as L


#: paddle's LayerNorm kernel refuses a larger epsilon ("'epsilon' in Op(LayerNorm) should be between 0.0 and 0.001")
LAYER_NORM_MAX_EPSILON = 1e-3


def check_expressible(item: Any) -> None:
    """Raise SpecError, naming the layer and the fix, for a spec layer paddle cannot build as asked."""
    if isinstance(item, (L.LayerNorm, L.TransformerEncoder)) and item.epsilon > LAYER_NORM_MAX_EPSILON:
        inside = "" if isinstance(item, L.LayerNorm) else " (inside TransformerEncoderLayer, as layer_norm_eps)"
        raise SpecError(f"paddle: layer {item.name!r} ({item.KIND}) has epsilon={item.epsilon!r}, but paddle's "
                        f"LayerNorm{inside} accepts epsilon up to {LAYER_NORM_MAX_EPSILON}; give epsilon <= "
                        f"{LAYER_NORM_MAX_EPSILON} (torch's default 1e-5 and keras's 1e-3 both fit)")


def plain(value: Any) -> Any:
    """3, (3,) or (3, 3) -> 3; (3, 5) -> [3, 5]: what one would write by hand."""
    if isinstance(value, int):
        return value
    values = list(value)
    return values[0] if len(set(values)) == 1 else values


def conv_padding(layer: L.Conv2d, shape: tuple) -> Any:
    """Explicit numbers as paddle takes them: [top, bottom, left, right] only for TensorFlow's uneven "same"."""
    top, bottom, left, right = layer.explicit_padding(shape)
    return plain((top, left)) if top == bottom and left == right else [top, bottom, left, right]


def conv1d_padding(layer: L.Conv1d, shape: tuple) -> Any:
    """An int when both ends agree, else paddle's [left, right] (TensorFlow's uneven "same": the extra one on the right)."""
    left, right = layer.explicit_padding(shape)
    return left if left == right else [left, right]


def feature_axis(layout: str) -> int:
    """The batch-tensor axis softmax and concat work on: 1 for (N, C, ...) maps and (N, F) vectors, -1 for (N, L, E) sequences."""
    return -1 if layout == "sequence" else 1


def output_activation(item: Any) -> str | None:
    """A layer's ``activation=`` applied to its output (a Transformer's ``activation`` lives inside its feed-forward)."""
    return None if isinstance(item, L.TransformerEncoder) else getattr(item, "activation", None)


def direction(layer: L.SimpleRNN) -> str:
    """paddle's ``direction`` argument."""
    return "bidirect" if layer.bidirectional else "forward"


def after(items: Sequence[Any], steps: Mapping[str, Step], shape: tuple, layout: str) -> tuple[tuple, str]:
    """(per-sample shape, layout) after ``items`` (layers and blocks) applied to an input of ``shape``/``layout``."""
    for item in items:
        if isinstance(item, Block):
            shape, layout = item.output_shape, item.output_layout  # as the spec inferred them
        else:
            step = steps[item.name]
            shape, layout = step.output_shape, step.output_layout
    return shape, layout
