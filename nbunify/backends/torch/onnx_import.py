"""The torch ONNX importer: an OnnxGraph becomes a torch.fx.GraphModule whose float initializers are parameters."""

from __future__ import annotations

import builtins
import keyword
import operator
import re
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import fx, nn

from nbunify.convert.onnx_graph import Node, OnnxGraph
from nbunify.convert.registry import Registry, schema_version

REGISTRY = Registry("torch")

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
                 np.dtype(np.float16): torch.float16, np.dtype(np.int64): torch.int64, np.dtype(np.int32): torch.int32,
                 np.dtype(np.int16): torch.int16, np.dtype(np.int8): torch.int8, np.dtype(np.uint8): torch.uint8,
                 np.dtype(np.uint16): torch.uint16, np.dtype(np.uint32): torch.uint32,
                 np.dtype(np.uint64): torch.uint64, np.dtype(np.bool_): torch.bool}


def torch_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype of a numpy dtype (or of an ONNX TensorProto element type number)."""
    if isinstance(dtype, int):
        import onnx

        dtype = onnx.helper.tensor_dtype_to_np_dtype(dtype)
    try:
        return _TORCH_DTYPES[np.dtype(dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"ONNX element type {dtype} has no torch tensor type this importer supports") from None


_RESERVED = {"torch", "self", "fx", "math", "operator", "inf", "nan", *dir(builtins)}


def python_name(name: str, taken: set[str]) -> str:
    """A valid, unused Python identifier made from an ONNX value name (recorded in ``taken``)."""
    base = re.sub(r"\W", "_", name) or "value"
    # Not a keyword, a module attribute, nor a name the generated forward code reads (torch, builtins ...).
    if base[0].isdigit() or keyword.iskeyword(base) or hasattr(nn.Module, base) or base in _RESERVED:
        base = "v_" + base
    candidate, index = base, 1
    while candidate in taken:
        candidate, index = f"{base}_{index}", index + 1
    taken.add(candidate)
    return candidate


class ShapeValue:
    """A small int64 tensor computed from shapes (Shape -> Gather -> Concat ... chains), kept symbolic at import.

    ``items`` are Python ints (dimensions known in the model) or fx nodes (``x.size(i)`` of dynamic ones, and
    arithmetic on them), so a Reshape fed by such a chain gets a Python shape instead of a dozen tiny tensor ops
    per call. ``scalar`` marks a 0-d value. Converters that know nothing of it get a materialized tensor.
    """

    def __init__(self, items: list[Any], scalar: bool = False, dtype: torch.dtype = torch.int64) -> None:
        self.items = list(items)
        self.scalar = scalar
        self.dtype = dtype


def _shape_tensor(items: list[int], scalar: bool, dtype: torch.dtype) -> torch.Tensor:
    tensor = torch.tensor(items, dtype=dtype)
    return tensor.reshape(()) if scalar else tensor


class Builder:
    """What a converter works with: the ONNX graph, the fx graph being built, and the ONNX name -> fx value map."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.fx = fx.Graph()
        self.root = nn.Module()
        self.values: dict[str, Any] = {}
        self._names: set[str] = set()
        #: Values this importer found static beyond the graph's own folding (shape chains of fixed dimensions).
        self.folded: dict[str, np.ndarray] = {}
        #: Dimensions known for runtime values beyond shape inference (e.g. a Reshape to a symbolic target).
        self.dims: dict[str, list[int | None]] = {}

    # -- values ------------------------------------------------------------------------------------
    def tensor(self, name: str, trainable: bool | None = None) -> Any:
        """The fx value of ONNX value ``name`` (None for an absent optional input).

        A static value becomes a get_attr of the root module: a float initializer is a trainable parameter
        (unless ``trainable=False``, e.g. batch-norm statistics), anything else a buffer.
        """
        if not name:
            return None
        if name in self.values:
            value = self.values[name]
            if isinstance(value, ShapeValue):  # a consumer that needs the tensor: build it once
                value = self.values[name] = self.call(_shape_tensor, value.items, value.scalar, value.dtype)
            return value
        if not self.is_static(name):
            raise KeyError(f"value {name!r} is used before any node computes it")
        array = self.value(name)
        if trainable is None and name in self._derived():
            return self._unfold(name)
        if trainable is None:
            trainable = array.dtype.kind == "f" and (name in self.graph.initializer_names or name in self._aliases())
        self.values[name] = self.constant(array, name, trainable)
        return self.values[name]

    def _derived(self) -> dict[str, Any]:
        """Float values the graph folded from float initializers (a transposed or cast weight ...), with the node
        protos computing them: they are computed from the parameters at run time again, so training reaches
        the initializers instead of freezing a folded copy."""
        if not hasattr(self, "_derived_protos"):
            self._derived_protos: dict[str, Any] = {}
            sources = {name for name in self.graph.initializer_names if self.graph.value(name).dtype.kind == "f"}
            sources |= self._aliases()
            for proto in self.graph.proto.graph.node:
                outputs = [name for name in proto.output if name]
                if (outputs and all(name in self.graph.static and name not in self.graph.initializer_names
                                    and name not in self._aliases() for name in outputs)
                        and any(name in sources or name in self._derived_protos for name in proto.input)):
                    for name in outputs:
                        if self.graph.static[name].dtype.kind == "f":
                            self._derived_protos[name] = proto
        return self._derived_protos

    def _unfold(self, name: str) -> Any:
        from nbunify.convert.onnx_graph import node_view  # the graph's own decoding of a node proto

        node = node_view(self._derived_protos[name], self.graph.opsets)
        converter = REGISTRY.lookup(node.op_type, self.graph.opsets.get(node.domain, 0), node.domain)
        if converter is None:  # frozen rather than failing: the value itself is right
            self.values[name] = self.constant(self.value(name), name, False)
            return self.values[name]
        results = converter(self, node)
        for output, result in zip(node.outputs, results if isinstance(results, (list, tuple)) else [results]):
            if output:
                self.values[output] = result
        return self.tensor(name)

    def _aliases(self) -> set[str]:
        """Static values that are Identity copies of initializers (torch's exporter writes a parameter equal to
        another one, e.g. two fresh LayerNorm biases, as an Identity of it): each stays a parameter of its own."""
        if not hasattr(self, "_alias_names"):
            self._alias_names: set[str] = set()
            for proto in self.graph.proto.graph.node:
                if (proto.op_type == "Identity" and proto.input[0] in self.graph.initializer_names | self._alias_names
                        and self.graph.is_static(proto.output[0])):
                    self._alias_names.add(proto.output[0])
        return self._alias_names

    def constant(self, array: Any, name: str = "constant", trainable: bool = False) -> Any:
        """A get_attr node holding ``array`` (numpy or tensor) as a parameter or buffer of the root module."""
        tensor = array if isinstance(array, torch.Tensor) else torch.from_numpy(np.array(array, copy=True))
        attribute = python_name(name, self._names)
        if trainable:
            self.root.register_parameter(attribute, nn.Parameter(tensor))
        else:
            self.root.register_buffer(attribute, tensor)
        return self.fx.get_attr(attribute)

    def symbolic(self, name: str) -> ShapeValue | None:
        """``name`` as a ShapeValue when it is a static integer vector/scalar or a symbolic shape chain, else None."""
        if not name:
            return None
        value = self.values.get(name)
        if isinstance(value, ShapeValue):
            return value
        if value is None and self.is_static(name):
            array = np.asarray(self.value(name))
            if array.dtype.kind in "iu" and array.ndim <= 1 and array.size <= 64:
                return ShapeValue([int(item) for item in array.reshape(-1)], array.ndim == 0, torch_dtype(array.dtype))
        return None

    def inputs(self, node: Node) -> list[Any]:
        """The fx values of every input of ``node`` (None where an optional input is absent)."""
        return [self.tensor(name) for name in node.inputs]

    def is_static(self, name: str) -> bool:
        return bool(name) and (name in self.folded or self.graph.is_static(name))

    def value(self, name: str) -> np.ndarray:
        """The static value of ``name`` as numpy, for arguments torch takes as Python values (shapes, axes ...)."""
        return self.folded[name] if name in self.folded else self.graph.value(name)

    def ints(self, name: str) -> list[int] | None:
        """A static integer input as a list of Python ints, or None when the optional input is absent."""
        return None if not name else [int(item) for item in np.asarray(self.value(name)).reshape(-1)]

    def rank(self, name: str) -> int:
        shape = self.graph.shape(name) or self.dims.get(name)
        if shape is None:
            raise ValueError(f"the rank of {name!r} is unknown (no shape information in the model)")
        return len(shape)

    def dtype(self, name: str) -> Any:
        return self.graph.dtype(name)

    def producer(self, name: str) -> Node | None:
        """The node computing ``name`` at run time (None for graph inputs and static values)."""
        if not hasattr(self, "_producers"):
            self._producers = {output: node for node in self.graph.nodes for output in node.outputs if output}
        return self._producers.get(name)

    def since(self, node: Node) -> int:
        """The since_version of the node's op schema in force in this model."""
        return schema_version(node.op_type, self.graph.opsets.get(node.domain, 0), node.domain) or 0

    # -- nodes -------------------------------------------------------------------------------------
    def call(self, function: Callable, *args: Any, **kwargs: Any) -> Any:
        return self.fx.call_function(function, args, kwargs)

    def method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.fx.call_method(name, args, kwargs)


