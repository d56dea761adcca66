"""Rearranging ONNX ops (of the shape family): Pad, CenterCropPad, DepthToSpace, SpaceToDepth, Expand, Tile."""

from __future__ import annotations

from typing import Any

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf

ops = keras.ops


def _gathered(tensor: Any, widths: Any, mode: str) -> Any:
    """Pad every axis by gathering source positions: clamped to the edge ("edge") or taken modulo the size
    ("wrap"); works with widths known only at run time."""
    for axis in range(len(tensor.shape)):
        size = tf.shape(tensor, out_type=tf.int64)[axis]
        positions = tf.range(-widths[axis][0], size + widths[axis][1])
        positions = tf.clip_by_value(positions, 0, size - 1) if mode == "edge" else tf.math.floormod(positions, size)
        tensor = tf.gather(tensor, positions, axis=axis)
    return tensor


@keras.saving.register_keras_serializable(package="nbunify")
class Pad(SettingsLayer):
    """ONNX Pad: constant, reflect, edge or wrap; negative pads crop."""

    def call(self, tensor, value=None, pads=None):
        mode = self.settings["mode"]
        if pads is not None:  # pads as a tensor (for ``axes`` when given); negative ones crop
            rank = len(tensor.shape)
            axes = self.settings.get("axes") or list(range(rank))
            pairs = tf.reshape(tf.cast(pads, tf.int64), [2, -1])
            positions = tf.constant([[axis] for axis in axes], tf.int64)
            begin = tf.scatter_nd(positions, pairs[0], [rank])
            end = tf.scatter_nd(positions, pairs[1], [rank])
            crop_begin, crop_end = tf.maximum(-begin, 0), tf.maximum(-end, 0)
            tensor = tf.slice(tensor, crop_begin, tf.shape(tensor, out_type=tf.int64) - crop_begin - crop_end)
            widths = tf.stack([tf.maximum(begin, 0), tf.maximum(end, 0)], 1)
            if mode in ("edge", "wrap"):
                return self.ranked(_gathered(tensor, widths, mode))
            fill = tf.zeros([], tensor.dtype) if value is None else tf.cast(tf.reshape(value, []), tensor.dtype)
            return self.ranked(tf.pad(tensor, widths, mode=mode.upper(), constant_values=fill))
        pads = self.settings["pads"]
        rank = len(pads) // 2
        before, after = pads[:rank], pads[rank:]
        crop = [slice(max(-start, 0), None if end >= 0 else end) for start, end in zip(before, after)]
        tensor = tensor[tuple(crop)]
        widths = [[max(start, 0), max(end, 0)] for start, end in zip(before, after)]
        if mode == "constant":
            fill = tf.zeros([], tensor.dtype) if value is None else tf.cast(tf.reshape(value, []), tensor.dtype)
            return tf.pad(tensor, widths, constant_values=fill)
        if mode == "reflect":
            return tf.pad(tensor, widths, mode="REFLECT")
        return _gathered(tensor, tf.constant(widths, tf.int64), mode)


