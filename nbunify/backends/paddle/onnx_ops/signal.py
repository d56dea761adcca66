"""Signal converters: DFT, and the Hann, Hamming and Blackman windows."""

from __future__ import annotations

import math

import numpy as np
import paddle

from nbunify.backends.paddle.onnx_ops.common import REGISTRY, paddle_dtype

#: Each window as a function of n / N (N the length, or the length - 1 for a symmetric window).
_WINDOWS = {
    "HannWindow": lambda phase: paddle.sin(phase * math.pi) ** 2,
    "HammingWindow": lambda phase: 25.0 / 46.0 - paddle.cos(phase * 2 * math.pi) * (1 - 25.0 / 46.0),
    "BlackmanWindow": lambda phase: (paddle.cos(phase * 2 * math.pi) * -0.5 + paddle.cos(phase * 4 * math.pi) * 0.08
                                     + 0.42),
}


@REGISTRY.register("HannWindow", 17)
@REGISTRY.register("HammingWindow", 17)
@REGISTRY.register("BlackmanWindow", 17)
def window(node, context):
    import onnx

    shape = _WINDOWS[node.op_type]
    periodic = bool(node.attrs.get("periodic", 1))
    dtype = paddle_dtype(onnx.helper.tensor_dtype_to_np_dtype(node.attrs.get("output_datatype", 1)))

    def run(size):
        length = int(np.asarray(size.numpy() if isinstance(size, paddle.Tensor) else size).reshape(-1)[0])
        period = length if periodic else length - 1
        return shape(paddle.arange(length, dtype="float64") / period).astype(dtype)

    return run


@REGISTRY.register("DFT", 17, 20)
def dft(node, context):
    inverse, onesided = bool(node.attrs.get("inverse", 0)), bool(node.attrs.get("onesided", 0))
    axis_attribute = node.attrs.get("axis")  # opset 17; from 20 the axis is an input (default -2)

    def run(signal, length=None, axis=None):
        position = int(axis_attribute if axis_attribute is not None else (-2 if axis is None else int(axis)))
        position %= signal.ndim
        wide = signal.astype("float64")  # onnx's reference transforms in double precision
        values = wide.squeeze(-1) if signal.shape[-1] == 1 else paddle.complex(wide[..., 0], wide[..., 1])
        size = values.shape[position] if length is None else int(length)
        transformed = (paddle.fft.ifft if inverse else paddle.fft.fft)(values, size, position)
        if onesided:
            transformed = paddle.slice(transformed, [position], [0], [size // 2 + 1])
        return paddle.stack([paddle.real(transformed), paddle.imag(transformed)], -1).astype(signal.dtype)

    return run
