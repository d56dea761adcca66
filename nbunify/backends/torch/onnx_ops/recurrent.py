"""Recurrent ONNX ops: LSTM, GRU and RNN, step by step with ONNX's gate orders, directions and layouts."""

from __future__ import annotations

import operator

import torch
from onnx import numpy_helper
import torch.nn.functional as F

from nbunify.backends.torch.onnx_import import REGISTRY, Builder
from nbunify.convert.onnx_graph import Node

#: ONNX activation names (lower case) -> (function of (x, alpha, beta), default alpha, default beta).
_ACTIVATIONS = {
    "sigmoid": (lambda x, a, b: torch.sigmoid(x), None, None),
    "tanh": (lambda x, a, b: torch.tanh(x), None, None),
    "relu": (lambda x, a, b: torch.relu(x), None, None),
    "leakyrelu": (lambda x, a, b: F.leaky_relu(x, a), 0.01, None),
    "thresholdedrelu": (lambda x, a, b: torch.where(x > a, x, torch.zeros_like(x)), 1.0, None),
    "scaledtanh": (lambda x, a, b: a * torch.tanh(b * x), 1.0, 1.0),
    "hardsigmoid": (lambda x, a, b: torch.clamp(a * x + b, 0, 1), 0.2, 0.5),
    "elu": (lambda x, a, b: F.elu(x, a), 1.0, None),
    "softsign": (lambda x, a, b: x / (1 + torch.abs(x)), None, None),
    "softplus": (lambda x, a, b: F.softplus(x), None, None),
    "affine": (lambda x, a, b: a * x + b, 1.0, 0.0),
}


def _activations(node: Node, defaults: list[str], directions: int) -> list[list[tuple]]:
    """Per direction, the (name, alpha, beta) of each activation; alphas/betas are consumed in order."""
    names = [name.decode() if isinstance(name, bytes) else name
             for name in (node.attrs.get("activations") or defaults * directions)]
    alphas, betas = list(node.attrs.get("activation_alpha") or []), list(node.attrs.get("activation_beta") or [])
    result = []
    for name in names:
        _, alpha, beta = _ACTIVATIONS[name.lower()]
        if alpha is not None and alphas:
            alpha = alphas.pop(0)
        if beta is not None and betas:
            beta = betas.pop(0)
        result.append((name.lower(), alpha, beta))
    per = len(defaults)
    return [result[index * per:(index + 1) * per] for index in range(directions)]


def _apply(activation, x):
    name, alpha, beta = activation
    return _ACTIVATIONS[name][0](x, alpha, beta)


def _cell_step(kind, x_part, h, c, recurrent, r_bias, peephole, acts, clip, linear_before_reset, hidden):
    """One time step of one direction: the new (h, c)."""
    def clipped(value):
        return value.clamp(-clip, clip) if clip is not None else value

    if kind == "LSTM":
        gates = x_part + h @ recurrent.t() + r_bias
        i, o, f, g = gates.chunk(4, -1)
        if peephole is not None:
            p_i, p_o, p_f = peephole.chunk(3, -1)
            i, f = i + p_i * c, f + p_f * c
        i, f = _apply(acts[0], clipped(i)), _apply(acts[0], clipped(f))
        c = f * c + i * _apply(acts[1], clipped(g))
        if peephole is not None:
            o = o + p_o * c
        o = _apply(acts[0], clipped(o))
        return o * _apply(acts[2], c), c
    if kind == "GRU":
        r_z, r_r, r_h = recurrent.split(hidden, 0)
        b_z, b_r, b_h = r_bias.split(hidden, -1)
        x_z, x_r, x_h = x_part.chunk(3, -1)
        z = _apply(acts[0], clipped(x_z + h @ r_z.t() + b_z))
        r = _apply(acts[0], clipped(x_r + h @ r_r.t() + b_r))
        if linear_before_reset:
            candidate = x_h + r * (h @ r_h.t() + b_h)
        else:
            candidate = x_h + (r * h) @ r_h.t() + b_h
        candidate = _apply(acts[1], clipped(candidate))
        return (1 - z) * candidate + z * h, c
    return _apply(acts[0], clipped(x_part + h @ recurrent.t() + r_bias)), c


