"""Shape ONNX ops: Reshape, Flatten, Transpose, (Un)Squeeze, Concat, Split, Slice, Expand, Tile, Pad, Cast, Range ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, channels_first_permutation, keras, tf
from nbunify.backends.keras.onnx_ops.elementwise import unary
from nbunify.backends.keras.onnx_ops.shape_values import partial_shape

ops = keras.ops
INT32_MAX = 2**31 - 1


@keras.saving.register_keras_serializable(package="nbunify")
class DynamicReshape(SettingsLayer):
    """ONNX Reshape: a 0 copies the input's dimension (unless allowzero), -1 is inferred; the shape may be a tensor."""

    def call(self, tensor, shape=None):
        target = tf.cast(tf.constant(self.settings["shape"], tf.int64) if shape is None else shape, tf.int64)
        if not self.settings.get("allowzero", 0):
            size = tf.shape(target, out_type=tf.int64)[0]
            current = tf.shape(tensor, out_type=tf.int64)
            current = tf.concat([current, tf.zeros([tf.maximum(size - tf.size(current, tf.int64), 0)], tf.int64)], 0)
            target = tf.where(tf.equal(target, 0), current[:size], target)
        return self.ranked(tf.reshape(tensor, target))


def _reshape(context: Context, tensor: Any, target: list[int], allowzero: int = 0) -> Any:
    shape = list(tensor.shape)
    target = [shape[index] if value == 0 and not allowzero and index < len(shape) else value
              for index, value in enumerate(target)]
    if all(value is not None for value in target) and list(target).count(-1) <= 1:
        return ops.reshape(tensor, target)
    return DynamicReshape({"shape": [int(value) if value is not None else 0 for value in target]},
                          name=context.layer_name("reshape"))(tensor)


@REGISTRY.register("Reshape", 5, 13, 14, 19, 21)
def reshape(context: Context, node: Any) -> Any:
    tensor = context.tensor(node.inputs[0])
    allowzero = node.attrs.get("allowzero", 0)
    if context.is_static(node.inputs[1]):
        return _reshape(context, tensor, [int(value) for value in context.value(node.inputs[1])], allowzero)
    target = partial_shape(context, node.inputs[1])
    if target is not None and target.count(None) == 1 and -1 not in target and (allowzero or 0 not in target):
        # one size known only at run time (the batch, or a multiple of it): -1 gives it, and the shape arithmetic
        # that computes it drops out of the model (one reshape instead of a dozen small ops per call)
        return _reshape(context, tensor, [-1 if value is None else value for value in target], allowzero)
    return DynamicReshape({"allowzero": allowzero, "rank": context.rank(node.outputs[0])},
                          name=context.layer_name("reshape"))(
        context.symbolic(node.inputs[0]), context.tensor(node.inputs[1]))


@REGISTRY.register("Flatten", 11, 13, 21)
def flatten(context: Context, node: Any) -> Any:
    name = node.inputs[0]
    axis = node.attrs.get("axis", 1)
    if context.has_channels_last(name) and name not in context.values and axis == 1:
        laid = context.channels_last[name]
        if all(size == 1 for size in laid.shape[1:-1]):  # (N, 1, 1, C): both layouts flatten alike
            return ops.reshape(laid, (-1, laid.shape[-1]))
    tensor = context.symbolic(name)
    rank = len(tensor.shape)
    axis = axis + rank if axis < 0 else axis
    inner = tensor.shape[axis:]
    if axis >= 1 and all(size is not None for size in inner):
        return ops.reshape(tensor, (-1, int(np.prod(inner, dtype=np.int64))))
    if axis == 0:
        return ops.reshape(tensor, (1, -1))
    return Flatten2D({"axis": axis}, name=context.layer_name("flatten"))(tensor)


@keras.saving.register_keras_serializable(package="nbunify")
class Flatten2D(SettingsLayer):
    def call(self, tensor):
        shape = tf.shape(tensor)
        return tf.reshape(tensor, tf.stack([tf.reduce_prod(shape[:self.settings["axis"]]), -1]))


@REGISTRY.register("Transpose", 1, 13, 21)
def transpose(context: Context, node: Any) -> Any:
    name = node.inputs[0]
    permutation = node.attrs.get("perm")
    if context.has_channels_last(name) and name not in context.values:
        laid = context.channels_last[name]
        rank = len(laid.shape)
        permutation = list(permutation) if permutation else list(range(rank))[::-1]
        inverse = channels_first_permutation(rank)
        composed = [inverse[axis] for axis in permutation]  # the ONNX tensor is the laid one transposed by inverse
        return laid if composed == list(range(rank)) else ops.transpose(laid, composed)
    tensor = context.tensor(name)
    return ops.transpose(tensor, permutation if permutation else None)


