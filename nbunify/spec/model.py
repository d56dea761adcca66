"""Model specs: a Sequential of layers and blocks (residual add, concat), with names, shapes and initial weights."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from nbunify.spec.errors import SpecError, shape_text
from nbunify.spec.layers import Layer, Parameter, Shape, describe_layout, feature_axis, resolve_layout


class Block:
    """A non-sequential piece of a graph; subclasses say how their branches combine."""

    KIND = "block"
    name: str | None
    #: set by the Sequential that contains the block: what it produces
    output_shape: Shape
    output_layout: str

    def branches(self) -> list[list[Layer | "Block"]]:
        raise NotImplementedError

    def fail(self, problem: str) -> SpecError:
        return SpecError(f"block {self.name!r} ({self.KIND}): {problem}")


@dataclass(eq=False)
class Residual(Block):
    """x + f(x): ``layers`` must keep the shape (add a 1x1 conv inside ``shortcut`` to change it)."""

    layers: Sequence[Any]
    shortcut: Sequence[Any] = ()
    name: str | None = None
    KIND = "residual"

    def branches(self) -> list[list[Any]]:
        return [list(self.layers), list(self.shortcut)]


class Concat(Block):
    """Concatenate the outputs of parallel branches along the feature axis: a map's channels, else the last axis
    (an empty branch is x itself)."""

    KIND = "concat"

    def __init__(self, *branches: Sequence[Any], name: str | None = None) -> None:
        self._branches = [list(branch) for branch in branches]
        self.name = name

    def branches(self) -> list[list[Any]]:
        return [list(branch) for branch in self._branches]


@dataclass(frozen=True)
class Step:
    """One layer of a spec, in execution order, with its input and output shapes."""

    layer: Layer
    input_shape: Shape
    output_shape: Shape
    path: tuple[str, ...]  # names of the enclosing blocks
    input_layout: str = "map"  # "vector", "map", "sequence" or "tokens" (see nbunify.spec.layers.base)
    output_layout: str = "map"


class Sequential:
    """A model spec: layers and blocks applied in order to a channels-first input of ``input_shape``.

    Shapes are inferred at definition time; a mistake raises SpecError naming the layer and shapes.
    Every layer gets a unique name (``conv2d_1``, ``dense_2`` ...) unless given one.
    ``input_layout`` says what the input's axes mean: "vector", "map" (channels first), "sequence"
    (length x features) or "tokens" (integer ids for an embedding); by default the first layer decides
    (an embedding wants tokens, an LSTM a sequence, a conv1d a map).
    """

    def __init__(self, layers: Sequence[Any], input_shape: Sequence[int], name: str = "model",
                 input_layout: str | None = None) -> None:
        if not layers:
            raise SpecError("the spec has no layers: give at least one, e.g. nu.layers.Dense(10)")
        shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
        if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in shape):
            raise SpecError(f"input_shape must be positive integers per sample, e.g. (1, 28, 28); got {input_shape!r}")
        self.name = name
        self.layers = list(layers)
        self.input_shape: Shape = shape
        self._assign_names()
        self.input_layout = resolve_layout(shape, input_layout, preferred_layout(self.layers, 0), "input")
        self.steps: list[Step] = []
        self.output_shape, self.output_layout = self._infer(self.layers, shape, self.input_layout, ())

    @property
    def input_dtype(self) -> str:
        """"int64" for token ids, else "float32"."""
        return "int64" if self.input_layout == "tokens" else "float32"

    # -- structure ---------------------------------------------------------------------------
    def _assign_names(self) -> None:
        counts: dict[str, int] = {}
        seen: set[str] = set()
        for item in _walk_items(self.layers):
            if not isinstance(item, (Layer, Block)):
                raise SpecError(f"{item!r} is not a layer: use nu.layers.* (e.g. nu.layers.Dense(10)) or a block")
            if item.name is None:
                counts[item.KIND] = counts.get(item.KIND, 0) + 1
                candidate = f"{item.KIND}_{counts[item.KIND]}"
                while candidate in seen:
                    counts[item.KIND] += 1
                    candidate = f"{item.KIND}_{counts[item.KIND]}"
                item.name = candidate
            if item.name in seen:
                raise SpecError(f"two layers are named {item.name!r}: names must be unique")
            seen.add(item.name)

    def _infer(self, items: Sequence[Any], shape: Shape, layout: str, path: tuple[str, ...]) -> tuple[Shape, str]:
        for index, item in enumerate(items):
            if isinstance(item, Block):
                shape, layout = self._infer_block(item, shape, layout, path)
                item.output_shape, item.output_layout = shape, layout  # read by the backends, as Step's are
                continue
            output, output_layout = item.infer(shape, layout, preferred_layout(items, index + 1))
            self.steps.append(Step(item, shape, output, path, layout, output_layout))
            shape, layout = output, output_layout
        return shape, layout

    def _infer_block(self, block: Block, shape: Shape, layout: str, path: tuple[str, ...]) -> tuple[Shape, str]:
        inner = (*path, block.name)
        outputs = [self._infer(branch, shape, layout, inner) for branch in block.branches()]
        layouts = {out_layout for _, out_layout in outputs}
        if len(layouts) > 1:
            raise block.fail("its branches end in different layouts: "
                             + ", ".join(describe_layout(out, out_layout) for out, out_layout in outputs))
        if isinstance(block, Residual):
            (main, main_layout), (shortcut, _) = outputs
            if main != shortcut:
                raise block.fail(f"its layers turn {shape_text(shape)} into {shape_text(main)}, which cannot be added "
                                 f"to the shortcut's {shape_text(shortcut)}; give `shortcut` layers that produce {shape_text(main)}")
            return main, main_layout
        shapes, out_layout = [out for out, _ in outputs], outputs[0][1]
        axis = feature_axis(out_layout) % len(shapes[0])
        rest = [out[:axis] + out[axis + 1:] for out in shapes]
        if any(len(out) != len(shapes[0]) or other != rest[0] for out, other in zip(shapes, rest)):
            which = "channels" if out_layout == "map" else "the last axis"
            raise block.fail(f"branches must agree on every axis but {which}, got " + ", ".join(shape_text(out) for out in shapes))
        joined = list(shapes[0])
        joined[axis] = sum(out[axis] for out in shapes)
        return tuple(joined), out_layout

    # -- queries -----------------------------------------------------------------------------
    def parameters(self) -> dict[str, Parameter]:
        """Every canonical tensor as ``{"<layer>.<param>": Parameter}`` in execution order."""
        return {f"{step.layer.name}.{key}": value for step in self.steps for key, value in step.layer.parameters(step.input_shape).items()}

    def parameter_count(self, trainable_only: bool = False) -> int:
        return sum(int(np.prod(p.shape)) for p in self.parameters().values() if p.trainable or not trainable_only)

    def initial_weights(self, seed: int = 0) -> dict[str, np.ndarray]:
        """Canonical float32 weights drawn once from ``seed``: the same numbers for every framework."""
        rng = np.random.default_rng(seed)
        weights = {}
        for key, parameter in self.parameters().items():
            if parameter.init == "ones":
                weights[key] = np.ones(parameter.shape, np.float32)
            elif parameter.init == "zeros":
                weights[key] = np.zeros(parameter.shape, np.float32)
            elif parameter.init == "normal":  # torch's Embedding: N(0, 1)
                weights[key] = rng.standard_normal(parameter.shape).astype(np.float32)
            else:  # torch's default for Linear/Conv: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                bound = 1.0 / np.sqrt(parameter.fan_in)
                weights[key] = rng.uniform(-bound, bound, parameter.shape).astype(np.float32)
        return weights

    def to_text(self) -> str:
        """The cell-DSL text of this spec (``nu.spec.parse(spec.to_text())`` gives it back)."""
        from nbunify.spec.dsl import to_text

        return to_text(self)

    def walk(self) -> Iterator[Step]:
        return iter(self.steps)

    def spec_hash(self) -> str:
        """A short hash of the architecture (layers, arguments, input shape and layout), for run records."""
        text = json.dumps(describe(self.layers) + [list(self.input_shape), self.input_layout], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        lines = [f"Sequential {self.name!r}: input {describe_layout(self.input_shape, self.input_layout)} -> "
                 f"output {describe_layout(self.output_shape, self.output_layout)}"]
        width = max([len("  " * len(step.path) + step.layer.name) for step in self.steps] + [18])
        kinds = max([len(step.layer.KIND) for step in self.steps] + [16])
        for step in self.steps:
            name = "  " * len(step.path) + step.layer.name
            lines.append(f"  {name:<{width}} {step.layer.KIND:<{kinds}} -> {shape_text(step.output_shape)}")
        return "\n".join(lines)


def preferred_layout(items: Sequence[Any], index: int) -> str | None:
    """The input layout the item at ``index`` prefers (looking into a block's first branch), or None."""
    while index < len(items):
        item = items[index]
        if isinstance(item, Layer):
            return item.PREFERS
        branches = [branch for branch in item.branches() if branch]
        if not branches:
            return None
        items, index = branches[0], 0
    return None


def describe(items: Sequence[Any]) -> list[Any]:
    """A JSON-able description of layers and blocks (kinds, names, arguments)."""
    result: list[Any] = []
    for item in items:
        if isinstance(item, Block):
            result.append({"block": item.KIND, "name": item.name, "branches": [describe(b) for b in item.branches()]})
        else:
            result.append({"layer": item.KIND, "name": item.name, **item.arguments()})
    return result


def _walk_items(items: Sequence[Any]) -> Iterator[Any]:
    for item in items:
        yield item
        if isinstance(item, Block):
            for branch in item.branches():
                yield from _walk_items(branch)
