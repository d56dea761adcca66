"""Indexing ONNX ops (of the shape family): Gather*, Scatter*, OneHot, NonZero, Trilu, CumSum, TopK, Compress."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf


def _positive(indices: Any, size: Any) -> Any:
    """ONNX indices may count from the end."""
    indices = tf.convert_to_tensor(indices)
    size = tf.cast(size, indices.dtype)
    return tf.where(indices < 0, indices + size, indices)


@keras.saving.register_keras_serializable(package="nbunify")
class Gather(SettingsLayer):
    def call(self, data, indices):
        axis = self.settings["axis"]
        return tf.gather(data, _positive(indices, tf.shape(data)[axis]), axis=axis)


@REGISTRY.register("Gather", 11, 13)
def gather(context: Context, node: Any) -> Any:
    data = context.symbolic(node.inputs[0])
    axis = node.attrs.get("axis", 0)
    axis = axis + len(data.shape) if axis < 0 else axis
    return Gather({"axis": axis}, name=context.layer_name("gather"))(data, context.symbolic(node.inputs[1]))


@keras.saving.register_keras_serializable(package="nbunify")
class GatherElements(SettingsLayer):
    def call(self, data, indices):
        axis = self.settings["axis"]
        return tf.experimental.numpy.take_along_axis(data, _positive(indices, tf.shape(data)[axis]), axis=axis)


@REGISTRY.register("GatherElements", 11, 13)
def gather_elements(context: Context, node: Any) -> Any:
    data = context.symbolic(node.inputs[0])
    axis = node.attrs.get("axis", 0)
    axis = axis + len(data.shape) if axis < 0 else axis
    return GatherElements({"axis": axis}, name=context.layer_name("gather_elements"))(
        data, context.symbolic(node.inputs[1]))


@keras.saving.register_keras_serializable(package="nbunify")
class GatherND(SettingsLayer):
    def call(self, data, indices):
        return tf.gather_nd(data, indices, batch_dims=self.settings["batch_dims"])


@REGISTRY.register("GatherND", 11, 12, 13)
def gather_nd(context: Context, node: Any) -> Any:
    return GatherND({"batch_dims": node.attrs.get("batch_dims", 0)}, name=context.layer_name("gather_nd"))(
        context.symbolic(node.inputs[0]), context.symbolic(node.inputs[1]))


_SCATTERS = {"none": tf.tensor_scatter_nd_update, "add": tf.tensor_scatter_nd_add,
             "max": tf.tensor_scatter_nd_max, "min": tf.tensor_scatter_nd_min}


def _scatter(data: Any, indices: Any, updates: Any, reduction: str) -> Any:
    if reduction == "mul":  # no multiplying scatter in TensorFlow: scatter the products of the updates
        factors = tf.tensor_scatter_nd_update(tf.ones_like(data), indices, tf.ones_like(updates))
        for position in range(int(indices.shape[0]) if indices.shape[0] is not None else 0):
            factors = tf.tensor_scatter_nd_update(factors, indices[position:position + 1],
                                                  tf.gather_nd(factors, indices[position:position + 1])
                                                  * updates[position:position + 1])
        return data * factors
    return _SCATTERS[reduction](data, indices, updates)


@keras.saving.register_keras_serializable(package="nbunify")
class ScatterND(SettingsLayer):
    def call(self, data, indices, updates):
        return _scatter(data, indices, updates, self.settings["reduction"])


@REGISTRY.register("ScatterND", 11, 13, 16, 18)
def scatter_nd(context: Context, node: Any) -> Any:
    return ScatterND({"reduction": node.attrs.get("reduction", "none")}, name=context.layer_name("scatter_nd"))(
        *(context.symbolic(name) for name in node.inputs))


@keras.saving.register_keras_serializable(package="nbunify")
class ScatterElements(SettingsLayer):
    """Scatter along one axis: every index element becomes a full coordinate for tensor_scatter_nd_*."""

    def call(self, data, indices, updates):
        axis = self.settings["axis"]
        indices = tf.cast(_positive(indices, tf.shape(data)[axis]), tf.int64)
        grids = tf.meshgrid(*[tf.range(tf.shape(indices, out_type=tf.int64)[dim]) for dim in range(len(indices.shape))],
                            indexing="ij")
        grids[axis] = indices
        coordinates = tf.reshape(tf.stack(grids, axis=-1), [-1, len(indices.shape)])
        return _scatter(data, coordinates, tf.reshape(updates, [-1]), self.settings["reduction"])


@REGISTRY.register("ScatterElements", 11, 13, 16, 18)
def scatter_elements(context: Context, node: Any) -> Any:
    data = context.symbolic(node.inputs[0])
    axis = node.attrs.get("axis", 0)
    axis = axis + len(data.shape) if axis < 0 else axis
    return ScatterElements({"axis": axis, "reduction": node.attrs.get("reduction", "none")},
                           name=context.layer_name("scatter_elements"))(
        data, context.symbolic(node.inputs[1]), context.symbolic(node.inputs[2]))


@REGISTRY.register("Scatter", 11)
def scatter(context: Context, node: Any) -> Any:
    """The deprecated Scatter is ScatterElements without reduction."""
    node.attrs.setdefault("reduction", "none")
    return scatter_elements(context, node)


@keras.saving.register_keras_serializable(package="nbunify")
class OneHot(SettingsLayer):
    def call(self, indices, values, depth=None):
        depth = self.settings["depth"] if depth is None else tf.cast(tf.reshape(depth, []), tf.int64)
        indices = tf.cast(indices, tf.int64)
        indices = tf.where(indices < 0, indices + depth, indices)
        return tf.one_hot(indices, tf.cast(depth, tf.int32), on_value=values[1], off_value=values[0],
                          axis=self.settings["axis"])


@REGISTRY.register("OneHot", 11)
def one_hot(context: Context, node: Any) -> Any:
    indices, values = context.symbolic(node.inputs[0]), context.symbolic(node.inputs[2])
    axis = node.attrs.get("axis", -1)
    axis = axis + len(indices.shape) + 1 if axis < 0 else axis
    if not context.is_static(node.inputs[1]):
        return OneHot({"axis": axis}, name=context.layer_name("one_hot"))(indices, values,
                                                                         context.symbolic(node.inputs[1]))
    depth = int(np.asarray(context.value(node.inputs[1])).reshape(-1)[0])
    return OneHot({"depth": depth, "axis": axis}, name=context.layer_name("one_hot"))(indices, values)


@keras.saving.register_keras_serializable(package="nbunify")
class NonZero(SettingsLayer):
    def call(self, tensor):
        return tf.transpose(tf.where(tf.not_equal(tensor, tf.zeros([], tensor.dtype))))


@REGISTRY.register("NonZero", 9, 13)
def non_zero(context: Context, node: Any) -> Any:
    return NonZero({}, name=context.layer_name("non_zero"))(context.symbolic(node.inputs[0]))


@keras.saving.register_keras_serializable(package="nbunify")
class Trilu(SettingsLayer):
    def call(self, tensor, k=None):
        k = tf.constant(0, tf.int64) if k is None else tf.reshape(tf.cast(k, tf.int64), [])
        shape = tf.shape(tensor, out_type=tf.int64)
        rows, columns = tf.range(shape[-2])[:, None], tf.range(shape[-1])[None, :]
        keep = columns - rows >= k if self.settings["upper"] else columns - rows <= k
        return tf.where(keep, tensor, tf.zeros_like(tensor))


@REGISTRY.register("Trilu", 14)
def trilu(context: Context, node: Any) -> Any:
    layer = Trilu({"upper": node.attrs.get("upper", 1)}, name=context.layer_name("trilu"))
    if node.input(1):
        return layer(context.symbolic(node.inputs[0]), context.symbolic(node.inputs[1]))
    return layer(context.symbolic(node.inputs[0]))


@keras.saving.register_keras_serializable(package="nbunify")
class CumSum(SettingsLayer):
    def call(self, tensor, axis=None):
        axis = self.settings["axis"] if axis is None else tf.reshape(tf.cast(axis, tf.int32), [])
        return tf.math.cumsum(tensor, axis=axis, exclusive=bool(self.settings["exclusive"]),
                              reverse=bool(self.settings["reverse"]))


@REGISTRY.register("CumSum", 11, 14)
def cum_sum(context: Context, node: Any) -> Any:
    settings = {"exclusive": node.attrs.get("exclusive", 0), "reverse": node.attrs.get("reverse", 0)}
    if not context.is_static(node.inputs[1]):
        return CumSum(settings, name=context.layer_name("cumsum"))(context.symbolic(node.inputs[0]),
                                                                   context.symbolic(node.inputs[1]))
    settings["axis"] = int(np.asarray(context.value(node.inputs[1])).reshape(-1)[0])
    return CumSum(settings, name=context.layer_name("cumsum"))(context.symbolic(node.inputs[0]))


@keras.saving.register_keras_serializable(package="nbunify")
class TopK(SettingsLayer):
    """Largest or smallest k along an axis; ties keep the lower index first, as ONNX asks."""

    def call(self, tensor, k):
        axis, rank = self.settings["axis"], len(tensor.shape)
        permutation = [*[dim for dim in range(rank) if dim != axis], axis]
        moved = tf.transpose(tensor, permutation) if axis != rank - 1 else tensor
        k = tf.cast(tf.reshape(k, []), tf.int32)
        if self.settings["largest"]:
            values, indices = tf.math.top_k(moved, k, sorted=True)
        else:
            order = tf.argsort(moved, axis=-1, direction="ASCENDING", stable=True)[..., :k]
            values, indices = tf.gather(moved, order, batch_dims=rank - 1), order
        if axis != rank - 1:
            inverse = list(np.argsort(permutation))
            values, indices = tf.transpose(values, inverse), tf.transpose(indices, inverse)
        return values, tf.cast(indices, tf.int64)


@REGISTRY.register("TopK", 11)
def top_k(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    axis = node.attrs.get("axis", -1)
    axis = axis + len(tensor.shape) if axis < 0 else axis
    layer = TopK({"axis": axis, "largest": node.attrs.get("largest", 1)}, name=context.layer_name("top_k"))
    return list(layer(tensor, context.symbolic(node.inputs[1])))


@keras.saving.register_keras_serializable(package="nbunify")
class Compress(SettingsLayer):
    """Keeps the slices along ``axis`` (or the flattened elements) whose condition is true; a condition shorter than
    the axis counts as false beyond its end."""

    def call(self, tensor, condition):
        axis = self.settings.get("axis")
        if axis is None:
            tensor, axis = tf.reshape(tensor, [-1]), 0
        size = tf.shape(tensor)[axis]
        condition = tf.cast(condition, tf.bool)[:size]
        condition = tf.pad(condition, [[0, size - tf.shape(condition)[0]]])
        return tf.boolean_mask(tensor, condition, axis=axis)


@REGISTRY.register("Compress", 11)
def compress(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    axis = node.attrs.get("axis")
    settings = {} if axis is None else {"axis": axis + len(tensor.shape) if axis < 0 else axis}
    return Compress(settings, name=context.layer_name("compress"))(tensor, context.symbolic(node.inputs[1]))


@keras.saving.register_keras_serializable(package="nbunify")
class ReverseSequence(SettingsLayer):
    def call(self, tensor, lengths):
        return tf.reverse_sequence(tensor, tf.cast(lengths, tf.int64), seq_axis=self.settings["time_axis"],
                                   batch_axis=self.settings["batch_axis"])


@REGISTRY.register("ReverseSequence", 10)
def reverse_sequence(context: Context, node: Any) -> Any:
    settings = {"time_axis": node.attrs.get("time_axis", 0), "batch_axis": node.attrs.get("batch_axis", 1)}
    return ReverseSequence(settings, name=context.layer_name("reverse_sequence"))(
        context.symbolic(node.inputs[0]), context.symbolic(node.inputs[1]))
