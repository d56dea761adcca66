"""ONNX -> paddle: an OnnxGraph becomes a trainable paddle.nn.Layer that runs converter closures in graph order."""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops import REGISTRY  # importing onnx_ops registers every converter
from nbunify.backends.paddle.onnx_ops.common import to_tensor
from nbunify.backends.paddle.onnx_ops.host import HostPlanner
from nbunify.backends.paddle.onnx_ops.rewrite import resolve, simplified
from nbunify.convert.onnx_graph import Node, OnnxGraph

#: ONNX dtypes paddle has no tensor type for; run() gives them back from the signed type they are computed in.
_UNSIGNED = ("uint16", "uint32", "uint64")

__all__ = ["REGISTRY", "import_graph", "run", "hazards", "OnnxLayer", "Context"]


class Context:
    """What a converter sees of the graph while it prepares one node.

    ``value(name)`` reads a static input at import time (a shape, axes, pads ...): that input is then not passed
    to the node's callable at run time (its slot is None) unless the converter also calls ``keep(name)``.
    """

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.opset = graph.opset
        self._read: set[str] = set()
        self._kept: set[str] = set()
        self.frozen_names: set[str] = set()

    def start(self, node: Node) -> None:
        self._read, self._kept = set(), set()

    def value(self, name: str) -> np.ndarray:
        self._read.add(name)
        return self.graph.value(name)

    def keep(self, name: str) -> None:
        self._kept.add(name)

    def frozen(self, name: str) -> None:
        """Make a static float input a buffer, not a trainable parameter (BatchNormalization's running stats)."""
        self.frozen_names.add(name)

    def is_static(self, name: str) -> bool:
        return bool(name) and self.graph.is_static(name)

    def shape(self, name: str) -> tuple | None:
        return self.graph.shape(name)

    def dtype(self, name: str) -> Any:
        return self.graph.dtype(name)

    def runtime_inputs(self, node: Node) -> tuple[str, ...]:
        """The node's input names as its callable gets them: "" for absent inputs and ones read at import."""
        consumed = self._read - self._kept
        return tuple("" if not name or name in consumed else name for name in node.inputs)