def _recurrent(kind, x, weight, recurrent, bias, lengths, initial_h, initial_c, peephole, activations,
               direction, clip, linear_before_reset, layout):
    if layout:  # [batch, seq, ...] -> ONNX's default [seq, batch, ...]
        x = x.transpose(0, 1)
        initial_h = initial_h.transpose(0, 1) if initial_h is not None else None
        initial_c = initial_c.transpose(0, 1) if initial_c is not None else None
    steps, batch = x.shape[0], x.shape[1]
    directions, hidden = weight.shape[0], recurrent.shape[-1]
    gate_count = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    outputs, last_h, last_c = [], [], []
    for index in range(directions):
        w_bias, r_bias = (bias[index].split(gate_count * hidden) if bias is not None
                          else (x.new_zeros(gate_count * hidden),) * 2)
        x_parts = x @ weight[index].t() + w_bias  # the input projection of every step at once
        h = initial_h[index] if initial_h is not None else x.new_zeros(batch, hidden)
        c = initial_c[index] if initial_c is not None else x.new_zeros(batch, hidden)
        reverse = direction == "reverse" or (direction == "bidirectional" and index == 1)
        ys = [None] * steps
        for step in (reversed(range(steps)) if reverse else range(steps)):
            new_h, new_c = _cell_step(kind, x_parts[step], h, c, recurrent[index], r_bias,
                                      peephole[index] if peephole is not None else None, activations[index], clip,
                                      linear_before_reset, hidden)
            if lengths is not None:  # past a sequence's end: keep the state, output zeros
                valid = (step < lengths).unsqueeze(-1)
                new_h, new_c = torch.where(valid, new_h, h), torch.where(valid, new_c, c)
                ys[step] = torch.where(valid, new_h, torch.zeros_like(new_h))
            else:
                ys[step] = new_h
            h, c = new_h, new_c
        outputs.append(torch.stack(ys) if steps else x.new_zeros(0, batch, hidden))
        last_h.append(h)
        last_c.append(c)
    y, y_h, y_c = torch.stack(outputs, 1), torch.stack(last_h), torch.stack(last_c)
    if layout:  # Y [batch, seq, dirs, hidden]; Y_h, Y_c [batch, dirs, hidden]
        return y.permute(2, 0, 1, 3), y_h.transpose(0, 1), y_c.transpose(0, 1)
    return y, y_h, y_c


#: ONNX gate order -> torch's (LSTM: i o f c -> i f g o; GRU: z r h -> r z n), as chunk indices.
_TORCH_GATES = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}
_FUSED = {"LSTM": torch.lstm, "GRU": torch.gru, "RNN": torch.rnn_tanh}


def _torch_order(kind: str, tensor):
    """An ONNX gate-stacked weight or bias (gates along dim 0) restacked in torch's gate order."""
    order = _TORCH_GATES[kind]
    if len(order) == 1:
        return tensor
    chunks = tensor.chunk(len(order))
    return torch.cat([chunks[gate] for gate in order])


def _torch_parameters(kind, weight, recurrent, bias):
    """torch's flat parameter list (w_ih, w_hh, b_ih, b_hh per direction) from ONNX's W, R and B."""
    hidden = recurrent.shape[-1]
    parameters = []
    for index in range(weight.shape[0]):
        w_bias, r_bias = (bias[index].chunk(2) if bias is not None
                          else (weight.new_zeros(len(_TORCH_GATES[kind]) * hidden),) * 2)
        parameters += [_torch_order(kind, tensor) for tensor in (weight[index], recurrent[index], w_bias, r_bias)]
    return parameters


def _fused_recurrent(kind, x, parameters, initial_h, initial_c, direction: str, layout: int):
    """The ONNX op with torch's fused kernels, for the configurations torch's layers have."""
    if isinstance(parameters, tuple):  # (W, R, B) computed at run time
        parameters = _torch_parameters(kind, *parameters)
    directions, hidden = (2 if direction == "bidirectional" else 1), parameters[1].shape[-1]
    if layout:
        x = x.transpose(0, 1)
        initial_h = initial_h.transpose(0, 1) if initial_h is not None else None
        initial_c = initial_c.transpose(0, 1) if initial_c is not None else None
    reverse = direction == "reverse"
    if reverse:  # torch has no reverse-only layer: run forward over the reversed sequence
        x = x.flip(0)
    h = initial_h if initial_h is not None else x.new_zeros(directions, x.shape[1], hidden)
    if kind == "LSTM":
        c = initial_c if initial_c is not None else torch.zeros_like(h)
        y, y_h, y_c = torch.lstm(x, (h, c), parameters, True, 1, 0.0, False, directions == 2, False)
    else:
        y, y_h = _FUSED[kind](x, h, parameters, True, 1, 0.0, False, directions == 2, False)
        y_c = torch.zeros_like(y_h)
    if reverse:
        y = y.flip(0)
    y = y.reshape(y.shape[0], y.shape[1], directions, hidden).transpose(1, 2)
    if layout:
        return y.permute(2, 0, 1, 3), y_h.transpose(0, 1), y_c.transpose(0, 1)
    return y, y_h, y_c


