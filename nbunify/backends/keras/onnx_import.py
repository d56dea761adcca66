"""ONNX -> keras importer: a functional Keras 3 model whose float initializers are trainable weights."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from nbunify.convert.onnx_graph import OnnxGraph
from nbunify.convert.registry import Registry
from nbunify.backends.keras.copying import keep_on_deepcopy
from nbunify.backends.keras.traced import infer
from nbunify.frameworks import load

REGISTRY = Registry("keras")

keras = load("keras")
tf = load("tensorflow")


@keras.saving.register_keras_serializable(package="nbunify")
class ImportedValue(keras.initializers.Initializer):
    """An initializer giving an ONNX initializer's value once (zeros after, or when loaded from a saved model, whose
    weights file then sets the values): the variable is created holding the value, with no zeros-then-assign.

    It lets go of the value once used, so the layer does not keep a second copy of the weights.
    """

    def __init__(self, value=None):
        self.value = value

    def __call__(self, shape, dtype=None):
        value, self.value = self.value, None
        if value is None:
            return keras.ops.zeros(shape, dtype=dtype)
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"an ONNX weight of shape {tuple(value.shape)} for a variable of shape {tuple(shape)}")
        return np.asarray(value, dtype=dtype)

    def get_config(self):
        return {}


@keras.saving.register_keras_serializable(package="nbunify")
class OnnxWeight(keras.layers.Layer):
    """A float ONNX initializer as a trainable weight; called on any graph tensor (an anchor), returns the weight.

    Keras functional models only connect layers reachable from the inputs, hence the anchor, which is ignored.
    """

    def __init__(self, shape=(), value_dtype="float32", value=None, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.value_shape, self.value_dtype = tuple(shape), value_dtype
        self.weight = self.add_weight(name="value", shape=self.value_shape, dtype=value_dtype,
                                      initializer=ImportedValue(value))

    def call(self, anchor):
        return keras.ops.convert_to_tensor(self.weight)

    def compute_output_spec(self, anchor):
        return keras.KerasTensor(self.value_shape, dtype=self.value_dtype)

    def get_config(self):
        return {**super().get_config(), "shape": self.value_shape, "value_dtype": self.value_dtype}


@keras.saving.register_keras_serializable(package="nbunify")
class OnnxConstant(keras.layers.Layer):
    """A fixed (non-trainable) tensor in the graph, anchored like OnnxWeight: for graph outputs known at import time
    and for layers that need a tensor operand rather than a numpy constant."""

    def __init__(self, value=None, value_dtype=None, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.value = np.asarray(value, dtype=value_dtype)

    def call(self, anchor):
        return tf.constant(self.value)

    def compute_output_spec(self, anchor):
        return keras.KerasTensor(self.value.shape, dtype=str(self.value.dtype))

    def get_config(self):
        return {**super().get_config(), "value": self.value.tolist(), "value_dtype": self.value.dtype.name}


@keras.saving.register_keras_serializable(package="nbunify")
class OnnxOutput(keras.layers.Layer):
    """A graph output, unchanged (keras names it; no autocast, so float64 and float16 outputs keep their dtype)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)

    def call(self, tensor):
        return tensor