#: Ops evaluated at import when all their inputs became known there (shape arithmetic on fixed dimensions).
_FOLDABLE = {"Cast", "CastLike", "Sqrt", "Exp", "Log", "Floor", "Ceil", "Div", "Mul", "Add", "Sub", "Gather",
             "Unsqueeze", "Squeeze", "Concat", "Slice",
             "Reciprocal", "Pow", "Equal", "Where", "Range", "ReduceProd", "Neg", "Max", "Min", "Abs"}


def _fold_fixed_shapes(builder: Builder, node: Node) -> bool:
    """Evaluates ``node`` at import when its inputs are static or shape values of fixed dimensions only."""
    if node.op_type not in _FOLDABLE or not any(isinstance(builder.values.get(name), ShapeValue)
                                                or name in builder.folded for name in node.inputs):
        return False
    arrays = {}
    for name in (name for name in node.inputs if name):
        value = builder.values.get(name)
        if name in builder._derived() or (name in builder.graph.initializer_names
                                          and builder.value(name).dtype.kind == "f"):
            return False  # a weight stays a parameter, computed on at run time
        if builder.is_static(name):
            arrays[name] = builder.value(name)
        elif isinstance(value, ShapeValue) and all(isinstance(item, int) for item in value.items):
            arrays[name] = np.asarray(value.items[0] if value.scalar else value.items,
                                      dtype=torch.empty(0, dtype=value.dtype).numpy().dtype)
        else:
            return False
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = onnx.helper.make_model(onnx.helper.make_graph(
        [node.proto], "fold",
        [onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(array.dtype), array.shape)
         for name, array in arrays.items()],
        [onnx.helper.make_empty_tensor_value_info(name) for name in node.outputs if name]),
        opset_imports=[onnx.helper.make_opsetid("", builder.graph.opset)])
    results = ReferenceEvaluator(model).run(None, arrays)
    for name, result in zip([name for name in node.outputs if name], results):
        builder.folded[name] = np.asarray(result)
    return True