def _fusable(node: Node, lengths, peephole, defaults: list[str]) -> bool:
    names = [name.decode() if isinstance(name, bytes) else name for name in node.attrs.get("activations") or []]
    return (lengths is None and peephole is None and node.attrs.get("clip") is None
            and all(name.lower() == default.lower() for name, default in zip(names, defaults * 2))
            and not node.attrs.get("activation_alpha") and not node.attrs.get("activation_beta")
            and (node.op_type != "GRU" or int(node.attrs.get("linear_before_reset", 0)) == 1))


def _zeros(builder: Builder, name: str) -> bool:
    """True when ``name`` is all zeros: static zeros, or a zero ConstantOfShape (torch's exporter's initial states)."""
    if not name:
        return False
    if builder.is_static(name):
        return not builder.value(name).any()
    producer = builder.producer(name)
    if producer is None or producer.op_type != "ConstantOfShape":
        return False
    value = producer.attrs.get("value")
    return value is None or not numpy_helper.to_array(value).any()


def _convert(builder: Builder, node: Node, defaults: list[str]):
    direction = node.attrs.get("direction", "forward")
    directions = 2 if direction == "bidirectional" else 1
    if int(node.attrs.get("input_forget", 0)):
        raise NotImplementedError("LSTM with input_forget=1")
    x, lengths, peephole = (builder.tensor(node.input(index)) for index in (0, 4, 7))
    clip = node.attrs.get("clip")
    names = [node.input(index) for index in range(1, 4)]  # W, R, B
    fusable = _fusable(node, lengths, peephole if node.op_type == "LSTM" else None, defaults)
    # Zero initial states are the fused kernels' default: leaving them out drops the shape ops computing them.
    initial_h, initial_c = (None if fusable and _zeros(builder, node.input(index))
                            else builder.tensor(node.input(index)) for index in (5, 6))
    if node.op_type != "LSTM":
        initial_c, peephole = None, None
    if fusable:
        if all(name in builder.graph.initializer_names for name in names if name):
            # Trainable parameters kept in torch's layout: no restacking at every call.
            arrays = [torch.from_numpy(builder.value(name).copy()) if name else None for name in names]
            parameters = [builder.constant(tensor.detach(), f"{node.input(1)}_{label}", trainable=True)
                          for tensor, label in zip(_torch_parameters(node.op_type, *arrays),
                                                   [f"{kind}_l0{suffix}" for suffix in ("", "_reverse")
                                                    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")])]
        else:
            parameters = tuple(builder.tensor(name) for name in names)
        result = builder.call(_fused_recurrent, node.op_type, x, parameters, initial_h, initial_c, direction,
                              int(node.attrs.get("layout", 0)))
        return [builder.call(operator.getitem, result, index) for index in range(len(node.outputs))]
    weight, recurrent, bias = (builder.tensor(name) for name in names)
    result = builder.call(_recurrent, node.op_type, x, weight, recurrent, bias, lengths, initial_h, initial_c,
                          peephole, _activations(node, defaults, directions), direction,
                          float(clip) if clip is not None else None, int(node.attrs.get("linear_before_reset", 0)),
                          int(node.attrs.get("layout", 0)))
    return [builder.call(operator.getitem, result, index) for index in range(len(node.outputs))]


@REGISTRY.register("LSTM", 7, 14, 22)
def lstm(builder: Builder, node: Node):
    return _convert(builder, node, ["Sigmoid", "Tanh", "Tanh"])


@REGISTRY.register("GRU", 7, 14, 22)
def gru(builder: Builder, node: Node):
    return _convert(builder, node, ["Sigmoid", "Tanh"])


@REGISTRY.register("RNN", 7, 14, 22)
def rnn(builder: Builder, node: Node):
    return _convert(builder, node, ["Tanh"])
