"""Sampling ONNX ops: GridSample (nearest, linear, cubic; zeros, border, reflection padding; N-D) and AffineGrid."""

from __future__ import annotations

import itertools
from typing import Any

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf

_MODES = {"bilinear": "linear", "bicubic": "cubic"}  # opset 16 names -> opset 20 names


def _reflect(x: Any, low: float, high: Any) -> Any:
    """Reflect coordinates by the nearer border until they fall inside [low, high] (as ONNX's reference does)."""
    span = high - low

    def bounce(distance: Any) -> tuple[Any, Any]:
        count = tf.floor(distance / span)
        return tf.equal(tf.math.floormod(count, 2.0), 0.0), distance - count * span

    even_below, rest_below = bounce(low - x)
    even_above, rest_above = bounce(x - high)
    from_low = tf.where(even_below, low + rest_below, high - rest_below)
    from_high = tf.where(even_above, high - rest_above, low + rest_above)
    return tf.where(x < low, from_low, tf.where(x > high, from_high, x))


def _cubic(t: Any) -> list[Any]:
    """Keys' cubic weights (a = -0.75) of the taps at -1, 0, 1, 2 from floor(x), t = x - floor(x)."""
    a = -0.75

    def near(x: Any) -> Any:
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Any) -> Any:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


@keras.saving.register_keras_serializable(package="nbunify")
class GridSample(SettingsLayer):
    """Samples (N, C, *spatial) at the grid's normalized coordinates (last grid axis in x, y, z order)."""

    def call(self, tensor, grid):
        mode, padding, align = self.settings["mode"], self.settings["padding"], self.settings["align_corners"]
        rank = len(tensor.shape) - 2
        work = tf.float64
        sizes = [tf.cast(tf.shape(tensor)[2 + axis], work) for axis in range(rank)]
        grid = tf.cast(grid, work)
        taps_per_axis = []
        for axis in range(rank):
            normalized, size = grid[..., rank - 1 - axis], sizes[axis]
            x = (normalized + 1) / 2 * (size - 1) if align else ((normalized + 1) * size - 1) / 2
            low, high = (0.0, size - 1) if align else (-0.5, size - 0.5)
            if mode == "nearest":
                x = tf.round(x)  # half to even, as ONNX's reference (after PyTorch)
            if padding == "border":
                x = tf.where((x < low) | (x > high), tf.clip_by_value(x, 0.0, size - 1), x)
            elif padding == "reflection":
                x = _reflect(x, low, high)
            if mode == "nearest":
                positions, weights = [tf.cast(tf.cast(x, tf.int64), work)], [tf.ones_like(x)]
            else:
                base = tf.floor(x)
                fraction = x - base
                if mode == "linear":
                    positions, weights = [base, base + 1], [1 - fraction, fraction]
                else:
                    positions, weights = [base - 1, base, base + 1, base + 2], _cubic(fraction)
            taps_per_axis.append([(self._index(position, size, low, high), weight)
                                  for position, weight in zip(positions, weights)])
        channels_last = tf.transpose(tensor, [0, *range(2, rank + 2), 1])
        result = 0.0
        for combination in itertools.product(*taps_per_axis):
            indices = tf.stack([index for (index, _), _ in combination], axis=-1)
            weight = 1.0
            for (_, valid), tap_weight in combination:
                weight = weight * tap_weight * tf.cast(valid, work)
            values = tf.cast(tf.gather_nd(channels_last, indices, batch_dims=1), work)
            result = result + values * weight[..., None]
        output = tf.transpose(result, [0, rank + 1, *range(1, rank + 1)])
        return tf.cast(output, tensor.dtype)

    def _index(self, position: Any, size: Any, low: float, high: Any) -> tuple[Any, Any]:
        """(clamped int index, validity) of a tap per the padding mode: zeros invalidates outside taps."""
        padding = self.settings["padding"]
        if padding == "reflection":
            position = tf.cast(tf.cast(_reflect(position, low, high), tf.int64), position.dtype)
        valid = (position >= 0) & (position <= size - 1) if padding == "zeros" else tf.ones_like(position, tf.bool)
        return tf.cast(tf.clip_by_value(position, 0.0, size - 1), tf.int64), valid


@REGISTRY.register("GridSample", 16, 20, 22)
def grid_sample(context: Context, node: Any) -> Any:
    mode = node.attrs.get("mode", "linear")
    settings = {"mode": _MODES.get(mode, mode), "padding": node.attrs.get("padding_mode", "zeros"),
                "align_corners": node.attrs.get("align_corners", 0)}
    return GridSample(settings, name=context.layer_name("grid_sample"))(context.symbolic(node.inputs[0]),
                                                                        context.symbolic(node.inputs[1]))


@keras.saving.register_keras_serializable(package="nbunify")
class AffineGrid(SettingsLayer):
    """Normalized sampling coordinates (x, y[, z]) of an output of ``size`` under the affine matrices ``theta``."""

    def call(self, theta, size):
        rank = self.settings["spatial_rank"]
        size = tf.cast(size, tf.int32)
        axes = []
        for axis in range(rank):  # spatial axes D, H, W ... -> linear positions in [-1, 1]
            count = size[2 + axis]
            steps = tf.cast(tf.range(count), theta.dtype)
            length = tf.cast(count, theta.dtype)
            if self.settings["align_corners"]:
                axes.append(tf.where(count > 1, steps * 2 / tf.maximum(length - 1, 1) - 1, tf.zeros_like(steps)))
            else:
                axes.append((steps * 2 + 1) / length - 1)
        mesh = tf.meshgrid(*axes, indexing="ij")  # each (D, H, W)
        base = tf.stack([*mesh[::-1], tf.ones_like(mesh[0])], axis=-1)  # (..., x, y[, z], 1)
        flat = tf.reshape(base, [-1, rank + 1])
        grid = tf.einsum("pk,nck->npc", flat, theta)
        return self.ranked(tf.reshape(grid, tf.concat([size[:1], size[2:], [rank]], 0)))


@REGISTRY.register("AffineGrid", 20)
def affine_grid(context: Context, node: Any) -> Any:
    theta = context.symbolic(node.inputs[0])
    spatial_rank = theta.shape[-1] - 1
    settings = {"spatial_rank": spatial_rank, "align_corners": node.attrs.get("align_corners", 0),
                "rank": spatial_rank + 2}
    return AffineGrid(settings, name=context.layer_name("affine_grid"))(theta, context.symbolic(node.inputs[1]))
