"""Reductions: ONNX Reduce* (axes as attribute or input by version, keepdims, noop_with_empty_axes), ArgMax/ArgMin."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, channels_last_permutation, keras, tf

ops = keras.ops


#: since_versions per op: (versions with axes as an attribute, versions with axes as an input).
_VERSIONS = {"ReduceSum": ((11,), (13,)), "ReduceMax": ((11, 12, 13), (18, 20)),
             "ReduceMin": ((11, 12, 13), (18, 20))}


_TENSORFLOW = {
    "ReduceSum": lambda tensor, axes, keep: tf.reduce_sum(tensor, axes, keep),
    "ReduceMean": lambda tensor, axes, keep: tf.reduce_mean(tensor, axes, keep),
    "ReduceMax": lambda tensor, axes, keep: tf.reduce_max(tensor, axes, keep) if tensor.dtype != tf.bool
    else tf.reduce_any(tensor, axes, keep),
    "ReduceMin": lambda tensor, axes, keep: tf.reduce_min(tensor, axes, keep) if tensor.dtype != tf.bool
    else tf.reduce_all(tensor, axes, keep),
    "ReduceProd": lambda tensor, axes, keep: tf.reduce_prod(tensor, axes, keep),
    "ReduceL1": lambda tensor, axes, keep: tf.reduce_sum(tf.abs(tensor), axes, keep),
    "ReduceL2": lambda tensor, axes, keep: tf.cast(tf.sqrt(tf.reduce_sum(tf.square(tf.cast(tensor, tf.float64)), axes,
                                                                        keep)), tensor.dtype),
    "ReduceLogSum": lambda tensor, axes, keep: tf.math.log(tf.reduce_sum(tensor, axes, keep)),
    "ReduceLogSumExp": lambda tensor, axes, keep: tf.cast(tf.reduce_logsumexp(tf.cast(tensor, tf.float64), axes, keep),
                                                          tensor.dtype),
    "ReduceSumSquare": lambda tensor, axes, keep: tf.reduce_sum(tf.square(tensor), axes, keep),
}


@keras.saving.register_keras_serializable(package="nbunify")
class Reduce(SettingsLayer):
    """A reduction over fixed axes (``settings["axes"]``) or axes given as a tensor at run time; empty axes reduce
    all or nothing (noop_with_empty_axes)."""

    def call(self, tensor, axes=None):
        function = _TENSORFLOW[self.settings["op"]]
        keep = bool(self.settings["keepdims"])
        if axes is None:
            return function(tensor, self.settings["axes"], keep)
        axes = tf.reshape(tf.cast(axes, tf.int32), [-1])
        if self.settings["noop"]:
            return self.ranked(tf.cond(tf.size(axes) > 0, lambda: function(tensor, axes, keep), lambda: tensor))
        every = tf.range(tf.rank(tensor))
        return self.ranked(function(tensor, tf.cond(tf.size(axes) > 0, lambda: axes, lambda: every), keep))


def _convert(context: Context, node: Any) -> Any:
    keep = bool(node.attrs.get("keepdims", 1))
    if node.input(1) and not context.is_static(node.input(1)):
        rank = context.rank(node.outputs[0])
        axes_shape = context.graph.shape(node.input(1))
        if rank is None and axes_shape and axes_shape[0] and context.rank(node.inputs[0]) is not None:
            rank = context.rank(node.inputs[0]) - (0 if keep else axes_shape[0])  # shape inference gave up
        settings = {"op": node.op_type, "keepdims": int(keep), "noop": node.attrs.get("noop_with_empty_axes", 0),
                    "rank": rank}
        return Reduce(settings, name=context.layer_name(node.op_type))(
            context.symbolic(node.inputs[0]), context.symbolic(node.input(1)))
    if "axes" in node.attrs and node.attrs["axes"] is not None:
        axes = [int(axis) for axis in node.attrs["axes"]]
    elif node.input(1):
        axes = [int(axis) for axis in np.asarray(context.value(node.input(1))).reshape(-1)]
    else:
        axes = []
    name = node.inputs[0]
    if not axes and node.attrs.get("noop_with_empty_axes", 0):
        return context.tensor(name)
    laid = context.has_channels_last(name) and name not in context.values
    tensor = context.channels_last[name] if laid else context.symbolic(name)
    rank = len(tensor.shape)
    axes = [axis + rank if axis < 0 else axis for axis in axes] or list(range(rank))
    if laid and keep:  # reduce the channels-last tensor directly: the result stays channels-last
        permutation = channels_last_permutation(rank)
        settings = {"op": node.op_type, "keepdims": 1, "axes": sorted(permutation.index(axis) for axis in axes)}
        context.set_channels_last(node.outputs[0], Reduce(settings, name=context.layer_name(node.op_type))(tensor))
        return None
    settings = {"op": node.op_type, "keepdims": int(keep), "axes": sorted(axes)}
    return Reduce(settings, name=context.layer_name(node.op_type))(context.symbolic(name))


for _op in _TENSORFLOW:
    _attribute_versions, _input_versions = _VERSIONS.get(_op, ((11, 13), (18,)))
    REGISTRY.register(_op, *_attribute_versions, *_input_versions)(_convert)


@keras.saving.register_keras_serializable(package="nbunify")
class ArgExtreme(SettingsLayer):
    """ArgMax/ArgMin as int64; select_last_index searches the reversed axis and maps the index back."""

    def call(self, tensor):
        axis, keep = self.settings["axis"], self.settings["keepdims"]
        function = tf.argmax if self.settings["op"] == "ArgMax" else tf.argmin
        if self.settings["last"]:
            index = tf.cast(tf.shape(tensor)[axis], tf.int64) - 1 - function(tf.reverse(tensor, [axis]), axis)
        else:
            index = function(tensor, axis)
        return tf.expand_dims(index, axis) if keep else index


def _arg(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    axis = node.attrs.get("axis", 0)
    axis = axis + len(tensor.shape) if axis < 0 else axis
    settings = {"op": node.op_type, "axis": axis, "keepdims": node.attrs.get("keepdims", 1),
                "last": node.attrs.get("select_last_index", 0)}
    return ArgExtreme(settings, name=context.layer_name(node.op_type))(tensor)


REGISTRY.register("ArgMax", 11, 12, 13)(_arg)
REGISTRY.register("ArgMin", 11, 12, 13)(_arg)
