"""ONNX -> paddle: an OnnxGraph becomes a trainable paddle.nn.Layer that runs converter closures in graph order."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops import REGISTRY  # importing onnx_ops registers every converter
from nbunify.backends.paddle.onnx_ops.common import to_tensor
from nbunify.backends.paddle.onnx_ops.host import HostPlanner
from nbunify.backends.paddle.onnx_ops.rewrite import resolve, simplified
from nbunify.convert.onnx_graph import Node, OnnxGraph

#: ONNX dtypes paddle has no tensor type for; run() gives them back from the signed type they are computed in.
_UNSIGNED = ("uint16", "uint32", "uint64")

#: The environment key of node outputs the graph leaves unnamed (optional outputs nobody reads); "" stays None.
_ABSENT = "#absent"

#: How many input-shape combinations an OnnxLayer keeps the host values of.
_HOST_CACHE_SIZE = 16

__all__ = ["REGISTRY", "import_graph", "run", "intermediates", "hazards", "OnnxLayer", "Context"]


class Context:
    """What a converter sees of the graph while it prepares one node.

    ``value(name)`` reads a static input at import time (a shape, axes, pads ...): that input is then not passed
    to the node's callable at run time (its slot is None) unless the converter also calls ``keep(name)``.
    ``prepare(...)`` hands the callable a tensor computed at import instead (a weight laid out for a native kernel).
    """

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.opset = graph.opset
        self._read: set[str] = set()
        self._kept: set[str] = set()
        self._label = ""
        self._extra: list[str] = []
        self.frozen_names: set[str] = set()
        #: environment key -> (value, trainable, attribute name) of every tensor prepare() made
        self.prepared: dict[str, tuple[np.ndarray, bool, str]] = {}
        self._uses = Counter(name for node in graph.nodes for name in node.inputs if name)

    def start(self, node: Node) -> None:
        self._read, self._kept, self._extra = set(), set(), []
        self._label = node.name or node.outputs[0]

    def only_user(self, name: str) -> bool:
        """``name`` is read by one node only (the one being converted) and is not a graph output."""
        return self._uses[name] == 1 and name not in {value.name for value in self.graph.outputs}

    def prepare(self, name: str, value: np.ndarray, sources: Sequence[str]) -> None:
        """Pass the node's callable ``value``, computed at import from the static inputs ``sources`` (read with
        ``value()``), after all of its schema's inputs (absent ones None), in the order of these calls.

        It is a trainable parameter when every source is a float weight the model trains (a re-laid-out weight:
        training updates it, not the source), a buffer otherwise."""
        trainable = (value.dtype.kind == "f" and bool(sources) and all(
            source in self.graph.weight_names and source not in self.frozen_names for source in sources))
        key = f"#prepared:{self._label}:{name}"
        self.prepared[key] = (np.asarray(value, order="C"), trainable, f"{self._label}_{name}")
        self._extra.append(key)

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
        names = tuple("" if not name or name in consumed else name for name in node.inputs)
        if self._extra:  # prepared tensors follow every input the schema declares, the absent ones as None
            import onnx.defs

            schema = onnx.defs.get_schema(node.op_type, self.graph.opsets.get(node.domain, 1), node.domain)
            names += ("",) * (len(schema.inputs) - len(names))
        return names + tuple(self._extra)


class OnnxLayer(paddle.nn.Layer):
    """A paddle Layer computing an ONNX graph: float initializers are parameters, other static tensors buffers.

    Called with the graph inputs positionally (numpy arrays or paddle tensors); returns the graph outputs in
    order, one as a tensor, several as a tuple. ``onnx_values`` maps each ONNX value the layer holds at run time
    to its key in the environment ``forward`` fills (what ``intermediates`` reads).
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
            planner.converted(node, context.runtime_inputs(node))
            inputs = planner.device_inputs(node, context.runtime_inputs(node))
            needed.update(name for name in inputs if name)
            outputs = tuple(name or _ABSENT for name in node.outputs)  # an unnamed output must not fill ""
            planned.append((function, inputs, outputs, node.name or node.outputs[0]))
        self.output_names = [planner.device_name(name) for name in self.output_names]
        self._steps = planner.with_copies(planned)
        self._statics.extend(planner.statics.items())
        needed.update(self.output_names)
        statics = [(name, graph.static[name], name in graph.weight_names and name not in context.frozen_names,
                    name) for name in sorted(name for name in needed if graph.is_static(name))]
        prepared = [(key, value, trainable, label) for key, (value, trainable, label) in context.prepared.items()]
        self._materialize(statics + prepared)
        self.onnx_values, self.onnx_dtypes = _value_map(graph, aliases, self.input_names, self._steps)
        # host values (shape arithmetic) are kept per input shapes when those decide them: later calls of the same
        # shapes run the tensor steps only (copies of host values the caller gets stay per call)
        self._host_names = {name for step in self._steps for name in step[2] if name in planner.values or (
            name.startswith("#tensor:") and name not in self.output_names)}
        self._tensor_steps = [step for step in self._steps if not set(step[2]) & self._host_names]
        self._host_cache: dict[tuple, dict[str, Any]] | None = {} if planner.shapes_decide and self._host_names \
            else None

    def _materialize(self, entries: list[tuple[str, np.ndarray, bool, str]]) -> None:
        """Each (key, value, trainable, label): a trainable float one becomes a parameter, any other a buffer."""
        used: set[str] = set()
        for key, value, trainable, label in entries:
            attribute = re.sub(r"\W", "_", label) or "value"
            if attribute[0].isdigit():
                attribute = "v_" + attribute
            while attribute in used:
                attribute += "_"
            used.add(attribute)
            if trainable and value.dtype in (np.float16, np.float32, np.float64):
                # a constant fill then set_value: initializer.Assign goes through Python lists (seconds per 25M)
                parameter = self.create_parameter(list(value.shape), dtype=value.dtype.name,
                                                  default_initializer=paddle.nn.initializer.Constant(0.0))
                parameter.set_value(np.asarray(value, order="C"))
                self.add_parameter(attribute, parameter)
                self._statics.append((key, parameter))
            else:
                tensor = to_tensor(value)
                self.register_buffer(attribute, tensor, persistable=True)
                self._statics.append((key, tensor))

    def environment(self, *inputs: Any) -> dict[str, Any]:
        """Every value of one run by environment key (graph inputs, node outputs, statics), as forward computes it."""
        if len(inputs) != len(self.input_names):
            raise TypeError(f"this model takes {len(self.input_names)} input(s) ({', '.join(self.input_names)}), "
                            f"got {len(inputs)}")
        environment: dict[str, Any] = {"": None}
        environment.update(self._statics)
        for name, value in zip(self.input_names, inputs):
            environment[name] = value if isinstance(value, paddle.Tensor) else to_tensor(np.asarray(value))
        steps, key, cache = self._steps, None, self._host_cache
        if cache is not None and paddle.in_dynamic_mode():  # not while jit.to_static traces a program
            key = tuple((tuple(environment[name].shape), environment[name].dtype) for name in self.input_names)
            if key in cache:
                environment.update(cache[key])
                steps, key = self._tensor_steps, None
        step = None
        try:
            for step in steps:
                result = step[0](*[environment[name] for name in step[1]])
                if isinstance(result, (tuple, list)):
                    environment.update(zip(step[2], result))
                else:
                    environment[step[2][0]] = result
        except Exception as error:
            raise RuntimeError(f"paddle: ONNX node {step[3]!r} failed: {type(error).__name__}: {error}") from error
        if key is not None:
            if len(cache) >= _HOST_CACHE_SIZE:
                cache.clear()
            cache[key] = {name: environment[name] for name in self._host_names}
        return environment

    def forward(self, *inputs: Any) -> Any:
        environment = self.environment(*inputs)
        outputs = tuple(environment[name] for name in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs


def _value_map(graph: OnnxGraph, aliases: dict[str, str], inputs: list[str],
               steps: list) -> tuple[dict[str, str], dict[str, Any]]:
    """ONNX value name -> environment key, for every node output the steps compute (an Identity's output is its
    input's value); and the graph's dtype of each. Values folded at import or fused away are not in it."""
    computed = set(inputs).union(*(step[2] for step in steps)) - {_ABSENT}
    mapping, dtypes = {}, {}
    for node in graph.nodes:
        for name in node.outputs:
            key = resolve(aliases, name) if name else ""
            if key in computed:
                mapping[name], dtypes[name] = key, graph.dtype(name)
    return mapping, dtypes


def import_graph(graph: OnnxGraph) -> OnnxLayer:
    """A paddle.nn.Layer computing ``graph`` (every node must have a converter: the pre-flight checks that)."""
    return OnnxLayer(graph)


@contextlib.contextmanager
def _evaluating(native: paddle.nn.Layer) -> Iterator[None]:
    """Eval mode without gradients; every layer's training flag and paddle's dygraph train flag restored after."""
    flags = [(layer, layer.training) for layer in (native, *native.sublayers())]
    tracer = paddle.base.framework._dygraph_tracer()  # eval() also flips this process-wide dygraph flag
    tracer_training = getattr(tracer, "_train_mode", None)
    native.eval()
    try:
        with paddle.no_grad():
            yield
    finally:
        for layer, training in flags:
            layer.training = training
        if tracer_training is not None:
            tracer._train_mode = tracer_training


def _as_array(value: Any, dtype: Any) -> np.ndarray:
    """A tensor or host value as numpy in the graph's ``dtype`` (paddle computes uint16/32/64 in a signed type)."""
    array = np.asarray(value.numpy() if isinstance(value, paddle.Tensor) else value)
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    return array


def run(native: OnnxLayer, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The graph outputs as numpy arrays (eval mode, no gradients), with the graph's dtypes."""
    with _evaluating(native):
        outputs = native(*[to_tensor(np.asarray(value)) for value in inputs])
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    arrays = []
    for output, dtype in zip(outputs, getattr(native, "output_dtypes", [None] * len(outputs))):
        array = np.asarray(output.numpy())
        if dtype is not None and np.dtype(dtype).name in _UNSIGNED and array.dtype != dtype:
            array = array.astype(dtype)  # paddle has no uint16/32/64 tensors: computed in a signed type
        arrays.append(array)
    return arrays


def intermediates(native: OnnxLayer, inputs: list[np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The values of the ONNX graph values ``names`` (node outputs) as the imported model ``native`` computes
    them on ``inputs`` (graph-input order), as numpy arrays in the ONNX graph's own layout and dtype (eval
    mode, no gradients, train flags restored). Names the model does not hold at run time (folded at import,
    fused into a neighbour, internal to a converter) are left out of the result."""
    wanted = [name for name in dict.fromkeys(names) if name in native.onnx_values]
    with _evaluating(native):
        environment = native.environment(*[to_tensor(np.asarray(value)) for value in inputs])
    result = {}
    for name in wanted:
        value = environment.get(native.onnx_values[name])
        if isinstance(value, (paddle.Tensor, np.ndarray, np.generic)):  # sequences and optionals are left out
            result[name] = _as_array(value, native.onnx_dtypes.get(name))
    return result


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