def _axes(context: Context, node: Any, input_index: int = 1) -> list[int] | None:
    """Axes from the attribute (old opsets) or the optional input (newer ones); None when absent."""
    if "axes" in node.attrs and node.attrs["axes"] is not None:
        return [int(axis) for axis in node.attrs["axes"]]
    name = node.input(input_index)
    if name:
        return [int(axis) for axis in np.asarray(context.value(name)).reshape(-1)]
    return None


@keras.saving.register_keras_serializable(package="nbunify")
class DynamicAxes(SettingsLayer):
    """Squeeze or Unsqueeze with axes given as a tensor; the output rank comes from ONNX shape inference."""

    def call(self, tensor, axes):
        shape = tf.shape(tensor, out_type=tf.int64)
        axes = tf.reshape(tf.cast(axes, tf.int64), [-1])
        if self.settings["op"] == "Squeeze":
            rank = tf.size(shape, out_type=tf.int64)
            axes = tf.where(axes < 0, axes + rank, axes)
            removed = tf.reduce_any(tf.equal(tf.range(rank)[:, None], axes[None, :]), axis=1)
            return self.ranked(tf.reshape(tensor, tf.boolean_mask(shape, tf.logical_not(removed))))
        rank = tf.size(shape, out_type=tf.int64) + tf.size(axes, out_type=tf.int64)
        axes = tf.where(axes < 0, axes + rank, axes)
        added = tf.reduce_any(tf.equal(tf.range(rank)[:, None], axes[None, :]), axis=1)
        source = tf.maximum(tf.cumsum(tf.cast(tf.logical_not(added), tf.int64)) - 1, 0)
        padded = tf.concat([shape, [1]], 0)
        return self.ranked(tf.reshape(tensor, tf.where(added, tf.ones_like(source), tf.gather(padded, source))))


def _dynamic_axes(context: Context, node: Any) -> Any | None:
    name = node.input(1)
    if not name or context.is_static(name) or node.attrs.get("axes") is not None:
        return None
    return DynamicAxes({"op": node.op_type, "rank": context.rank(node.outputs[0])},
                       name=context.layer_name(node.op_type))(context.symbolic(node.inputs[0]), context.symbolic(name))


@REGISTRY.register("Squeeze", 11, 13, 21)
def squeeze(context: Context, node: Any) -> Any:
    dynamic = _dynamic_axes(context, node)
    if dynamic is not None:
        return dynamic
    tensor = context.tensor(node.inputs[0])
    axes = _axes(context, node)
    rank = len(tensor.shape)
    if axes is None:
        axes = [index for index, size in enumerate(tensor.shape) if size == 1]
    axes = sorted(axis + rank if axis < 0 else axis for axis in axes)
    shape = [size for index, size in enumerate(tensor.shape) if index not in axes]
    if sum(size is None for size in shape) <= 1:
        return ops.reshape(tensor, [-1 if size is None else size for size in shape])
    return ops.squeeze(tensor, axis=tuple(axes))


@REGISTRY.register("Unsqueeze", 11, 13, 21)
def unsqueeze(context: Context, node: Any) -> Any:
    dynamic = _dynamic_axes(context, node)
    if dynamic is not None:
        return dynamic
    tensor = context.tensor(node.inputs[0])
    axes = _axes(context, node)
    rank = len(tensor.shape) + len(axes)
    for axis in sorted(axis + rank if axis < 0 else axis for axis in axes):
        tensor = ops.expand_dims(tensor, axis)
    return tensor


@REGISTRY.register("Concat", 11, 13)
def concat(context: Context, node: Any) -> Any:
    names = [name for name in node.inputs if name]
    axis = node.attrs["axis"]
    runtime = [name for name in names if not context.is_static(name)]
    if runtime and all(context.has_channels_last(name) for name in runtime) and all(
            not context.is_static(name) for name in names):
        rank = len(context.channels_last[runtime[0]].shape)
        if (axis + rank if axis < 0 else axis) == 1:
            context.set_channels_last(node.outputs[0], ops.concatenate(
                [context.channels_last[name] for name in names], axis=-1))
            return None
    dtype = context.graph.dtype(node.outputs[0]) or context.graph.dtype(names[0])
    parts = [context.tensor(name) for name in names]
    parts = [part.astype(dtype) if isinstance(part, np.ndarray) else part for part in parts]
    parts = [part for part in parts if not (isinstance(part, np.ndarray) and part.size == 0 and len(names) > 1)]
    if len(parts) == 1:
        return ops.convert_to_tensor(parts[0]) if isinstance(parts[0], np.ndarray) else parts[0]
    return ops.concatenate(parts, axis=axis)


