"""Model specs: a Sequential of layers and blocks (residual add, concat), with names, shapes and initial weights."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from nbunify.spec.errors import SpecError, shape_text
from nbunify.spec.layers import Layer, Parameter, Shape


class Block:
    """A non-sequential piece of a graph; subclasses say how their branches combine."""

    KIND = "block"
    name: str | None

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
    """Concatenate the outputs of parallel branches along the channel axis (an empty branch is x itself)."""

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


class Sequential:
    """A model spec: layers and blocks applied in order to a channels-first input of ``input_shape``.

    Shapes are inferred at definition time; a mistake raises SpecError naming the layer and shapes.
    Every layer gets a unique name (``conv2d_1``, ``dense_2`` ...) unless given one.
    """

    def __init__(self, layers: Sequence[Any], input_shape: Sequence[int], name: str = "model") -> None:
        if not layers:
            raise SpecError("the spec has no layers: give at least one, e.g. nu.layers.Dense(10)")
        shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
        if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in shape):
            raise SpecError(f"input_shape must be positive integers per sample, e.g. (1, 28, 28); got {input_shape!r}")
        self.name = name
        self.layers = list(layers)
        self.input_shape: Shape = shape
        self._assign_names()
        self.steps: list[Step] = []
        self.output_shape = self._infer(self.layers, shape, ())

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

    def _infer(self, items: Sequence[Any], shape: Shape, path: tuple[str, ...]) -> Shape:
        for item in items:
            if isinstance(item, Block):
                shape = self._infer_block(item, shape, path)
                continue
            output = item.output_shape(shape)
            self.steps.append(Step(item, shape, output, path))
            shape = output
        return shape

    def _infer_block(self, block: Block, shape: Shape, path: tuple[str, ...]) -> Shape:
        inner = (*path, block.name)
        outputs = [self._infer(branch, shape, inner) for branch in block.branches()]
        if isinstance(block, Residual):
            main, shortcut = outputs
            if main != shortcut:
                raise block.fail(f"its layers turn {shape_text(shape)} into {shape_text(main)}, which cannot be added "
                                 f"to the shortcut's {shape_text(shortcut)}; give `shortcut` layers that produce {shape_text(main)}")
            return main
        if any(len(out) != len(outputs[0]) or out[1:] != outputs[0][1:] for out in outputs):
            raise block.fail("branches must agree on every axis but channels, got "
                             + ", ".join(shape_text(out) for out in outputs))
        return (sum(out[0] for out in outputs), *outputs[0][1:])

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
        """A short hash of the architecture (layers, arguments, input shape), for run records."""
        text = json.dumps(describe(self.layers) + [list(self.input_shape)], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        lines = [f"Sequential {self.name!r}: input {shape_text(self.input_shape)} -> output {shape_text(self.output_shape)}"]
        for step in self.steps:
            indent = "  " * (len(step.path) + 1)
            lines.append(f"{indent}{step.layer.name:<18} {step.layer.KIND:<16} -> {shape_text(step.output_shape)}")
        return "\n".join(lines)


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
