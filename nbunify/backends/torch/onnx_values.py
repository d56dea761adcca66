"""The ONNX values a torch model from the importer holds at run time: recorded at import, read for per-node parity."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import fx

from nbunify.backends.torch.onnx_import import Builder, ShapeValue, _shape_tensor


def held_values(builder: Builder, module: fx.GraphModule, items: dict[str, tuple[str, int]]
                 ) -> dict[str, tuple[Any, Any]]:
    """ONNX value name -> (source, numpy dtype) for every value ``module`` computes at run time.

    The source is an fx node's name; ("item", node name, index) for an item of a multi-output node that the
    model itself never reads (dead-code elimination removed the pick, not the call); or ("shape", items, scalar,
    torch dtype) for a shape chain whose items are ints or fx node names. Values folded at import, or whose
    nodes were removed as dead code, are not held.
    """
    alive = {node.name for node in module.graph.nodes}
    held: dict[str, tuple[Any, Any]] = {}
    for name, value in builder.values.items():
        if isinstance(value, fx.Node) and value.name in alive:
            source: Any = value.name
        elif isinstance(value, fx.Node) and items.get(value.name, ("",))[0] in alive:
            source = ("item", *items[value.name])
        elif isinstance(value, ShapeValue):
            parts = [item.name if isinstance(item, fx.Node) else item for item in value.items]
            if not all(isinstance(part, int) or part in alive for part in parts):
                continue
            source = ("shape", parts, value.scalar, value.dtype)
        else:
            continue
        held[name] = (source, builder.dtype(name))
    return held


class Recorder(fx.Interpreter):
    """Runs a GraphModule node by node, keeping a copy of the results of the fx nodes named in ``wanted``."""

    def __init__(self, module: fx.GraphModule, wanted: set[str]) -> None:
        super().__init__(module)
        self.wanted = wanted
        self.seen: dict[str, Any] = {}

    def run_node(self, node: fx.Node) -> Any:
        result = super().run_node(node)
        if node.name in self.wanted:  # a copy: a later in-place op must not change what was recorded
            self.seen[node.name] = result.detach().clone() if isinstance(result, torch.Tensor) else result
        return result


def intermediates(native: fx.GraphModule, inputs: list[np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The values of the ONNX graph values ``names`` (node outputs) as the imported model ``native`` computes
    them on ``inputs`` (graph-input order), as numpy arrays in the ONNX graph's own layout and dtype (eval
    mode, no gradients, train flags restored). Names the model does not hold at run time (folded at import,
    fused into a neighbour, internal to a converter) are left out of the result.

    The model runs once through a torch.fx.Interpreter that copies the wanted nodes' results; the mapping it reads
    was recorded at import (``native._nbunify_values``), so normal calls are not touched.
    """
    held = getattr(native, "_nbunify_values", {})
    wanted = {name: held[name] for name in names if name in held}
    nodes = set()
    for source, _ in wanted.values():
        if isinstance(source, str):
            nodes.add(source)
        elif source[0] == "item":
            nodes.add(source[1])
        else:
            nodes.update(part for part in source[1] if isinstance(part, str))
    recorder = Recorder(native, nodes)
    modes = [(module, module.training) for module in native.modules()]
    native.eval()
    try:
        with torch.inference_mode():
            recorder.run(*inputs)
    finally:
        for module, training in modes:
            module.training = training
    found = {}
    for name, (source, dtype) in wanted.items():
        if isinstance(source, str):
            value = recorder.seen.get(source)
        elif source[0] == "item":
            value = recorder.seen[source[1]][source[2]] if source[1] in recorder.seen else None
        elif all(isinstance(part, int) or part in recorder.seen for part in source[1]):
            _, parts, scalar, kind = source
            value = _shape_tensor([part if isinstance(part, int) else int(recorder.seen[part]) for part in parts],
                                  scalar, kind)
        else:
            value = None
        if isinstance(value, (int, float, bool)):
            value = np.asarray(value)
        elif isinstance(value, torch.Tensor):
            value = value.cpu().numpy()
        else:
            continue  # not a tensor (a converter's internal tuple ...)
        found[name] = value.astype(dtype) if dtype is not None and value.dtype != dtype else value
    return found