def _with_context(error: Exception, context: str) -> Exception:
    """The same kind of error with the node that raised it named first (a RuntimeError if the kind cannot be)."""
    try:
        return type(error)(f"{context}: {error}")
    except Exception:  # noqa: BLE001 - some exception types take other arguments
        return RuntimeError(f"{context}: {type(error).__name__}: {error}")


def to_tensor(value: Any) -> torch.Tensor:
    """A graph input as a tensor: tensors pass through, numpy arrays are shared (copied only when read-only)."""
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    if not array.flags.writeable:  # torch warns on (and could write into) read-only arrays
        array = array.copy()
    return torch.as_tensor(array)


#: torch.fx.graph_module's meta key of attributes a deep copy keeps (_USER_PRESERVED_ATTRIBUTES_KEY).
_PRESERVED_KEY = getattr(fx.graph_module, "_USER_PRESERVED_ATTRIBUTES_KEY", "_user_preserved_attributes")


def import_graph(graph: OnnxGraph) -> fx.GraphModule:
    """A torch.fx.GraphModule computing ``graph``: positional inputs in graph-input order, ONNX's outputs."""
    builder = Builder(graph)
    taken: set[str] = set()
    for value in graph.inputs:
        placeholder = builder.fx.placeholder(python_name(value.name, taken))
        builder.values[value.name] = builder.call(to_tensor, placeholder)
    for node in graph.nodes:
        if _fold_fixed_shapes(builder, node):
            continue
        converter = REGISTRY.lookup(node.op_type, graph.opsets.get(node.domain, 0), node.domain)
        if converter is None:
            raise NotImplementedError(f"no torch converter for {node.op_type} at opset "
                                      f"{graph.opsets.get(node.domain, 0)} (node {node.name!r})")
        try:
            results = converter(builder, node)
        except Exception as error:
            raise _with_context(error, f"converting {node.op_type} node {node.name or node.outputs[0]!r}") from error
        if not isinstance(results, (list, tuple)):
            results = [results]
        for name, result in zip(node.outputs, results):
            if name:
                builder.values[name] = result
    outputs = [builder.tensor(value.name) for value in graph.outputs]
    builder.fx.output(outputs[0] if len(outputs) == 1 else tuple(outputs))
    module = fx.GraphModule(builder.root, builder.fx, class_name="OnnxModel")
    # Unused items of a multi-output call (an LSTM's Y_h) are picked again on demand by intermediates().
    items = {node.name: (node.args[0].name, node.args[1]) for node in builder.fx.nodes
             if node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[0], fx.Node)
             and isinstance(node.args[1], int)}
    # Dead code (an LSTM's unused Y_c, weights a converter restacked at import) goes, and so do its parameters:
    # a GraphModule built again takes only the attributes its graph still uses.
    if module.graph.eliminate_dead_code():
        module = fx.GraphModule(module, module.graph, class_name="OnnxModel")
    preserved = {"_nbunify_onnx": graph.proto, "_nbunify_onnx_outputs": [value.name for value in graph.outputs],
                 "_nbunify_values": held_values(builder, module, items)}
    for name, value in preserved.items():
        setattr(module, name, value)
    # GraphModule.__deepcopy__ builds a new module and drops other attributes, but sets these meta entries again.
    module.meta.setdefault(_PRESERVED_KEY, {}).update(preserved)
    return module


def run(native: nn.Module, inputs: Sequence[Any]) -> list[np.ndarray]:
    """The model's outputs as numpy arrays, in eval mode without autograd (train/eval flags restored after)."""
    modes = [(module, module.training) for module in native.modules()]
    native.eval()
    try:
        with torch.inference_mode():
            result = native(*inputs)
    finally:
        for module, training in modes:
            module.training = training
    outputs = result if isinstance(result, tuple) else (result,)
    return [output.detach().cpu().numpy() for output in outputs]


def hazards(graph: OnnxGraph) -> list[str]:
    """Graph values whose element type torch has no tensor for."""
    found = []
    for value in (*graph.inputs, *graph.outputs):
        if value.dtype is not None and np.dtype(value.dtype) not in _TORCH_DTYPES and np.dtype(value.dtype).kind != "O":
            found.append(f"graph value {value.name!r} has element type {np.dtype(value.dtype)}, "
                         "which torch cannot hold")
    return found


from nbunify.backends.torch import onnx_ops  # noqa: E402,F401 - registers every converter (after REGISTRY exists)
from nbunify.backends.torch.onnx_values import held_values, intermediates  # noqa: E402,F401 - the per-node API
