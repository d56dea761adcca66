"""Generating ONNX ops: ConstantOfShape, Range, EyeLike and the signal windows (Hann, Hamming, Blackman)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf


@keras.saving.register_keras_serializable(package="nbunify")
class EyeLike(SettingsLayer):
    def call(self, tensor):
        shape = tf.shape(tensor)
        rows, columns = tf.range(shape[0])[:, None], tf.range(shape[1])[None, :]
        return tf.cast(tf.equal(columns - rows, self.settings["k"]), self.settings["dtype"])


@REGISTRY.register("EyeLike", 9, 22)
def eye_like(context: Context, node: Any) -> Any:
    import onnx

    dtype = node.attrs.get("dtype")
    name = onnx.helper.tensor_dtype_to_np_dtype(dtype).name if dtype else np.dtype(
        context.graph.dtype(node.inputs[0])).name
    return EyeLike({"k": node.attrs.get("k", 0), "dtype": name}, name=context.layer_name("eye_like"))(
        context.symbolic(node.inputs[0]))


#: Cosine-sum window coefficients a0, a1, a2: w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N).
_WINDOWS = {"HannWindow": (0.5, 0.5, 0.0), "HammingWindow": (25 / 46, 21 / 46, 0.0),
            "BlackmanWindow": (0.42, 0.5, 0.08)}


@keras.saving.register_keras_serializable(package="nbunify")
class Window(SettingsLayer):
    def call(self, size):
        size = tf.cast(tf.reshape(size, []), tf.float64)
        first, second, third = _WINDOWS[self.settings["op"]]
        span = size if self.settings["periodic"] else size - 1
        positions = tf.range(size, dtype=tf.float64)
        angle = 2 * np.pi * positions / span
        window = first - second * tf.cos(angle) + third * tf.cos(2 * angle)
        return tf.cast(window, self.settings["dtype"])


def _window(context: Context, node: Any) -> Any:
    import onnx

    dtype = onnx.helper.tensor_dtype_to_np_dtype(node.attrs.get("output_datatype", 1)).name
    settings = {"op": node.op_type, "periodic": node.attrs.get("periodic", 1), "dtype": dtype}
    return Window(settings, name=context.layer_name(node.op_type))(context.symbolic(node.inputs[0]))


for _op in _WINDOWS:
    REGISTRY.register(_op, 17)(_window)


@keras.saving.register_keras_serializable(package="nbunify")
class Filled(SettingsLayer):
    """ONNX ConstantOfShape: a tensor of a run-time shape filled with one value."""

    def call(self, shape):
        value = np.asarray(self.settings["value"], self.settings["dtype"])
        return self.ranked(tf.fill(tf.cast(shape, tf.int64), tf.constant(value)))


@REGISTRY.register("ConstantOfShape", 9, 20, 21)
def constant_of_shape(context: Context, node: Any) -> Any:
    from onnx import numpy_helper

    value = node.attrs.get("value")
    array = np.zeros(1, np.float32) if value is None else np.asarray(numpy_helper.to_array(value))
    settings = {"value": array.reshape(-1)[0].item(), "dtype": array.dtype.name, "rank": context.rank(node.outputs[0])}
    return Filled(settings, name=context.layer_name("constant_of_shape"))(context.symbolic(node.inputs[0]))


@keras.saving.register_keras_serializable(package="nbunify")
class RangeOf(SettingsLayer):
    """ONNX Range: start, limit and delta as tensors, the result in their dtype."""

    def call(self, start, limit, delta):
        return tf.range(start, limit, delta, dtype=start.dtype)


@REGISTRY.register("Range", 11)
def range_(context: Context, node: Any) -> Any:
    start, limit, delta = (context.symbolic(name) for name in node.inputs)
    return RangeOf({}, name=context.layer_name("range"))(start, limit, delta)
