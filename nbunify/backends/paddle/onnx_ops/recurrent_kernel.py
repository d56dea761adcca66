"""paddle's fused recurrent kernel for ONNX LSTM/GRU/RNN nodes: static weights laid out for it at import."""

from __future__ import annotations

import numpy as np
import paddle
from paddle import _C_ops

#: paddle's fused recurrent kernel: its mode, and the ONNX gate blocks in the kernel's gate order.
_FUSED = {"LSTM": ("LSTM", [0, 2, 3, 1]), "GRU": ("GRU", [1, 0, 2]), "RNN": ("RNN_TANH", [0])}


_ROWS: dict = {}


def _gate_rows(order, hidden):
    """Row indices taking gate blocks of ``hidden`` rows in ``order`` (cached: one small tensor per layout)."""
    key = (tuple(order), hidden)
    if key not in _ROWS:
        _ROWS[key] = paddle.to_tensor(_row_indices(order, hidden), "int64")
    return _ROWS[key]


def _row_indices(order, hidden):
    return np.concatenate([np.arange(index * hidden, (index + 1) * hidden) for index in order])


def kernel_weights(kind, settings, weight, recurrence, bias, dtype):
    """ONNX's W, R, B as the fused kernel's weight list, gate blocks reordered (gradients flow through the gather):
    per direction input and recurrent weights, then per direction input and recurrent biases."""
    order = _FUSED[kind][1]
    hidden, directions = settings.hidden, settings.directions
    rows = _gate_rows(order, hidden)
    input_weights = paddle.unbind(paddle.index_select(weight, rows, axis=1), 0)
    recurrent_weights = paddle.unbind(paddle.index_select(recurrence, rows, axis=1), 0)
    weights, biases = [], []
    for direction in range(directions):
        weights += [input_weights[direction], recurrent_weights[direction]]
    if bias is None:
        biases = [paddle.zeros([len(order) * hidden], dtype)] * (2 * directions)
    else:
        both = paddle.index_select(bias, _gate_rows(order + [index + len(order) for index in order], hidden), axis=1)
        for direction in range(directions):
            biases += paddle.split(both[direction], 2)
    return weights + biases


def prepare_kernel_weights(kind, settings, node, context):
    """At import, W, R and B (static, read by this node only) laid out as the fused kernel's weight list and
    handed to the node's callable as its trailing inputs: trainable parameters the kernel reads as they are, so
    no call reorders gate blocks. Returns whether the node has a bias; None when the weights cannot be prepared."""
    names = [node.input(1), node.input(2)] + ([node.input(3)] if node.input(3) else [])
    if not all(context.is_static(name) and context.only_user(name) for name in names):
        return None
    dtypes = {np.dtype(context.dtype(name)) for name in names}
    if len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64):
        return None  # checked before value(): a static input read with value() is no longer passed at run time
    arrays = [context.value(name) for name in names]
    rows = _row_indices(_FUSED[kind][1], settings.hidden)
    gates = len(_FUSED[kind][1]) * settings.hidden
    suffixes = ["_reverse" if direction == 1 else "" for direction in range(settings.directions)]
    for direction, suffix in enumerate(suffixes):  # paddle.nn.LSTM/GRU's own parameter names
        context.prepare(f"weight_ih{suffix}", arrays[0][direction][rows], [names[0]])
        context.prepare(f"weight_hh{suffix}", arrays[1][direction][rows], [names[1]])
    for direction, suffix in enumerate(suffixes):
        for part, label in ((0, "bias_ih"), (1, "bias_hh")):
            if len(arrays) == 3:
                context.prepare(label + suffix, arrays[2][direction][part * gates:(part + 1) * gates][rows],
                                [names[2]])
            else:  # no B in the graph: fixed zeros (a buffer), as the ONNX model has no bias to train
                context.prepare(label + suffix, np.zeros(gates, arrays[0].dtype), [])
    return len(arrays) == 3


def onnx_weights(kind, settings, prepared, has_bias):
    """The prepared kernel weights back in ONNX's W, R, B layout (for the step-by-step path; differentiable)."""
    order, directions = _FUSED[kind][1], settings.directions
    inverse = _gate_rows([order.index(index) for index in range(len(order))], settings.hidden)
    weights, biases = prepared[:2 * directions], prepared[2 * directions:]
    weight = paddle.stack([paddle.index_select(weights[2 * index], inverse) for index in range(directions)])
    recurrence = paddle.stack([paddle.index_select(weights[2 * index + 1], inverse) for index in range(directions)])
    if not has_bias:
        return weight, recurrence, None
    bias = paddle.stack([paddle.concat([paddle.index_select(biases[2 * index + part], inverse) for part in (0, 1)])
                         for index in range(directions)])
    return weight, recurrence, bias


def fusable(inputs, lengths):
    """Whether paddle's fused kernel computes this call: float32/64 inputs, every sequence of full length."""
    if inputs.dtype not in (paddle.float32, paddle.float64):
        return False
    return lengths is None or bool((lengths == inputs.shape[0]).all())


def fused(kind, settings, inputs, weights, initial):
    """The recurrence by paddle's own kernel (the one paddle.nn.LSTM/GRU/SimpleRNN run) over ``weights`` in the
    kernel's layout (see ``kernel_weights``), for a call ``fusable`` accepts; Y and the final states in ONNX's
    layout."""
    length, batch = inputs.shape[0], inputs.shape[1]
    mode = _FUSED[kind][0]
    hidden, directions = settings.hidden, settings.directions
    states = [paddle.zeros([directions, batch, hidden], inputs.dtype) if item is None else
              (item.transpose([1, 0, 2]) if settings.layout == 1 else item) for item in initial]
    output, _, finals = _C_ops.rnn(inputs, states, weights, None, paddle.empty([0], "uint8"), 0.0,
                                   directions == 2, inputs.shape[2], hidden, 1, mode, 0, not paddle.is_grad_enabled())
    sequence = output.reshape([length, batch, directions, hidden]).transpose([0, 2, 1, 3])
    if settings.layout == 1:
        return (sequence.transpose([2, 0, 1, 3]), *[item.transpose([1, 0, 2]) for item in finals])
    return (sequence, *finals)


def fusion(kind, settings, node, context, can_fuse):
    """The node's fused-kernel plan: a function ``(inputs, weight, recurrence, bias, lengths, initial, prepared)``
    giving the outputs by the kernel or None (then W, R, B come back in ONNX's layout: the step-by-step path's).
    With W, R, B static, they are laid out for the kernel at import (``prepare_kernel_weights``)."""
    has_bias = prepare_kernel_weights(kind, settings, node, context) if can_fuse else None

    def compute(inputs, weight, recurrence, bias, lengths, initial, prepared):
        if can_fuse and fusable(inputs, lengths):
            if has_bias is None:
                prepared = kernel_weights(kind, settings, weight, recurrence, bias, inputs.dtype)
            return fused(kind, settings, inputs, list(prepared), initial), (weight, recurrence, bias)
        if has_bias is not None:
            return None, onnx_weights(kind, settings, prepared, has_bias)
        return None, (weight, recurrence, bias)

    return compute
