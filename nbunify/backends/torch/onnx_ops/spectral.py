"""Signal ONNX ops: the Hann, Hamming and Blackman windows and DFT (torch.fft, ONNX's real/imaginary last axis)."""

from __future__ import annotations

import math

import torch

from nbunify.backends.torch.onnx_import import REGISTRY, Builder, torch_dtype
from nbunify.convert.onnx_graph import Node


def _window(kind: str, size, periodic: int, dtype: torch.dtype):
    length = int(size.item()) if isinstance(size, torch.Tensor) else int(size)
    denominator = length if periodic else length - 1
    n = torch.arange(length, dtype=torch.float64)
    angle = 2 * math.pi * n / denominator
    if kind == "HannWindow":
        window = 0.5 - 0.5 * torch.cos(angle)
    elif kind == "HammingWindow":
        window = 25 / 46 - 21 / 46 * torch.cos(angle)
    else:
        window = 0.42 - 0.5 * torch.cos(angle) + 0.08 * torch.cos(2 * angle)
    return window.to(dtype)


@REGISTRY.register("HannWindow", 17)
@REGISTRY.register("HammingWindow", 17)
@REGISTRY.register("BlackmanWindow", 17)
def window(builder: Builder, node: Node):
    return builder.call(_window, node.op_type, builder.tensor(node.inputs[0]), int(node.attrs.get("periodic", 1)),
                        torch_dtype(int(node.attrs.get("output_datatype", 1))))


def _dft(x, length, axis, inverse: int, onesided: int):
    axis = int(axis.item()) if isinstance(axis, torch.Tensor) else int(axis)
    # In double precision: the tests compare near-zero parts of spectra with an absolute tolerance of 1e-7.
    signal = torch.view_as_complex(x.double().contiguous()) if x.shape[-1] == 2 else x[..., 0].double()
    axis = axis % (x.dim() - 1)
    size = int(length.item()) if length is not None else signal.shape[axis]
    spectrum = (torch.fft.ifft if inverse else torch.fft.fft)(signal, n=size, dim=axis)
    if onesided:
        spectrum = spectrum.narrow(axis, 0, size // 2 + 1)
    return torch.view_as_real(spectrum).to(x.dtype)


@REGISTRY.register("DFT", 17, 20)
def dft(builder: Builder, node: Node):
    x, length = builder.tensor(node.inputs[0]), builder.tensor(node.input(1))
    if builder.since(node) >= 20:
        axis_name = node.input(2)
        axis = (int(builder.value(axis_name)) if builder.is_static(axis_name)
                else builder.tensor(axis_name) if axis_name else -2)
    else:
        axis = int(node.attrs.get("axis", 1))
    return builder.call(_dft, x, length, axis, int(node.attrs.get("inverse", 0)), int(node.attrs.get("onesided", 0)))


def _stft(signal, step, window, length, onesided: int):
    step = int(step.item())
    size = int(length.item()) if length is not None else window.shape[0]
    values = torch.view_as_complex(signal.double().contiguous()) if signal.shape[-1] == 2 else signal[..., 0].double()
    frames = values.unfold(1, size, step)  # (batch, frames, size)
    if window is not None:
        frames = frames * window.double()
    spectrum = torch.fft.fft(frames, dim=-1)
    if onesided:
        spectrum = spectrum[..., :size // 2 + 1]
    return torch.view_as_real(spectrum).to(signal.dtype)


@REGISTRY.register("STFT", 17)
def stft(builder: Builder, node: Node):
    signal, step, window, length = (builder.tensor(node.input(index)) for index in range(4))
    return builder.call(_stft, signal, step, window, length, int(node.attrs.get("onesided", 1)))
