"""Control-flow ONNX ops: If (the branch a static condition picks, or both branches and a runtime choice)."""

from __future__ import annotations

import operator

import torch
from onnx import numpy_helper

from nbunify.backends.torch.onnx_import import REGISTRY, Builder, python_name
from nbunify.convert.onnx_graph import Node


def _inline(builder: Builder, branch) -> list:
    """Converts a branch subgraph into the builder's graph (it reads the outer values by name); its outputs."""
    from nbunify.convert.onnx_graph import node_view  # the graph view's own attribute decoding

    for tensor in branch.initializer:
        builder.folded[tensor.name] = numpy_helper.to_array(tensor)
    for proto in branch.node:
        node = node_view(proto, builder.graph.opsets)
        if node.op_type == "Constant":  # constants stay static, so shape arithmetic on them folds too
            name, value = next(iter(node.attrs.items()))
            builder.folded[node.outputs[0]] = (numpy_helper.to_array(value) if hasattr(value, "data_type")
                                               else _constant(name, value))
            continue
        converter = REGISTRY.lookup(node.op_type, builder.graph.opsets.get(node.domain, 0), node.domain)
        if converter is None:
            raise NotImplementedError(f"no torch converter for {node.op_type} inside an If branch")
        results = converter(builder, node)
        for output, result in zip(node.outputs, results if isinstance(results, (list, tuple)) else [results]):
            if output:
                builder.values[output] = result
    return [builder.tensor(output.name) for output in branch.output]


def _constant(kind: str, value):
    import numpy as np

    dtypes = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64, "value_ints": np.int64}
    if kind not in dtypes:
        raise NotImplementedError(f"Constant with {kind}")
    return np.asarray(value, dtypes[kind])


class IfModule(torch.nn.Module):
    """ONNX's If with a runtime condition: each branch is a GraphModule of its own over the outer values it reads."""

    def __init__(self, then_branch: torch.fx.GraphModule, else_branch: torch.fx.GraphModule) -> None:
        super().__init__()
        self.then_branch, self.else_branch = then_branch, else_branch

    def forward(self, condition, *outer):
        return (self.then_branch if bool(condition) else self.else_branch)(*outer)


def _outer_names(branch, inner: set[str]) -> list[str]:
    """Names a branch (and the branches nested in it) reads from the enclosing graph, in first-use order."""
    found: dict[str, None] = {}
    inner = inner | {tensor.name for tensor in branch.initializer}
    for proto in branch.node:
        for name in proto.input:
            if name and name not in inner:
                found[name] = None
        for attribute in proto.attribute:
            if attribute.type == attribute.GRAPH:
                found.update(dict.fromkeys(_outer_names(attribute.g, inner)))
        inner |= set(proto.output)
    return list(found)


def _branch_module(builder: Builder, branch, outer: list[str]) -> torch.fx.GraphModule:
    sub = Builder(builder.graph)
    sub.root, sub._names, sub.folded, sub.dims = builder.root, builder._names, builder.folded, builder.dims
    for name in outer:
        if not builder.is_static(name):
            sub.values[name] = sub.fx.placeholder(python_name(name, set()) + f"_{len(sub.values)}")
    outputs = _inline(sub, branch)
    sub.fx.output(tuple(outputs))
    module = torch.fx.GraphModule(builder.root, sub.fx, class_name="OnnxBranch")
    if module.graph.eliminate_dead_code():
        module = torch.fx.GraphModule(module, module.graph, class_name="OnnxBranch")
    return module


@REGISTRY.register("If", 11, 13, 16, 19, 21)
def if_(builder: Builder, node: Node):
    condition = node.inputs[0]
    if builder.is_static(condition):
        return _inline(builder, node.attrs["then_branch" if bool(builder.value(condition)) else "else_branch"])
    # fx graphs have no branches: each ONNX branch becomes a GraphModule, run only when the condition picks it.
    branches = [node.attrs["then_branch"], node.attrs["else_branch"]]
    outer = list(dict.fromkeys(name for branch in branches for name in _outer_names(branch, set())
                               if not builder.is_static(name)))
    module = IfModule(*(_branch_module(builder, branch, outer) for branch in branches))
    name = python_name(f"if_{node.name or node.outputs[0]}", builder._names)
    builder.root.add_module(name, module)
    result = builder.fx.call_module(name, (builder.tensor(condition), *(builder.tensor(value) for value in outer)))
    return [builder.call(operator.getitem, result, index) for index in range(len(node.outputs))]