class SettingsLayer(keras.layers.Layer):
    """A layer whose constructor keywords (plain Python values) are its config.

    Inputs keep their dtype (no autocast to float32: ONNX dtypes are exact). ``settings["rank"]``, when set, fixes
    the output's rank where TensorFlow cannot infer it (shapes given by tensors), as ONNX shape inference knows it.
    """

    def __init__(self, settings=None, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.settings = dict(settings or {})

    def ranked(self, tensor):
        rank = self.settings.get("rank")
        if rank is not None and tensor.shape.rank is None:
            tensor.set_shape([None] * rank)
        return tensor

    def get_config(self):
        return {**super().get_config(), "settings": self.settings}


class Context:
    """The conversion state: keras tensors per ONNX value name, in ONNX layout and, where a converter made one,
    channels-last (so conv/pool chains skip the transposes between them)."""

    def __init__(self, graph: OnnxGraph, inputs: list[Any]) -> None:
        self.graph = graph
        self.values: dict[str, Any] = {value.name: tensor for value, tensor in zip(graph.inputs, inputs)}
        self.channels_last: dict[str, Any] = {}
        self.anchor = inputs[0] if inputs else None
        self.producers = {name: node for node in graph.nodes for name in node.outputs if name}
        self._weights: dict[str, Any] = {}
        self._names: dict[str, int] = {}

    # -- values ------------------------------------------------------------------------------
    def is_static(self, name: str) -> bool:
        return bool(name) and name not in self.values and name not in self.channels_last and self.graph.is_static(name)

    def value(self, name: str) -> np.ndarray:
        """The import-time numpy value of ``name`` (a clear error when the model computes it at run time)."""
        if not self.is_static(name):
            raise ValueError(f"the keras importer needs {name!r} fixed in the model (an initializer or a constant), "
                             "but the graph computes it at run time")
        return self.graph.value(name)

    def tensor(self, name: str, trainable: bool = True) -> Any:
        """``name`` as an operand of keras ops: a keras tensor, a trainable weight for float initializers, else the
        numpy constant (keras ops take numpy operands)."""
        if name in self.values:
            return self.values[name]
        if name in self.channels_last:
            tensor = self.channels_last[name]
            self.values[name] = keras.ops.transpose(tensor, channels_first_permutation(len(tensor.shape)))
            return self.values[name]
        value = self.graph.value(name)
        if trainable and name in self.graph.weight_names and value.dtype.kind == "f" and value.size > 1:
            return self.weight(name)
        return value

    def symbolic(self, name: str) -> Any:
        """``name`` as a keras tensor even when it is static (for layers that take tensors only)."""
        operand = self.tensor(name)
        if isinstance(operand, np.ndarray):
            return self.constant(operand)
        return operand

    def constant(self, value: np.ndarray) -> Any:
        return OnnxConstant(np.asarray(value), name=self.layer_name("constant"))(self.require_anchor())

    def weight(self, name: str) -> Any:
        if name not in self._weights:
            value = self.graph.value(name)
            layer = OnnxWeight(value.shape, str(value.dtype), value, name=self.layer_name(name))
            self._weights[name] = layer(self.require_anchor())
        return self._weights[name]

    def require_anchor(self) -> Any:
        if self.anchor is None:
            raise ValueError("the keras importer needs at least one graph input: keras functional models compute "
                             "from their inputs")
        return self.anchor

    def channels_last_tensor(self, name: str) -> Any:
        """``name`` (N, C, *spatial) as (N, *spatial, C)."""
        if name not in self.channels_last:
            tensor = self.symbolic(name)
            self.channels_last[name] = keras.ops.transpose(tensor, channels_last_permutation(len(tensor.shape)))
        return self.channels_last[name]

    def has_channels_last(self, name: str) -> bool:
        return name in self.channels_last

    def set(self, name: str, tensor: Any) -> None:
        self.values[name] = tensor

    def set_channels_last(self, name: str, tensor: Any) -> None:
        self.channels_last[name] = tensor
        self.values.pop(name, None)

    def layer_name(self, hint: str) -> str:
        """A unique keras layer name derived from an ONNX name (keras names allow a limited alphabet)."""
        # the "onnx_" prefix keeps clear of the names keras gives its own ops ("split", "shape" ...)
        base = "onnx_" + ("".join(char if char.isalnum() or char in "_-" else "_" for char in hint)[:60] or "layer")
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def rank(self, name: str) -> int | None:
        """The rank ONNX shape inference gives ``name`` (None when unknown)."""
        shape = self.graph.shape(name)
        return None if shape is None else len(shape)


def channels_last_permutation(rank: int) -> tuple[int, ...]:
    return (0, *range(2, rank), 1)


def channels_first_permutation(rank: int) -> tuple[int, ...]:
    return (0, rank - 1, *range(1, rank - 1))


def import_graph(graph: OnnxGraph) -> Any:
    """The keras functional model computing ``graph``: inputs in graph order (batch dimension free), outputs as ONNX
    defines them (one tensor, or a list)."""
    inputs = [keras.Input(batch_shape=_input_shape(value), dtype=_dtype_name(value.dtype), name=_input_name(value.name))
              for value in graph.inputs]
    context = Context(graph, inputs)
    for node in graph.nodes:
        converter: Callable[..., Any] | None = REGISTRY.lookup(node.op_type, graph.opsets.get(node.domain, 0),
                                                                node.domain)
        if converter is None:
            raise ValueError(f"no keras converter for {node.op_type} at opset {graph.opset} (node {node.name!r})")
        try:
            results = converter(context, node)
        except Exception as error:
            raise _naming_the_node(error, f"keras importer, {node.op_type} node {node.name or node.outputs[0]!r}") \
                from error
        if results is None:  # the converter stored its outputs itself (e.g. channels-last)
            continue
        if not isinstance(results, (list, tuple)):
            results = [results]
        for name, result in zip(node.outputs, results):
            if name:
                context.set(name, result)
    outputs = [_output(context, value) for value in graph.outputs]
    # a single input or output as itself (not a list of one): model(x) then returns a tensor, without keras's
    # input-structure warning
    model = keras.Model(inputs if len(inputs) != 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
                        name="onnx_import")
    model._nbunify_onnx_outputs = [value.name for value in graph.outputs]
    model._nbunify_onnx_values = OnnxValues(context, inputs)
    keep_on_deepcopy(model)
    return model


class OnnxValues:
    """What the imported model holds of each ONNX value at run time, recorded at import for ``intermediates``: its
    keras tensor, whether that tensor is channels-last, the graph's dtype. Normal calls of the model never read it.

    A plain object (not a dict), so keras does not track it as part of the model.
    """

    __slots__ = ("inputs", "tensors", "channels_last", "dtypes", "probe")

    def __init__(self, context: Context, inputs: list[Any]) -> None:
        self.inputs = inputs
        held = {name: (tensor, True) for name, tensor in context.channels_last.items()}
        held.update({name: (tensor, False) for name, tensor in context.values.items()})  # ONNX layout preferred
        held = {name: pair for name, pair in held.items() if isinstance(pair[0], keras.KerasTensor)}
        self.tensors = {name: tensor for name, (tensor, _) in held.items()}
        self.channels_last = {name for name, (_, last) in held.items() if last}
        self.dtypes = {name: context.graph.dtype(name) for name in held}
        self.probe: tuple[tuple[str, ...], list[Any], Any] | None = None  # the last (names, tensors, model) built

    def on(self, clone: Any) -> OnnxValues:
        """The same record for ``clone``, a copy of the model it was made on: keras's copy (saved and loaded) keeps
        the operations' names, so each tensor is the output of the operation of its name at the same place."""
        operations = {operation.name: operation for operation in clone._operations}

        def moved(tensor: Any) -> Any:
            operation, node_index, tensor_index = tensor._keras_history
            return operations[operation.name]._inbound_nodes[node_index].output_tensors[tensor_index]

        record = OnnxValues.__new__(OnnxValues)
        record.inputs = [moved(tensor) for tensor in self.inputs]
        record.tensors = {name: moved(tensor) for name, tensor in self.tensors.items()}
        record.channels_last, record.dtypes, record.probe = set(self.channels_last), dict(self.dtypes), None
        return record

    def model(self, names: tuple[str, ...]) -> tuple[list[Any], Any]:
        """The distinct tensors of ``names`` and a keras model (sharing the imported one's layers) computing them."""
        if self.probe is None or self.probe[0] != names:
            unique = list({id(self.tensors[name]): self.tensors[name] for name in names}.values())
            self.probe = names, unique, keras.Model(self.inputs if len(self.inputs) != 1 else self.inputs[0], unique,
                                                    name="onnx_import_values")
        return self.probe[1], self.probe[2]


def intermediates(native: Any, inputs: list[np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The values of the ONNX graph values ``names`` (node outputs) as the imported model ``native`` computes
    them on ``inputs`` (graph-input order), as numpy arrays in the ONNX graph's own layout and dtype (eval
    mode, no gradients, train flags restored). Names the model does not hold at run time (folded at import,
    fused into a neighbour, internal to a converter) are left out of the result.

    Keras has no train flag on the model: the values come from one call with ``training=False`` of a keras model
    built on demand from the tensors recorded at import (it shares the layers and weights, and is cached for the
    same names); channels-last values are transposed back to ONNX's channels-first layout.
    """
    values = getattr(native, "_nbunify_onnx_values", None)
    if values is None:
        raise ValueError("intermediates reads a keras model made by nu.from_onnx; this one was not imported from ONNX")
    wanted = tuple(dict.fromkeys(name for name in names if name in values.tensors))
    if not wanted:
        return {}
    held, probe = values.model(wanted)
    tensors = [tf.convert_to_tensor(np.asarray(array)) for array in inputs]
    outputs = probe(tensors if len(tensors) != 1 else tensors[0], training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    by_tensor = {id(tensor): np.asarray(keras.ops.convert_to_numpy(output))
                 for tensor, output in zip(held, outputs)}
    result = {}
    for name in wanted:
        array = by_tensor[id(values.tensors[name])]
        if name in values.channels_last:
            array = array.transpose(channels_first_permutation(array.ndim))
        dtype = values.dtypes[name]
        result[name] = array if dtype is None or array.dtype == dtype else array.astype(dtype)
    return result


def _naming_the_node(error: Exception, where: str) -> Exception:
    """``error`` with the failing node named in front; a ValueError when its type takes no plain message."""
    message = f"{where}: {error}"
    try:
        return type(error)(message)
    except Exception:  # noqa: BLE001 - e.g. TensorFlow's errors need (node_def, op, message)
        return ValueError(message)


def _output(context: Context, value: Any) -> Any:
    if context.is_static(value.name) and value.name not in context.values:
        return context.constant(context.graph.value(value.name))
    tensor = context.tensor(value.name, trainable=True)
    if isinstance(tensor, np.ndarray):
        return context.constant(tensor)
    return OnnxOutput(name=context.layer_name(f"output_{value.name}"))(tensor)


def _input_shape(value: Any) -> tuple[int | None, ...]:
    if value.shape is None:
        raise ValueError(f"graph input {value.name!r} has no known rank; the keras importer needs one")
    return (None, *value.shape[1:]) if value.shape else ()


def _input_name(name: str) -> str:
    return "".join(char if char.isalnum() or char in "_-" else "_" for char in name) or "input"


def _dtype_name(dtype: Any) -> str:
    return "float32" if dtype is None else np.dtype(dtype).name


def run(native: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The model's outputs as numpy arrays (graph order), in inference mode (traced from the second call on)."""
    tensors = [tf.convert_to_tensor(np.asarray(array)) for array in inputs]
    outputs = infer(native, tensors if len(tensors) != 1 else tensors[0])
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(output)) for output in outputs]



# Converters import this module's REGISTRY and Context; registering them last keeps that import cycle safe.
import nbunify.backends.keras.onnx_ops  # noqa: E402,F401
