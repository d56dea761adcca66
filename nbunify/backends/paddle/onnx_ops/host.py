"""Numpy twins of the shape-arithmetic ops: shapes computed at run time stay on the host, not in tiny tensors.

An exported graph computes many shapes at run time (Shape -> Gather -> Unsqueeze -> Concat -> Reshape): each a
paddle op on a handful of integers costs tens of microseconds, the same arithmetic in numpy well under one. The
importer runs a node with its twin here when every run-time input is such a host value (Shape and Size always
give one); a tensor op that takes a host value gets it converted once.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from nbunify.backends.paddle.onnx_ops.common import axis_list, to_tensor
from nbunify.convert.onnx_graph import Node, OnnxGraph


def _integer_divide(left, right):
    """ONNX integer Div truncates toward zero."""
    quotient = np.abs(left) // np.abs(right)
    return (np.sign(left) * np.sign(right) * quotient).astype(np.result_type(left, right))


def _divide(left, right):
    if np.issubdtype(np.result_type(left, right), np.integer):
        return _integer_divide(left, right)
    return np.divide(left, right)


def _gather(node):
    axis = int(node.attrs.get("axis", 0))

    def run(data, indices):
        position = axis % data.ndim
        indices = np.where(indices < 0, indices + data.shape[position], indices)
        return np.take(data, indices, axis=position)

    return run


def _axes(node, given):
    return axis_list(node.attrs["axes"]) if "axes" in node.attrs else (None if given is None else axis_list(given))


def _unsqueeze(node):
    def run(data, axes=None):
        chosen = _axes(node, axes)
        rank = data.ndim + len(chosen)
        shape = list(data.shape)
        for axis in sorted(axis % rank for axis in chosen):
            shape.insert(axis, 1)
        return data.reshape(shape)

    return run


def _squeeze(node):
    def run(data, axes=None):
        chosen = _axes(node, axes)
        if chosen is None:
            return np.squeeze(data)
        return np.squeeze(data, axis=tuple(axis % data.ndim for axis in chosen))

    return run


def _slice(node):
    def run(data, starts, ends, axes=None, steps=None):
        starts, ends = axis_list(starts), axis_list(ends)
        axes = axis_list(axes) if axes is not None else list(range(len(starts)))
        steps = axis_list(steps) if steps is not None else [1] * len(starts)
        index = [slice(None)] * data.ndim
        for start, end, axis, step in zip(starts, ends, axes, steps):
            index[axis % data.ndim] = slice(start, end, step)  # Python's slice clamps as ONNX's Slice does
        return data[tuple(index)]

    return run


def _reshape(node):
    allow_zero = bool(node.attrs.get("allowzero", 0))

    def run(data, shape):
        shape = axis_list(shape)
        if not allow_zero:
            shape = [data.shape[index] if size == 0 else size for index, size in enumerate(shape)]
        return data.reshape(shape)

    return run


def _cast(node):
    import onnx

    target = onnx.helper.tensor_dtype_to_np_dtype(node.attrs["to"])
    return lambda data: data.astype(target)


def _constant_of_shape(node):
    import onnx

    value = node.attrs.get("value")
    array = np.zeros(1, np.float32) if value is None else onnx.numpy_helper.to_array(value).reshape(-1)
    return lambda shape: np.full(axis_list(shape), array[0], array.dtype)


def _range(node):
    def run(start, limit, delta):
        count = max(int(np.ceil((float(limit) - float(start)) / float(delta))), 0)
        return (start + np.arange(count) * delta).astype(np.asarray(start).dtype)

    return run


def _reduce_product(node):
    keep, noop = bool(node.attrs.get("keepdims", 1)), bool(node.attrs.get("noop_with_empty_axes", 0))

    def run(data, axes=None):
        chosen = _axes(node, axes)
        if not chosen and noop:
            return data
        return np.prod(data, axis=None if not chosen else tuple(chosen), keepdims=keep).astype(data.dtype)

    return run


def _elementwise(function):
    return lambda node: (lambda *arrays: np.asarray(function(*arrays)))


def _variadic(function):
    def build(node):
        def run(*arrays):
            result = arrays[0]
            for array in arrays[1:]:
                result = function(result, array)
            return np.asarray(result)

        return run

    return build


#: op_type -> builder(node) -> numpy callable over the node's inputs (absent optional inputs are None).
TWINS: dict[str, Callable] = {
    "Gather": _gather, "Unsqueeze": _unsqueeze, "Squeeze": _squeeze, "Slice": _slice, "Reshape": _reshape,
    "Cast": _cast, "ConstantOfShape": _constant_of_shape, "Range": _range, "ReduceProd": _reduce_product,
    "Concat": lambda node: (lambda *arrays: np.concatenate(arrays, axis=int(node.attrs["axis"]))),
    "Add": _elementwise(np.add), "Sub": _elementwise(np.subtract), "Mul": _elementwise(np.multiply),
    "Div": _elementwise(_divide), "Equal": _elementwise(np.equal), "Less": _elementwise(np.less),
    "Greater": _elementwise(np.greater), "Where": _elementwise(np.where), "Not": _elementwise(np.logical_not),
    "Neg": _elementwise(np.negative), "Abs": _elementwise(np.abs), "Floor": _elementwise(np.floor),
    "Ceil": _elementwise(np.ceil), "Sqrt": _elementwise(np.sqrt), "Max": _variadic(np.maximum),
    "Min": _variadic(np.minimum),
    "Expand": lambda node: (lambda data, shape: np.broadcast_to(
        data, np.broadcast_shapes(data.shape, tuple(axis_list(shape)))).copy()),
    "Tile": lambda node: (lambda data, repeats: np.tile(data, axis_list(repeats))),
}

#: Ops whose result is a host value whatever their input (they read only its shape).
PRODUCERS = {
    "Shape": lambda node: (lambda data: np.array(list(data.shape), np.int64)[
        node.attrs.get("start", 0):node.attrs.get("end")]),
    "Size": lambda node: (lambda data: np.array(int(np.prod(data.shape)), np.int64)),
}

#: Input positions where a device op takes a host value as it is (a shape, axes, sizes it reads on the host).
TAKES_HOST = {"Reshape": {1}, "Expand": {1}, "Tile": {1}, "ConstantOfShape": {0}, "Slice": {1, 2, 3, 4},
              "Squeeze": {1}, "Unsqueeze": {1}, "Split": {1}, "CumSum": {1}, "Trilu": {1}, "TopK": {1}}


#: Ops whose output shapes follow from their inputs' shapes and their static or host inputs alone (never from the
#: values of a tensor they read): in a graph of only these, every host value is a function of the input shapes.
SHAPE_FOLLOWS_SHAPES = frozenset("""
    Add Sub Mul Div Pow Mod Abs Neg Exp Log Sqrt Reciprocal Floor Ceil Sign Round Erf Sin Cos Tan Tanh Sigmoid Relu
    LeakyRelu PRelu Elu Selu Celu HardSigmoid HardSwish Softplus Softsign Gelu Mish ThresholdedRelu Shrink Clip Max
    Min Sum Mean Equal Greater Less GreaterOrEqual LessOrEqual And Or Xor Not Where IsNaN IsInf Cast CastLike
    Softmax LogSoftmax Hardmax MatMul Gemm Conv ConvTranspose BatchNormalization LayerNormalization
    InstanceNormalization GroupNormalization LRN MaxPool AveragePool LpPool GlobalAveragePool GlobalMaxPool Flatten
    Transpose Concat Gather Identity Dropout ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2
    ReduceLogSumExp ArgMax ArgMin Reshape Expand Tile Slice Squeeze Unsqueeze Split Pad DepthToSpace SpaceToDepth
    LSTM GRU RNN Einsum""".split())


#: Input positions that decide an op's output shape (a shape, axes, pads, sizes, split lengths).
_SHAPE_INPUTS = {**TAKES_HOST, "Pad": {1, 3},
                 **{name: {1} for name in SHAPE_FOLLOWS_SHAPES if name.startswith("Reduce")}}


class HostPlanner:
    """Which nodes compute shapes on the host (their numpy TWINS), and where their values must
    become tensors: once, right after the node, under the name "#tensor:<name>"."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph = graph
        self.values: set[str] = set()  # names holding host (numpy) values at run time
        self.copies: set[str] = set()  # host values some device step (or the caller) needs as tensors
        self.statics: dict[str, np.ndarray] = {}  # "#numpy:<name>" -> a static value a twin reads
        #: every host value is a function of the graph inputs' shapes and dtypes (see ``converted``)
        self.shapes_decide = True

    def twin(self, node: Node):
        """The host step for ``node`` (function, input names, outputs, label), or None to convert it."""
        graph = self.graph
        if node.domain != "":
            return None
        present = [name for name in node.inputs if name]
        if node.op_type in PRODUCERS:
            build = PRODUCERS[node.op_type]
        else:
            runtime = [name for name in present if not graph.is_static(name)]
            trainable = [name for name in present if name in graph.weight_names
                         and graph.static[name].dtype.kind == "f"]
            if (node.op_type not in TWINS or not runtime or trainable
                    or not all(name in self.values for name in runtime)):
                return None
            build = TWINS[node.op_type]
        names = []
        for name in node.inputs:
            if name and graph.is_static(name):
                self.statics["#numpy:" + name] = graph.static[name]
                name = "#numpy:" + name
            names.append(name)
        self.values.update(node.outputs)
        function = build(node)
        return (lambda *arrays: np.asarray(function(*arrays)), tuple(names), tuple(node.outputs),
                node.name or node.outputs[0])

    def converted(self, node: Node, inputs: tuple[str, ...]) -> None:
        """Note a node converted to a tensor op, with its run-time ``inputs``: host values stop being a function of
        the input shapes when an op's output shape depends on a tensor's values (NonZero, a shape read from a
        tensor ...)."""
        if node.domain != "" or node.op_type not in SHAPE_FOLLOWS_SHAPES:
            self.shapes_decide = False
        for position in _SHAPE_INPUTS.get(node.op_type, ()):
            name = inputs[position] if position < len(inputs) else ""
            if name and name not in self.values and not self.graph.is_static(name):
                self.shapes_decide = False  # a shape, axes or sizes read from a tensor computed on the device

    def device_name(self, name: str) -> str:
        if name in self.values:
            self.copies.add(name)
            return "#tensor:" + name
        return name

    def device_inputs(self, node: Node, inputs: tuple[str, ...]) -> tuple[str, ...]:
        """A converted node's inputs, host values renamed to their tensor copies where it needs tensors."""
        takes = TAKES_HOST.get(node.op_type, ())
        return tuple(name if position in takes else self.device_name(name) for position, name in enumerate(inputs))

    def with_copies(self, steps: list) -> list:
        """The steps, each host value some tensor op needs converted right after the step computing it."""
        result = []
        for step in steps:
            result.append(step)
            for name in step[2]:
                if name in self.copies:
                    result.append((_host_to_tensor, (name,), ("#tensor:" + name,), step[3]))
        return result


def _host_to_tensor(value: np.ndarray) -> Any:
    return to_tensor(value)
