"""A model's weightless skeleton (large initializers as typed graph inputs): checked, upgraded and shape-inferred fast."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Initializers with more elements than this leave the skeleton (small ones stay: shape inference folds them).
SMALL = 1024


def split(proto: Any) -> tuple[Any, dict[str, Any], set[str]]:
    """(skeleton, the large initializers by name, the names of the graph inputs added in their place).

    The skeleton has the model's nodes, opsets and metadata, its small initializers, and a graph input with the
    type and shape of each large one, so onnx.checker, the version converter and shape inference read a few
    kilobytes instead of serializing the weights (about 0.1 s per 100 MB each time).
    """
    import onnx

    large = {tensor.name: tensor for tensor in proto.graph.initializer if _elements(tensor) > SMALL}
    skeleton = onnx.ModelProto()
    _copy_fields(proto, skeleton, skip="graph")
    _copy_fields(proto.graph, skeleton.graph, skip="initializer")
    skeleton.graph.initializer.extend(tensor for tensor in proto.graph.initializer if tensor.name not in large)
    graph = proto.graph
    declared = {info.name for info in graph.input}
    added = set()
    for name, tensor in large.items():
        if name not in declared:
            skeleton.graph.input.append(onnx.helper.make_tensor_value_info(name, tensor.data_type, tensor.dims))
            added.add(name)
    return skeleton, large, added


def join(skeleton: Any, large: dict[str, Any], added: set[str], order: list[str]) -> Any:
    """The full model again from a (possibly upgraded) skeleton: the large initializers back in their places
    (``order``: the original initializer names; initializers the upgrade added come last), the added inputs gone."""
    import onnx

    full = onnx.ModelProto()
    full.CopyFrom(skeleton)
    small = {tensor.name: tensor for tensor in skeleton.graph.initializer}
    inputs = [info for info in skeleton.graph.input if info.name not in added]
    del full.graph.initializer[:], full.graph.input[:]
    full.graph.input.extend(inputs)
    full.graph.initializer.extend(large[name] if name in large else small.pop(name) for name in order
                                  if name in large or name in small)
    full.graph.initializer.extend(small.values())
    return full


def payload_problem(tensor: Any) -> str | None:
    """Why a large initializer's data cannot have its declared shape and type (None when it can): the check
    onnx.checker makes of a tensor, done without serializing the model."""
    import onnx

    if tensor.data_type not in onnx.helper.get_all_tensor_dtypes() or tensor.data_type == onnx.TensorProto.UNDEFINED:
        return f"tensor {tensor.name!r} has no valid data type ({tensor.data_type})"
    if tensor.data_type == onnx.TensorProto.STRING or tensor.data_type in _SUB_BYTE:
        return None  # packed or variable-length: left to the importers' own reading
    count = _elements(tensor)
    if tensor.HasField("raw_data"):
        expected = count * np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
        found = len(tensor.raw_data)
        unit = "bytes"
    else:
        complex_types = (onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128)
        expected = count * (2 if tensor.data_type in complex_types else 1)
        found = len(getattr(tensor, onnx.helper.tensor_dtype_to_field(tensor.data_type)))
        unit = "values"
    if found != expected:
        return f"tensor {tensor.name!r} of shape {tuple(tensor.dims)} holds {found} {unit}, not {expected}"
    return None


def _copy_fields(source: Any, target: Any, skip: str) -> None:
    """Every set field of ``source`` but ``skip`` into ``target`` (the same message type)."""
    for field, value in source.ListFields():
        if field.name == skip:
            continue
        if field.is_repeated:
            getattr(target, field.name).extend(value)
        elif field.message_type is not None:
            getattr(target, field.name).CopyFrom(value)
        else:
            setattr(target, field.name, value)


def _elements(tensor: Any) -> int:
    return int(np.prod(tensor.dims, dtype=np.int64)) if len(tensor.dims) else 1


def _sub_byte() -> tuple[int, ...]:
    import onnx

    return tuple(getattr(onnx.TensorProto, name) for name in ("INT4", "UINT4") if hasattr(onnx.TensorProto, name))


_SUB_BYTE = _sub_byte()
