"""The graph message of a spec (nu.Sequential): one node per layer, an add/concat node per block, no framework."""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from nbunify.display import MESSAGE_VERSION
from nbunify.graph import category
from nbunify.spec.model import Block, Residual, Sequential

#: The value name of the spec's input (as nu.to_onnx names it).
INPUT = "input"


def spec_message(spec: Sequential, title: str = "") -> dict[str, Any]:
    """Nodes in execution order; shapes carry a symbolic batch "N"; parameters are "<layer>.<name>" values."""
    builder = _Builder(spec)
    output = builder.walk(spec.layers, INPUT, ())
    parameters = [value for value in builder.values.values() if value["parameter"]]
    return {"version": MESSAGE_VERSION, "title": title or f"{spec.name} (spec)", "source": "spec", "framework": "spec",
            "inputs": [INPUT], "outputs": [output], "values": builder.values, "nodes": builder.nodes,
            "parameter_count": sum(value["count"] for value in parameters), "parity": None}


class _Builder:
    def __init__(self, spec: Sequential) -> None:
        self.steps = {step.layer.name: step for step in spec.steps}
        self.values: dict[str, dict[str, Any]] = {INPUT: _value(spec.input_shape, spec.input_dtype)}
        self.nodes: list[dict[str, Any]] = []

    def walk(self, items: Sequence[Any], x: str, path: tuple[str, ...]) -> str:
        """Add the nodes of ``items`` applied to value ``x``; return the value they produce."""
        for item in items:
            if isinstance(item, Block):
                inner = (*path, item.name)
                branches = [self.walk(branch, x, inner) for branch in item.branches()]
                op = "add" if isinstance(item, Residual) else "concat"
                x = self.node(op, item.name, inner, {}, [("inputs", branches)], item.output_shape, "float32", {})
            else:
                step = self.steps[item.name]
                parameters = item.parameters(step.input_shape)
                arguments = [("X", [x])] + [(key, [f"{item.name}.{key}"]) for key in parameters]
                for key, parameter in parameters.items():
                    self.values[f"{item.name}.{key}"] = {"dtype": "float32", "shape": list(parameter.shape),
                                                         "parameter": True, "count": int(np.prod(parameter.shape))}
                op = getattr(item, "function", None) if item.KIND == "activation" else item.KIND
                dtype = "float32" if item.KIND == "embedding" or self.values[x]["dtype"] == "float32" else "int64"
                x = self.node(op or item.KIND, item.name, path, _attributes(item), arguments, step.output_shape,
                              dtype, parameters)
        return x

    def node(self, op: str, name: str, scope: Sequence[str], attributes: dict[str, Any],
             arguments: list[tuple[str, list[str]]], shape: Sequence[int], dtype: str, parameters: dict) -> str:
        self.values[name] = _value(shape, dtype)
        self.nodes.append({
            "id": f"n{len(self.nodes)}", "name": name, "op": op, "domain": "",
            "category": category(op),
            "scope": list(scope), "attributes": attributes,
            "inputs": [{"name": formal, "values": list(values)} for formal, values in arguments],
            "outputs": [{"name": "Y", "values": [name]}],
            "parameter_count": sum(int(np.prod(parameter.shape)) for parameter in parameters.values()),
            "parity": None,
        })
        return name


def _value(shape: Sequence[int], dtype: str) -> dict[str, Any]:
    return {"dtype": dtype, "shape": ["N", *shape], "parameter": False, "count": 0}


def _attributes(layer: Any) -> dict[str, Any]:
    attributes = {}
    for field in dataclasses.fields(layer):
        if field.name == "name":
            continue
        value = getattr(layer, field.name)
        if isinstance(value, tuple):
            value = list(value)
        attributes[field.name] = value if isinstance(value, (int, float, str, bool, list, type(None))) else str(value)
    return attributes