class OnnxLayer(paddle.nn.Layer):
    """A paddle Layer computing an ONNX graph: float initializers are parameters, other static tensors buffers.

    Called with the graph inputs positionally (numpy arrays or paddle tensors); returns the graph outputs in
    order, one as a tensor, several as a tuple.
    """

    def __init__(self, graph: OnnxGraph) -> None:
        super().__init__()
        nodes, aliases = simplified(graph)
        self.input_names = [value.name for value in graph.inputs]
        self.output_names = [resolve(aliases, value.name) for value in graph.outputs]
        self.output_dtypes = [value.dtype for value in graph.outputs]
        self._steps: list[tuple[Callable, tuple[str, ...], tuple[str, ...], str]] = []
        self._statics: list[tuple[str, Any]] = []
        context = Context(graph)
        needed: set[str] = set()
        planner = HostPlanner(graph)
        planned = []
        for node in nodes:
            twin = planner.twin(node)
            if twin is not None:
                planned.append(twin)
                continue
            context.start(node)
            converter = REGISTRY.lookup(node.op_type, graph.opsets.get(node.domain, 0), node.domain)
            if converter is None:
                raise NotImplementedError(f"paddle: no converter for {node.op_type} at opset {graph.opset}")
            try:
                function = converter(node, context)
            except Exception as error:
                raise type(error)(f"paddle: cannot convert {node.op_type} node {node.name or node.outputs[0]!r}: "
                                  f"{error}") from error
            inputs = planner.device_inputs(node, context.runtime_inputs(node))
            needed.update(name for name in inputs if name)
            planned.append((function, inputs, tuple(node.outputs), node.name or node.outputs[0]))
        self.output_names = [planner.device_name(name) for name in self.output_names]
        self._steps = planner.with_copies(planned)
        self._statics.extend(planner.statics.items())
        needed.update(self.output_names)
        self._materialize(graph, sorted(name for name in needed if graph.is_static(name)), context.frozen_names)

    def _materialize(self, graph: OnnxGraph, names: list[str], frozen: set[str]) -> None:
        """Float initializers become trainable parameters, every other static tensor a buffer."""
        used: set[str] = set()
        for name in names:
            value = graph.static[name]
            attribute = re.sub(r"\W", "_", name) or "value"
            if attribute[0].isdigit():
                attribute = "v_" + attribute
            while attribute in used:
                attribute += "_"
            used.add(attribute)
            trainable = name in graph.initializer_names and name not in frozen
            if trainable and value.dtype in (np.float16, np.float32, np.float64):
                parameter = self.create_parameter(list(value.shape), dtype=value.dtype.name,
                                                  default_initializer=paddle.nn.initializer.Assign(value))
                self.add_parameter(attribute, parameter)
                self._statics.append((name, parameter))
            else:
                tensor = to_tensor(value)
                self.register_buffer(attribute, tensor, persistable=True)
                self._statics.append((name, tensor))

    def forward(self, *inputs: Any) -> Any:
        if len(inputs) != len(self.input_names):
            raise TypeError(f"this model takes {len(self.input_names)} input(s) ({', '.join(self.input_names)}), "
                            f"got {len(inputs)}")
        environment: dict[str, Any] = {"": None}
        environment.update(self._statics)
        for name, value in zip(self.input_names, inputs):
            environment[name] = value if isinstance(value, paddle.Tensor) else to_tensor(np.asarray(value))
        step = None
        try:
            for step in self._steps:
                result = step[0](*[environment[name] for name in step[1]])
                if isinstance(result, (tuple, list)):
                    environment.update(zip(step[2], result))
                else:
                    environment[step[2][0]] = result
        except Exception as error:
            raise RuntimeError(f"paddle: ONNX node {step[3]!r} failed: {type(error).__name__}: {error}") from error
        outputs = tuple(environment[name] for name in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs


def import_graph(graph: OnnxGraph) -> OnnxLayer:
    """A paddle.nn.Layer computing ``graph`` (every node must have a converter: the pre-flight checks that)."""
    return OnnxLayer(graph)


def run(native: OnnxLayer, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The graph outputs as numpy arrays (eval mode, no gradients), with the graph's dtypes."""
    flags = [(layer, layer.training) for layer in (native, *native.sublayers())]
    tracer = paddle.base.framework._dygraph_tracer()  # eval() also flips this process-wide dygraph flag
    tracer_training = getattr(tracer, "_train_mode", None)
    native.eval()
    try:
        with paddle.no_grad():
            outputs = native(*[to_tensor(np.asarray(value)) for value in inputs])
    finally:
        for layer, training in flags:
            layer.training = training
        if tracer_training is not None:
            tracer._train_mode = tracer_training
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    arrays = []
    for output, dtype in zip(outputs, getattr(native, "output_dtypes", [None] * len(outputs))):
        array = np.asarray(output.numpy())
        if dtype is not None and np.dtype(dtype).name in _UNSIGNED and array.dtype != dtype:
            array = array.astype(dtype)  # paddle has no uint16/32/64 tensors: computed in a signed type
        arrays.append(array)
    return arrays


def hazards(graph: OnnxGraph) -> list[str]:
    """What the converters cannot do, found before converting: complex values, and node settings paddle lacks."""
    problems = []
    for value in (*graph.inputs, *graph.outputs):
        if value.dtype is not None and np.dtype(value.dtype).kind == "c":
            problems.append(f"graph value {value.name!r} is complex ({value.dtype}); the paddle importer takes real "
                            "tensors only")
    for node in graph.nodes:
        name = node.name or node.outputs[0]
        if node.op_type == "GridSample" and node.attrs.get("mode") in ("cubic", "bicubic"):
            problems.append(f"GridSample node {name!r} samples bicubically; paddle's grid_sample has bilinear and "
                            "nearest only")
        if node.op_type == "BatchNormalization" and node.attrs.get("training_mode"):
            problems.append(f"BatchNormalization node {name!r} has training_mode=1 (it outputs running statistics); "
                            "import the inference graph and train it with nu.fit")
    return problems
