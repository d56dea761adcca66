"""A read-only view of an ONNX graph for importers: nodes with decoded attributes, static values, shapes, dtypes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbunify.convert.loading import opset_of
from nbunify.convert.skeleton import split

#: Ops never folded into constants at import time (their result is not a function of their inputs).
_NOT_FOLDED = ("RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial", "Bernoulli",
               "Dropout")
#: Folded results larger than this many elements (1 GiB of float32) stay in the graph, computed at run time.
FOLD_LIMIT = 1 << 28
#: Ops that only re-lay out or convert their first input: folded from a weight, the result is that weight.
_RELAYOUT = ("Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Cast")


@dataclass
class Value:
    """A graph input or output: its name, numpy dtype and shape (None for a dimension not fixed, e.g. the batch)."""

    name: str
    dtype: Any
    shape: tuple[int | None, ...] | None


@dataclass
class Node:
    """One ONNX node: attributes decoded to Python values with the schema's defaults filled in."""

    op_type: str
    domain: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    proto: Any = field(default=None, repr=False)

    def input(self, index: int) -> str:
        """The name of input ``index``, or "" when the optional input is absent."""
        return self.inputs[index] if index < len(self.inputs) else ""


class OnnxGraph:
    """The main graph of a checked ModelProto, as importers need it.

    ``static`` holds every value known at import time: initializers, Constant outputs and the outputs of nodes
    whose inputs are all static (folded with onnx.reference). ``nodes`` are the remaining nodes in order.
    ``initializer_names`` says which static values came from the model's initializers (weights: an importer
    makes float ones trainable parameters). ``weight_names`` adds the folded copies of weights that are only
    re-laid out or cast (a Transpose or Cast of an initializer nothing else reads): importers that do not
    compute such a copy from its initializer at run time make the copy itself the trainable weight.
    """

    def __init__(self, proto: Any, fold: bool = True) -> None:
        import onnx
        from onnx import numpy_helper

        self.proto = proto
        self.opset = opset_of(proto) or 0
        self.opsets = {("" if entry.domain == "ai.onnx" else entry.domain): entry.version
                       for entry in proto.opset_import}
        graph = proto.graph
        self.static: dict[str, np.ndarray] = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
        self.initializer_names = set(self.static)
        self.inputs = [_value(info) for info in graph.input if info.name not in self.static]
        self.outputs = [_value(info) for info in graph.output]
        self._infos = {info.name: info for info in (*graph.input, *graph.output, *graph.value_info)}
        try:
            inferred = onnx.shape_inference.infer_shapes(split(proto)[0], data_prop=True)  # weights left out
            self._infos.update({info.name: info for info in (*inferred.graph.value_info, *inferred.graph.output)})
        except Exception:  # noqa: BLE001 - shape inference is a help, not a requirement
            pass
        self.weight_names = set(self.initializer_names)
        readers = Counter(name for proto_node in graph.node for name in proto_node.input if name)
        readers.update(info.name for info in graph.output)
        self.nodes: list[Node] = []
        for proto_node in graph.node:
            node = node_view(proto_node, self.opsets)
            if fold and self._foldable(node):
                try:
                    self._fold(node)
                except Exception:  # noqa: BLE001 - a node the reference cannot fold is converted instead
                    pass
                else:
                    self._note_weight(node, readers)
                    continue
            self.nodes.append(node)

    # -- queries -----------------------------------------------------------------------------
    def is_static(self, name: str) -> bool:
        return name in self.static

    def value(self, name: str) -> np.ndarray:
        """The static value of ``name`` (KeyError naming it when it is computed at run time)."""
        if name not in self.static:
            raise KeyError(f"{name!r} is computed at run time; this converter needs it fixed in the model")
        return self.static[name]

    def shape(self, name: str) -> tuple[int | None, ...] | None:
        """The inferred shape of a value (None dims where symbolic), or None when unknown."""
        if name in self.static:
            return tuple(self.static[name].shape)
        info = self._infos.get(name)
        return _value(info).shape if info is not None else None

    def dtype(self, name: str) -> Any:
        """The numpy dtype of a value, or None when unknown."""
        if name in self.static:
            return self.static[name].dtype
        info = self._infos.get(name)
        return _value(info).dtype if info is not None else None

    def op_kinds(self) -> list[tuple[str, str]]:
        """(domain, op_type) of every remaining node, in order."""
        return [(node.domain, node.op_type) for node in self.nodes]

    # -- folding -----------------------------------------------------------------------------
    def _foldable(self, node: Node) -> bool:
        if node.domain not in ("", "ai.onnx") or node.op_type in _NOT_FOLDED:
            return False
        if node.op_type == "Constant":
            return True
        present = [name for name in node.inputs if name]
        return bool(present) and all(name in self.static for name in present) and not _has_subgraph(node.proto)

    def _note_weight(self, node: Node, readers: Counter) -> None:
        """A folded node that re-lays out or casts a float weight read by it alone makes a weight in its own right."""
        source = node.input(0)
        if (node.op_type not in _RELAYOUT or source not in self.weight_names or readers[source] != 1
                or self.static[source].dtype.kind != "f"):
            return
        for name in node.outputs:
            if name and self.static[name].dtype.kind == "f" and self.static[name].size == self.static[source].size:
                self.weight_names.add(name)

    def _fold(self, node: Node) -> None:
        from onnx.reference import ReferenceEvaluator

        import onnx

        inputs = [name for name in node.inputs if name]
        model = onnx.helper.make_model(
            onnx.helper.make_graph([node.proto], "fold", [
                onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(self.static[name].dtype),
                                                   self.static[name].shape) for name in inputs],
                [onnx.helper.make_empty_tensor_value_info(name) for name in node.outputs if name]),
            opset_imports=[onnx.helper.make_opsetid("", self.opset)])
        results = ReferenceEvaluator(model).run(None, {name: self.static[name] for name in inputs})
        if any(np.asarray(result).size > FOLD_LIMIT for result in results):
            raise ValueError("too large to fold")
        for name, result in zip([name for name in node.outputs if name], results):
            self.static[name] = np.asarray(result)


