"""Spec -> the keras layer calls that compute it, without importing keras: build.py runs them, codegen.py writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

import numpy as np

from nbunify.backends.keras.layout import KerasLayout, flatten_permutation, is_map, keras_shape, same_order
from nbunify.spec import Concat, Residual, Sequential, SpecError
from nbunify.spec import layers as L
from nbunify.spec.layers import Shape, feature_axis

#: Variable names generated code uses for itself; branch variables avoid them.
RESERVED = {"keras", "layers", "inputs", "outputs", "x", "model", "batch"}


@dataclass(frozen=True)
class Make:
    """``layers.<cls>(*args, **options, name=name)``; ``custom``: nbunify's own class from layers.py.

    ``options`` are (keyword, value, keras default): build.py passes them all, generated code omits defaults.
    An argument may itself be a Make (the layer a Bidirectional wraps).
    """

    cls: str
    args: tuple[Any, ...] = ()
    options: tuple[tuple[str, Any, Any], ...] = ()
    name: str | None = None
    custom: bool = False


@dataclass(frozen=True)
class Statement:
    """``target = make(*inputs)`` (``make([inputs])`` when ``as_list``), or ``target = inputs[0]`` when make is None.

    ``note`` is a comment generated code writes above the statement; ``in_code=False`` marks a layer only
    the built model has (a keras Identity standing for a spec layer that moves no data in keras).
    """

    target: str
    make: Make | None
    inputs: tuple[str, ...]
    as_list: bool = False
    note: str | None = None
    in_code: bool = True


class Flow(NamedTuple):
    """A tensor variable, its canonical shape and layout, and for a vector its feature order in keras.

    ``permutation[k]`` is the canonical feature at keras position k (None: canonical order);
    ``unflattened`` is the canonical map shape a vector is the keras Flatten of, while that holds.
    """

    variable: str
    shape: Shape
    layout: str
    permutation: np.ndarray | None = None
    unflattened: Shape | None = None


@dataclass
class Program:
    """Every keras layer call of a spec, in order, from the variable ``inputs`` to ``output.variable``."""

    statements: list[Statement]
    input_shape: Shape  # per sample, in keras's layout
    input_dtype: str
    output: Flow
    layout: KerasLayout = field(default_factory=KerasLayout)

    def custom_classes(self) -> list[str]:
        """nbunify's own layer classes the program uses (generated code must define them)."""
        return sorted({s.make.cls for s in self.statements if s.make is not None and s.make.custom})


def plan(spec: Sequential) -> Program:
    """The keras layer calls computing ``spec``; raises SpecError for what keras cannot express."""
    from nbunify.backends.keras.plan_layers import plan_layer

    planner = _Planner(spec, plan_layer)
    output = planner.run(spec.layers, Flow("inputs", spec.input_shape, spec.input_layout), "x")
    layout = KerasLayout(planner.permutations, output.permutation)
    return Program(planner.statements, keras_shape(spec.input_shape, spec.input_layout), spec.input_dtype, output, layout)


def identity_to_none(permutation: np.ndarray | None) -> np.ndarray | None:
    """None for a permutation that keeps the order (a flattened single-channel map, say)."""
    return None if permutation is None or np.array_equal(permutation, np.arange(len(permutation))) else permutation


def flattened(flow: Flow, shape: Shape) -> tuple[np.ndarray | None, Shape | None]:
    """(permutation, unflattened) of the keras Flatten of ``flow``."""
    if is_map(flow.layout):
        permutation = identity_to_none(flatten_permutation(flow.shape))
        return permutation, flow.shape if permutation is not None else None
    if flow.layout == "vector":
        return flow.permutation, flow.unflattened
    return None, None


class _Planner:
    """Walks the spec's layers and blocks, appending one Statement per keras layer call."""

    def __init__(self, spec: Sequential, plan_layer: Any) -> None:
        self.steps = {step.layer.name: step for step in spec.steps}
        self.statements: list[Statement] = []
        self.live = set(RESERVED)
        self.permutations: dict[str, np.ndarray] = {}
        self._plan_layer = plan_layer

    def run(self, items: Sequence[Any], flow: Flow, target: str) -> Flow:
        for item in items:
            if isinstance(item, Residual):
                flow = self._residual(item, flow, target)
            elif isinstance(item, Concat):
                flow = self._concat(item, flow, target)
            else:
                flow = self._plan_layer(self, item, flow, self.steps[item.name], target)
        return flow

    def emit(self, make: Make, source: str | Sequence[str], target: str, as_list: bool = False,
             note: str | None = None, in_code: bool = True) -> str:
        """Append ``target = make(source)``; returns ``target``."""
        inputs = (source,) if isinstance(source, str) else tuple(source)
        self.statements.append(Statement(target, make, inputs, as_list, note, in_code))
        return target

    def permute_rows(self, layer: L.Layer, flow: Flow) -> None:
        """Record that ``layer``'s per-feature parameters follow ``flow``'s keras feature order."""
        if flow.permutation is not None:
            self.permutations[layer.name] = flow.permutation

    def _allocate(self, base: str) -> str:
        variable, number = base, 2
        while variable in self.live:
            variable, number = f"{base}_{number}", number + 1
        self.live.add(variable)
        return variable

    # -- blocks ------------------------------------------------------------------------------
    def _residual(self, block: Residual, flow: Flow, target: str) -> Flow:
        variable = self._allocate("shortcut")
        shortcut_input = flow
        if flow.variable == target and block.layers:  # the body overwrites the block input
            self.statements.append(Statement(variable, None, (flow.variable,)))
            shortcut_input = flow._replace(variable=variable)
        body = self.run(block.layers, flow, target)
        shortcut = self.run(block.shortcut, shortcut_input, variable)
        if not same_order(body.permutation, shortcut.permutation):
            raise SpecError(f"keras cannot build block {block.name!r} (residual): its branches order their features "
                            "differently (one flattens a channels-last map); add a Dense after the Flatten in each branch")
        self.emit(Make("Add", name=block.name), (body.variable, shortcut.variable), target, as_list=True)
        self.live.discard(variable)
        return body._replace(variable=target)

    def _concat(self, block: Concat, flow: Flow, target: str) -> Flow:
        outputs, variables = [], []
        for number, branch in enumerate(block.branches(), 1):
            variables += [self._allocate(f"branch_{number}")] if branch else []
            outputs.append(self.run(branch, flow, variables[-1]) if branch else flow)
        first = outputs[0]
        axis = feature_axis(first.layout) % len(first.shape)  # keras's feature axis is always the last one
        shape = list(first.shape)
        shape[axis] = sum(out.shape[axis] for out in outputs)
        permutation = None
        if any(out.permutation is not None for out in outputs):
            offsets = np.cumsum([0] + [out.shape[0] for out in outputs[:-1]])
            permutation = np.concatenate([(out.permutation if out.permutation is not None else np.arange(out.shape[0]))
                                          + offset for out, offset in zip(outputs, offsets)])
        make = Make("Concatenate", options=(("axis", -1, -1),), name=block.name)
        self.emit(make, [out.variable for out in outputs], target, as_list=True)
        self.live.difference_update(variables)
        return Flow(target, tuple(shape), first.layout, permutation)
