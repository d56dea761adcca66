"""Pre-flight: every unsupported (op, opset) and known hazard of importing a model into a framework, all at once."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from nbunify.convert.onnx_graph import OnnxGraph

#: Value kinds no importer takes: ONNX sequences, optionals, maps and sparse tensors.
_UNSUPPORTED_KINDS = {"sequence_type": "a sequence", "optional_type": "an optional", "map_type": "a map",
                      "sparse_tensor_type": "a sparse tensor"}
TRAINING_DOMAIN = "ai.onnx.preview.training"


@dataclass
class Preflight:
    """What stands between a model and a native import: ``unsupported`` ops and ``hazards``; ``ok`` when none."""

    framework: str
    opset: int
    unsupported: list[tuple[str, str, int, int, str]] = field(default_factory=list)  # domain, op, opset, count, node
    hazards: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unsupported and not self.hazards

    @property
    def problems(self) -> list[str]:
        ops = [f"{(domain + '.') if domain else ''}{op} (opset {opset}): no {self.framework} converter "
               f"({count} node(s), e.g. {node!r})" for domain, op, opset, count, node in self.unsupported]
        return ops + self.hazards

    def __str__(self) -> str:
        head = f"pre-flight for {self.framework} (opset {self.opset}): " + (
            "ready to import" if self.ok else f"{len(self.problems)} problem(s)")
        lines = [head, *(f"  - {problem}" for problem in self.problems), *(f"  note: {note}" for note in self.notes)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Preflight {self.framework}: {'ok' if self.ok else f'{len(self.problems)} problem(s)'}>"

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(problem)}</li>" for problem in self.problems)
        notes = "".join(f"<li><i>{html.escape(note)}</i></li>" for note in self.notes)
        status = "ready to import" if self.ok else f"{len(self.problems)} problem(s)"
        return (f"<div><b>pre-flight for {html.escape(self.framework)}</b> (opset {self.opset}): {status}"
                f"<ul>{items}{notes}</ul></div>")


def check_graph(graph: OnnxGraph, framework: str, importer: Any) -> Preflight:
    """The pre-flight of a loaded graph against ``importer`` (a backend's onnx_import module)."""
    report = Preflight(framework, graph.opset)
    counts: dict[tuple[str, str, int], list[Any]] = {}
    for node in graph.nodes:
        opset = graph.opsets.get(node.domain, 0)
        if importer.REGISTRY.lookup(node.op_type, opset, node.domain) is None:
            counts.setdefault((node.domain, node.op_type, opset), []).append(node.name or node.outputs[0])
    report.unsupported = [(domain, op, opset, len(names), names[0]) for (domain, op, opset), names in counts.items()]
    report.hazards = neutral_hazards(graph) + list(getattr(importer, "hazards", lambda graph: [])(graph))
    upgraded = next((entry.value for entry in graph.proto.metadata_props if entry.key == "nbunify.upgraded_from_opset"),
                    None)
    if upgraded:
        report.notes.append(f"the model was written with opset {upgraded} and upgraded to {graph.opset} by onnx's "
                            "version converter")
    return report


def neutral_hazards(graph: OnnxGraph) -> list[str]:
    """Hazards for every framework: non-tensor graph values, string tensors, training ops."""
    hazards = []
    proto = graph.proto.graph
    for kind_name, infos in (("input", proto.input), ("output", proto.output)):
        for info in infos:
            kind = info.type.WhichOneof("value")
            if kind in _UNSUPPORTED_KINDS:
                hazards.append(f"graph {kind_name} {info.name!r} is {_UNSUPPORTED_KINDS[kind]}; importers take tensors only")
            elif kind == "tensor_type" and info.type.tensor_type.elem_type == 8:  # onnx.TensorProto.STRING
                hazards.append(f"graph {kind_name} {info.name!r} holds strings; importers take numeric tensors only")
    training = sorted({node.op_type for node in graph.nodes if node.domain == TRAINING_DOMAIN})
    if training:
        hazards.append(f"training ops ({', '.join(training)}) are the ONNX runtime's optimizers, not model layers; "
                       "train the imported model with nu.fit instead")
    return hazards
