"""Graph rewrites before conversion: identities become aliases, a Conv's bias Add folds into the Conv."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from nbunify.convert.onnx_graph import Node, OnnxGraph


def resolve(aliases: dict[str, str], name: str) -> str:
    while name in aliases:
        name = aliases[name]
    return name


def _inference_identity(node: Node, graph: OnnxGraph) -> bool:
    """Identity, and a Dropout at inference that gives no mask, pass their input through unchanged."""
    if node.op_type == "Identity" and node.domain == "":
        return True
    if node.op_type != "Dropout" or any(node.outputs[1:]):
        return False
    training = node.input(2)
    return not training or (graph.is_static(training) and not bool(np.asarray(graph.value(training)).any()))


def _channel_bias(graph: OnnxGraph, conv: Node, name: str) -> bool:
    """``name`` is a static float per-output-channel vector (shaped (C,), (C, 1, ..) or (1, C, 1, ..)) of ``conv``."""
    weight = graph.shape(conv.input(1))
    if not graph.is_static(name) or weight is None or weight[0] is None:
        return False
    value, rank = graph.static[name], len(weight) - 2
    if value.dtype != np.float32 or graph.dtype(conv.input(0)) not in (None, np.float32):
        return False
    shape = list(value.shape)
    if len(shape) == rank + 2 and shape[0] == 1:
        shape = shape[1:]
    return len(shape) <= rank + 1 and shape[:1] == [weight[0]] and all(size == 1 for size in shape[1:])


def simplified(graph: OnnxGraph) -> tuple[list[Node], dict[str, str]]:
    """The nodes to convert, and aliases (name -> the name holding its value).

    Identities (and inference Dropouts) become aliases, and an Add of a per-channel constant right after a
    bias-less Conv (what exporters write for a convolution's bias) becomes that Conv's bias: fewer steps per call,
    the same numbers, and the bias stays a trainable parameter.
    """
    aliases: dict[str, str] = {}
    kept = []
    for node in graph.nodes:
        node = replace(node, inputs=[resolve(aliases, name) for name in node.inputs])
        if _inference_identity(node, graph) and node.inputs and node.inputs[0]:
            aliases[node.outputs[0]] = node.inputs[0]
        else:
            kept.append(node)
    outputs = {resolve(aliases, value.name) for value in graph.outputs}
    uses = Counter(name for node in kept for name in node.inputs)
    producers = {node.outputs[0]: index for index, node in enumerate(kept) if node.op_type == "Conv"
                 and not node.input(2) and node.domain == ""}
    fused: set[int] = set()
    for index, node in enumerate(kept):
        if node.op_type != "Add" or node.domain != "" or len(node.inputs) != 2:
            continue
        for position in (0, 1):
            source, other = node.inputs[position], node.inputs[1 - position]
            producer = producers.get(source)
            if producer is None or uses[source] != 1 or source in outputs or not _channel_bias(graph, kept[producer],
                                                                                                 other):
                continue
            conv = kept[producer]
            kept[producer] = replace(conv, inputs=[conv.inputs[0], conv.inputs[1], other], outputs=list(node.outputs))
            fused.add(index)
            break
    return [node for index, node in enumerate(kept) if index not in fused], aliases