def _has_subgraph(proto: Any) -> bool:
    import onnx

    return any(attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for attribute in proto.attribute)


def node_view(proto: Any, opsets: dict[str, int]) -> Node:
    """A NodeProto as a Node: attributes decoded, the schema's defaults (at the domain's opset) filled in."""
    import onnx
    import onnx.defs

    attrs = {attribute.name: _decoded(onnx.helper.get_attribute_value(attribute)) for attribute in proto.attribute}
    domain = "" if proto.domain == "ai.onnx" else proto.domain
    try:
        schema = onnx.defs.get_schema(proto.op_type, opsets.get(domain, 1), domain)
    except onnx.defs.SchemaError:
        schema = None
    if schema is not None:
        for name, attribute in schema.attributes.items():
            if name not in attrs and attribute.default_value.name:
                attrs[name] = _decoded(onnx.helper.get_attribute_value(attribute.default_value))
    return Node(proto.op_type, domain, proto.name, list(proto.input), list(proto.output), attrs, proto)


def _decoded(value: Any) -> Any:
    """Strings (and lists of them) as str: ONNX stores them as bytes."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [item.decode("utf-8", "replace") for item in value]
    return value


def _value(info: Any) -> Value:
    import onnx

    kind = info.type.WhichOneof("value")
    if kind != "tensor_type":
        return Value(info.name, None, None)
    tensor = info.type.tensor_type
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type) if tensor.elem_type else None
    if not tensor.HasField("shape"):
        return Value(info.name, dtype, None)
    shape = tuple(dim.dim_value if dim.HasField("dim_value") else None for dim in tensor.shape.dim)
    return Value(info.name, dtype, shape)