@REGISTRY.register("Pad", 11, 13, 18, 19, 21)
def pad(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    rank = len(tensor.shape)
    if not context.is_static(node.inputs[1]):
        value = context.symbolic(node.input(2)) if node.input(2) else None
        axes = [int(axis) % rank for axis in context.value(node.input(3))] if node.input(3) else None
        return Pad({"mode": node.attrs.get("mode", "constant"), "rank": rank, "axes": axes},
                   name=context.layer_name("pad"))(
            tensor, value, context.symbolic(node.inputs[1]))
    pads = [int(value) for value in context.value(node.inputs[1])]
    if node.input(3):  # opset 18: pads only for the listed axes
        axes = [int(axis) % rank for axis in context.value(node.input(3))]
        full = [0] * (2 * rank)
        for index, axis in enumerate(axes):
            full[axis], full[rank + axis] = pads[index], pads[len(axes) + index]
        pads = full
    layer = Pad({"pads": pads, "mode": node.attrs.get("mode", "constant")}, name=context.layer_name("pad"))
    if node.input(2):
        return layer(tensor, context.symbolic(node.input(2)))
    return layer(tensor)


@keras.saving.register_keras_serializable(package="nbunify")
class DepthToSpace(SettingsLayer):
    def call(self, tensor):
        block, mode = self.settings["blocksize"], self.settings["mode"]
        shape = tf.shape(tensor)
        batch, channels, height, width = shape[0], shape[1], shape[2], shape[3]
        depth = channels // (block * block)
        if mode == "DCR":
            work = tf.reshape(tensor, tf.stack([batch, block, block, depth, height, width]))
            work = tf.transpose(work, [0, 3, 4, 1, 5, 2])
        else:
            work = tf.reshape(tensor, tf.stack([batch, depth, block, block, height, width]))
            work = tf.transpose(work, [0, 1, 4, 2, 5, 3])
        return tf.reshape(work, tf.stack([batch, depth, height * block, width * block]))


@REGISTRY.register("DepthToSpace", 11, 13)
def depth_to_space(context: Context, node: Any) -> Any:
    return DepthToSpace({"blocksize": node.attrs["blocksize"], "mode": node.attrs.get("mode", "DCR")},
                        name=context.layer_name("depth_to_space"))(context.symbolic(node.inputs[0]))


@keras.saving.register_keras_serializable(package="nbunify")
class SpaceToDepth(SettingsLayer):
    def call(self, tensor):
        block = self.settings["blocksize"]
        shape = tf.shape(tensor)
        batch, channels, height, width = shape[0], shape[1], shape[2], shape[3]
        work = tf.reshape(tensor, tf.stack([batch, channels, height // block, block, width // block, block]))
        work = tf.transpose(work, [0, 3, 5, 1, 2, 4])
        return tf.reshape(work, tf.stack([batch, channels * block * block, height // block, width // block]))


@REGISTRY.register("SpaceToDepth", 1, 13)
def space_to_depth(context: Context, node: Any) -> Any:
    return SpaceToDepth({"blocksize": node.attrs["blocksize"]}, name=context.layer_name("space_to_depth"))(
        context.symbolic(node.inputs[0]))



@keras.saving.register_keras_serializable(package="nbunify")
class CenterCropPad(SettingsLayer):
    """Crops or zero-pads each listed axis to its target size around the centre (the extra element at the end)."""

    def call(self, tensor, shape):
        shape = tf.cast(shape, tf.int32)
        for index, axis in enumerate(self.settings["axes"]):
            size, target = tf.shape(tensor)[axis], shape[index]
            start = tf.maximum((size - target) // 2, 0)
            begin = tf.tensor_scatter_nd_update(tf.zeros([len(tensor.shape)], tf.int32), [[axis]], [start])
            length = tf.tensor_scatter_nd_update(tf.shape(tensor), [[axis]], [tf.minimum(size, target)])
            tensor = tf.slice(tensor, begin, length)
            before = tf.maximum((target - size) // 2, 0)
            after = tf.maximum(target - size, 0) - before
            widths = tf.tensor_scatter_nd_update(tf.zeros([len(tensor.shape), 2], tf.int32), [[axis]],
                                                 [tf.stack([before, after])])
            tensor = tf.pad(tensor, widths)
        return self.ranked(tensor)


@REGISTRY.register("CenterCropPad", 18)
def center_crop_pad(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    rank = len(tensor.shape)
    axes = [axis % rank for axis in node.attrs.get("axes") or range(rank)]
    return CenterCropPad({"axes": axes, "rank": rank}, name=context.layer_name("center_crop_pad"))(
        tensor, context.symbolic(node.inputs[1]))


@keras.saving.register_keras_serializable(package="nbunify")
class Expand(SettingsLayer):
    """ONNX Expand: broadcast both ways between the tensor's shape and the target."""

    def call(self, tensor, shape=None):
        target = tf.constant(self.settings["shape"], tf.int64) if shape is None else tf.cast(shape, tf.int64)
        return self.ranked(tf.broadcast_to(tensor, tf.broadcast_dynamic_shape(tf.shape(tensor, out_type=tf.int64),
                                                                              target)))


@REGISTRY.register("Expand", 8, 13)
def expand(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    if context.is_static(node.inputs[1]):
        return Expand({"shape": [int(value) for value in context.value(node.inputs[1])]},
                      name=context.layer_name("expand"))(tensor)
    return Expand({"rank": context.rank(node.outputs[0])}, name=context.layer_name("expand"))(
        tensor, context.tensor(node.inputs[1]))


@keras.saving.register_keras_serializable(package="nbunify")
class Tile(SettingsLayer):
    def call(self, tensor, repeats):
        return tf.tile(tensor, tf.cast(repeats, tf.int64))


@REGISTRY.register("Tile", 6, 13)
def tile(context: Context, node: Any) -> Any:
    tensor = context.symbolic(node.inputs[0])
    if not context.is_static(node.inputs[1]):
        return Tile({}, name=context.layer_name("tile"))(tensor, context.symbolic(node.inputs[1]))
    return ops.tile(tensor, [int(value) for value in context.value(node.inputs[1])])