@keras.saving.register_keras_serializable(package="nbunify")
class Split(SettingsLayer):
    """Split into ``count`` parts: sizes as a tensor, or equal parts (the last smaller when uneven, opset 18)."""

    def call(self, tensor, sizes=None):
        axis, count = self.settings["axis"], self.settings["count"]
        if sizes is None:
            size = tf.shape(tensor, out_type=tf.int64)[axis]
            chunk = (size + count - 1) // count
            sizes = tf.concat([tf.fill([count - 1], chunk), [size - chunk * (count - 1)]], 0)
        return tf.split(tensor, tf.cast(sizes, tf.int64), axis=axis, num=count)


@REGISTRY.register("Split", 11, 13, 18)
def split(context: Context, node: Any) -> Any:
    tensor = context.tensor(node.inputs[0])
    axis = node.attrs.get("axis", 0)
    rank = len(tensor.shape)
    axis = axis + rank if axis < 0 else axis
    count = len(node.outputs)
    sizes = node.attrs.get("split")
    layer = Split({"axis": axis, "count": count}, name=context.layer_name("split"))
    if not sizes and node.input(1):
        if not context.is_static(node.input(1)):
            return list(layer(context.symbolic(node.inputs[0]), context.symbolic(node.input(1))))
        sizes = [int(size) for size in context.value(node.input(1))]
    size = tensor.shape[axis]
    if not sizes:
        if size is None:
            return list(layer(context.symbolic(node.inputs[0])))
        chunk = -(-size // (node.attrs.get("num_outputs") or count))
        sizes = [min(chunk, size - start) for start in range(0, size, chunk)]
    bounds = np.cumsum([0, *sizes])
    return [StaticSlice({"begin": [int(start)], "end": [int(end)], "axes": [axis], "steps": [1]},
                        name=context.layer_name("split"))(context.symbolic(node.inputs[0]))
            for start, end in zip(bounds[:-1], bounds[1:])]


@keras.saving.register_keras_serializable(package="nbunify")
class StaticSlice(SettingsLayer):
    """tensor[begin:end:step] along ``axes`` (None bounds mean the whole extent)."""

    def call(self, tensor):
        index = [slice(None)] * len(tensor.shape)
        for axis, begin, end, step in zip(self.settings["axes"], self.settings["begin"], self.settings["end"],
                                          self.settings["steps"]):
            index[axis] = slice(begin, end, step)
        return tensor[tuple(index)]


def _bound(value: int, step: int, is_end: bool) -> int | None:
    """An ONNX slice bound as a Python one: huge sentinels (INT64_MAX, -INT64_MAX) mean 'to the edge'."""
    if value >= INT32_MAX:
        return None
    if value <= -INT32_MAX:
        return None if (is_end and step < 0) or (not is_end and step > 0) else 0
    return int(value)


@keras.saving.register_keras_serializable(package="nbunify")
class DynamicSlice(SettingsLayer):
    """ONNX Slice with starts/ends/axes/steps given as tensors: clamped per ONNX, then tf.strided_slice."""

    def call(self, tensor, starts, ends, axes=None, steps=None):
        rank = len(tensor.shape)
        starts, ends = tf.cast(starts, tf.int64), tf.cast(ends, tf.int64)
        axes = tf.range(tf.size(starts, tf.int64), dtype=tf.int64) if axes is None else tf.cast(axes, tf.int64)
        axes = tf.where(axes < 0, axes + rank, axes)
        steps = tf.ones_like(starts) if steps is None else tf.cast(steps, tf.int64)
        sizes = tf.gather(tf.shape(tensor, out_type=tf.int64), axes)
        starts = tf.where(starts < 0, starts + sizes, starts)
        ends = tf.where(ends < 0, ends + sizes, ends)
        forward = steps > 0
        starts = tf.where(forward, tf.clip_by_value(starts, 0, sizes), tf.clip_by_value(starts, -1, sizes - 1))
        ends = tf.where(forward, tf.clip_by_value(ends, 0, sizes), tf.clip_by_value(ends, -1, sizes - 1))
        # walking backwards past the first element: -1 would wrap to the last one, -size - 1 does not
        ends = tf.where(tf.logical_and(tf.logical_not(forward), tf.equal(ends, -1)), -sizes - 1, ends)
        begin = tf.tensor_scatter_nd_update(tf.zeros([rank], tf.int64), axes[:, None], starts)
        end = tf.tensor_scatter_nd_update(tf.shape(tensor, out_type=tf.int64), axes[:, None], ends)
        stride = tf.tensor_scatter_nd_update(tf.ones([rank], tf.int64), axes[:, None], steps)
        return self.ranked(tf.strided_slice(tensor, begin, end, stride))


@REGISTRY.register("Slice", 11, 13)
def slice_(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    if not all(context.is_static(name) for name in node.inputs[1:] if name):
        optional = [context.symbolic(name) if name else None for name in (node.input(3), node.input(4))]
        if optional[1] is not None and optional[0] is None:  # steps without axes: the first len(starts) axes
            optional[0] = context.constant(np.arange(context.graph.shape(node.inputs[1])[0]))
        operands = [tensor, context.symbolic(node.inputs[1]), context.symbolic(node.inputs[2]),
                    *[operand for operand in optional if operand is not None]]
        return DynamicSlice({"rank": len(tensor.shape)}, name=context.layer_name("slice"))(*operands)
    starts = [int(value) for value in context.value(node.inputs[1])]
    ends = [int(value) for value in context.value(node.inputs[2])]
    rank = len(tensor.shape)
    axes = [int(value) for value in context.value(node.input(3))] if node.input(3) else list(range(len(starts)))
    steps = [int(value) for value in context.value(node.input(4))] if node.input(4) else [1] * len(starts)
    axes = [axis + rank if axis < 0 else axis for axis in axes]
    settings = {"axes": axes, "steps": steps,
                "begin": [_bound(start, step, False) for start, step in zip(starts, steps)],
                "end": [_bound(end, step, True) for end, step in zip(ends, steps)]}
    for index, (end, step) in enumerate(zip(ends, steps)):
        size = tensor.shape[axes[index]]
        if step < 0 and size is not None and -size > end > -INT32_MAX:  # before the start when walking backwards
            settings["end"][index] = None
    return StaticSlice(settings, name=context.layer_name("slice"))(tensor)


@REGISTRY.register("Identity", 1, 13, 14, 16, 19, 21)
def identity(context: Context, node: Any) -> Any:
    return unary(context, node, lambda tensor: tensor)


@REGISTRY.register("Dropout", 10, 12, 13, 22)
def dropout(context: Context, node: Any) -> Any:
    """Inference: the input unchanged and an all-true mask."""
    tensor = context.tensor(node.inputs[0])
    if len(node.outputs) > 1 and node.outputs[1]:
        return [tensor, ops.ones_like(tensor, dtype="bool")]
    return unary(context, node, lambda value: value)


@REGISTRY.register("Cast", 9, 13, 19, 21)
def cast(context: Context, node: Any) -> Any:
    import onnx

    dtype = onnx.helper.tensor_dtype_to_np_dtype(node.attrs["to"]).name
    return unary(context, node, lambda tensor: _cast(tensor, dtype))


def _cast(tensor: Any, dtype: str) -> Any:
    if str(tensor.dtype) == dtype:
        return tensor
    return ops.cast(tensor, dtype)


@REGISTRY.register("CastLike", 15, 19, 21)
def cast_like(context: Context, node: Any) -> Any:
    dtype = np.dtype(context.graph.dtype(node.inputs[1])).name
    return unary(context, node, lambda tensor: _cast(tensor, dtype))


@keras.saving.register_keras_serializable(package="nbunify")
class ShapeOf(SettingsLayer):
    """ONNX Shape (int64, optionally a start:end range of it) and Size."""

    def call(self, tensor):
        if self.settings.get("size"):
            return tf.size(tensor, out_type=tf.int64)
        return tf.shape(tensor, out_type=tf.int64)[self.settings.get("start", 0):self.settings.get("end")]


@REGISTRY.register("Shape", 1, 13, 15, 19, 21)
def shape(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    start, end = node.attrs.get("start", 0), node.attrs.get("end")
    return ShapeOf({"start": start, "end": end}, name=context.layer_name("shape"))(tensor)


@REGISTRY.register("Size", 1, 13, 19, 21)
def size(context: Context, node: Any) -> Any:
    return ShapeOf({"size": True}, name=context.layer_name("size"))(context.symbolic(node.inputs[0]))
