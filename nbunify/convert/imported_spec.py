"""What nu.fit needs to know of a model nu.from_onnx made, read from the ONNX graph it computes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Final ONNX ops nu.fit treats as the model's output activation (the loss then takes probabilities).
_ACTIVATIONS = {"Softmax": "softmax", "Sigmoid": "sigmoid"}


@dataclass(frozen=True)
class ImportedSpec:
    """The training-relevant facts of an imported model: shapes, dtypes, final activation, size, identity.

    It stands in for the nbunify spec an imported model does not have: the model takes its graph's input as is
    (layout ``"vector"``: no channels-last move, even in keras, whose imported model takes ONNX's layout) and
    gives one output of ``output_shape`` per sample.
    """

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    input_layout: str
    input_dtype: str
    output_activation: str | None
    parameters: int
    digest: str
    output_layout: str = "vector"
    steps: tuple = ()

    def spec_hash(self) -> str:
        return self.digest

    def parameter_count(self) -> int:
        return self.parameters

    def to_text(self) -> str:
        return ""  # no nbunify source: compare counts no generated code lines


def imported_spec(proto: Any) -> ImportedSpec:
    """The ImportedSpec of an ONNX graph with one input and one output whose per-sample shapes are fixed."""
    import onnx

    initializers = {tensor.name: tensor for tensor in proto.graph.initializer}
    inputs = [value for value in proto.graph.input if value.name not in initializers]
    outputs = list(proto.graph.output)
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"nu.fit trains models with one input and one output; this imported graph has {len(inputs)} "
                         f"input(s) and {len(outputs)} output(s)")
    input_shape, output_shape = _per_sample(inputs[0]), _per_sample(outputs[0])
    dtype = onnx.helper.tensor_dtype_to_np_dtype(inputs[0].type.tensor_type.elem_type)
    floats = [tensor for tensor in initializers.values()
              if onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).kind == "f"]
    return ImportedSpec(
        name=proto.graph.name or "onnx_model", input_shape=input_shape, output_shape=output_shape,
        input_layout="tokens" if dtype.kind in "iu" else "vector",
        input_dtype="int64" if dtype.kind in "iu" else "float32", output_activation=_final_activation(proto),
        parameters=sum(int(np.prod(tensor.dims)) for tensor in floats),
        digest="onnx-" + hashlib.sha256(proto.graph.SerializeToString()).hexdigest()[:16])


def _per_sample(value: Any) -> tuple[int, ...]:
    dims = value.type.tensor_type.shape.dim
    shape = [dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else None for dim in dims[1:]]
    if not dims or None in shape:
        raise ValueError(f"nu.fit needs the per-sample shape of graph value {value.name!r} (all but the batch "
                         f"dimension fixed); the graph says {[dim.dim_param or dim.dim_value for dim in dims]}")
    return tuple(shape)


def _final_activation(proto: Any) -> str | None:
    """"softmax" / "sigmoid" when the graph's output comes from that op (through Identity copies)."""
    producers = {output: node for node in proto.graph.node for output in node.output}
    node = producers.get(proto.graph.output[0].name)
    while node is not None and node.op_type == "Identity":
        node = producers.get(node.input[0])
    if node is None or node.op_type not in _ACTIVATIONS:
        return None
    if node.op_type == "Softmax":
        axis = next((attribute.i for attribute in node.attribute if attribute.name == "axis"), -1)
        if axis not in (-1, 1):
            return None
    return _ACTIVATIONS[node.op_type]
