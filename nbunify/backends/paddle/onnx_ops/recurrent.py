"""Recurrent converters: LSTM, GRU and RNN with ONNX's gate orders (iofc, zrh), directions and layouts; paddle's
fused kernel where it computes the node (recurrent_kernel), step by step otherwise."""

from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F

from nbunify.backends.paddle.onnx_ops.common import REGISTRY
from nbunify.backends.paddle.onnx_ops.recurrent_kernel import fusion


def _activation(name, alpha, beta):
    """An ONNX recurrent activation by name, with its optional alpha/beta."""
    name = name.decode() if isinstance(name, bytes) else name  # schema defaults arrive as bytes
    table = {
        "Sigmoid": F.sigmoid, "Tanh": paddle.tanh, "Relu": F.relu,
        "LeakyRelu": lambda tensor: F.leaky_relu(tensor, 0.01 if alpha is None else alpha),
        "ThresholdedRelu": lambda tensor: paddle.where(tensor > (1.0 if alpha is None else alpha), tensor,
                                                       paddle.zeros_like(tensor)),
        "ScaledTanh": lambda tensor: (1.0 if alpha is None else alpha) * paddle.tanh((1.0 if beta is None else beta)
                                                                                      * tensor),
        "HardSigmoid": lambda tensor: paddle.clip((0.2 if alpha is None else alpha) * tensor
                                                  + (0.5 if beta is None else beta), 0.0, 1.0),
        "Elu": lambda tensor: F.elu(tensor, 1.0 if alpha is None else alpha),
        "Softsign": F.softsign, "Softplus": F.softplus,
        "Affine": lambda tensor: (1.0 if alpha is None else alpha) * tensor + (0.0 if beta is None else beta),
    }
    for key, function in table.items():
        if key.lower() == name.lower():
            return function
    raise NotImplementedError(f"recurrent activation {name!r} is not supported")


class Recurrence:
    """The settings an ONNX recurrent node shares: directions, activations per direction, layout, clip."""

    def __init__(self, node, defaults):
        attrs = node.attrs
        self.direction = attrs.get("direction", "forward")
        self.directions = 2 if self.direction == "bidirectional" else 1
        self.hidden = int(attrs["hidden_size"])
        self.layout = int(attrs.get("layout", 0))
        self.clip = attrs.get("clip")
        names = list(attrs.get("activations") or defaults * self.directions)
        alphas, betas = list(attrs.get("activation_alpha") or []), list(attrs.get("activation_beta") or [])
        functions = [_activation(name, alphas[index] if index < len(alphas) else None,
                                 betas[index] if index < len(betas) else None) for index, name in enumerate(names)]
        count = len(defaults)
        self.default_activations = (not alphas and not betas and [name.decode() if isinstance(name, bytes) else name
                                                                  for name in names] == defaults * self.directions)
        self.activations = [functions[index * count:(index + 1) * count] for index in range(self.directions)]
        self.outputs = [bool(name) for name in node.outputs]

    def clipped(self, tensor):
        return tensor if self.clip is None else paddle.clip(tensor, -float(self.clip), float(self.clip))

    def sequence_first(self, tensor):
        return tensor.transpose([1, 0, 2]) if self.layout == 1 else tensor

    def initial(self, state, batch, dtype):
        if state is None:
            return [paddle.zeros([batch, self.hidden], dtype) for _ in range(self.directions)]
        state = state.transpose([1, 0, 2]) if self.layout == 1 else state
        return [state[index] for index in range(self.directions)]

    def run(self, inputs, step, states, lengths=None):
        """Every direction over the sequence; returns Y and the final states, in ONNX's layout.

        With ``lengths`` (sequence_lens), a batch row stops at its length: its later outputs are zeros and its
        final state is the one at its last step (a reverse pass starts at that step)."""
        length = inputs.shape[0]
        masks = None
        if lengths is not None and not bool((lengths == length).all()):
            masks = [(lengths > time).reshape([-1, 1]) for time in range(length)]
        sequences, finals = [], []
        for direction in range(self.directions):
            reverse = self.direction == "reverse" or direction == 1
            order = range(length - 1, -1, -1) if reverse else range(length)
            state = [item[direction] for item in states]
            outputs = [None] * length
            for time in order:
                new = step(direction, inputs[time], state)
                if masks is not None:
                    new = tuple(paddle.where(masks[time], item, old) for item, old in zip(new, state))
                    outputs[time] = paddle.where(masks[time], new[0], paddle.zeros_like(new[0]))
                else:
                    outputs[time] = new[0]
                state = new
            sequences.append(paddle.stack(outputs, 0))
            finals.append(state)
        hidden_sequence = paddle.stack(sequences, 1)  # [seq, directions, batch, hidden]
        final = [paddle.stack([state[index] for state in finals], 0) for index in range(len(finals[0]))]
        if self.layout == 1:
            hidden_sequence = hidden_sequence.transpose([2, 0, 1, 3])
            final = [item.transpose([1, 0, 2]) for item in final]
        return (hidden_sequence, *final)


def _biases(bias, gates, hidden, directions, dtype):
    if bias is None:
        zeros = paddle.zeros([directions, gates * hidden], dtype)
        return zeros, zeros
    return bias[:, :gates * hidden], bias[:, gates * hidden:]


@REGISTRY.register("LSTM", 7, 14, 22)
def lstm(node, context):
    settings = Recurrence(node, ["Sigmoid", "Tanh", "Tanh"])
    hidden, coupled = settings.hidden, bool(node.attrs.get("input_forget", 0))
    peephole_name = node.input(7)
    no_peephole = not peephole_name or (context.is_static(peephole_name) and not np.any(context.graph.value(
        peephole_name)))
    can_fuse = settings.default_activations and settings.clip is None and not coupled and no_peephole
    compute = fusion("LSTM", settings, node, context, can_fuse)

    def run(inputs, weight, recurrence, bias=None, lengths=None, initial_h=None, initial_c=None, peephole=None,
            *prepared):
        inputs = settings.sequence_first(inputs)
        result, (weight, recurrence, bias) = compute(inputs, weight, recurrence, bias, lengths,
                                                     [initial_h, initial_c], prepared)
        if result is not None:
            return result
        batch = inputs.shape[1]
        input_bias, recurrent_bias = _biases(bias, 4, hidden, settings.directions, inputs.dtype)
        projected = [paddle.matmul(inputs, weight[index], transpose_y=True) + input_bias[index] + recurrent_bias[index]
                     for index in range(settings.directions)]
        projected = paddle.stack(projected, 1)  # [seq, directions, batch, 4 * hidden]

        def step(direction, gates_in, state):
            previous_h, previous_c = state
            gates = gates_in[direction] + paddle.matmul(previous_h, recurrence[direction], transpose_y=True)
            input_gate, output_gate, forget_gate, cell_gate = paddle.split(gates, 4, axis=-1)
            first, second, third = settings.activations[direction]
            if peephole is not None:
                input_gate = input_gate + peephole[direction, :hidden] * previous_c
                forget_gate = forget_gate + peephole[direction, 2 * hidden:] * previous_c
            input_gate = first(settings.clipped(input_gate))
            forget_gate = 1 - input_gate if coupled else first(settings.clipped(forget_gate))
            cell = forget_gate * previous_c + input_gate * second(settings.clipped(cell_gate))
            if peephole is not None:
                output_gate = output_gate + peephole[direction, hidden:2 * hidden] * cell
            output = first(settings.clipped(output_gate)) * third(cell)
            return output, cell

        states = [settings.initial(initial_h, batch, inputs.dtype), settings.initial(initial_c, batch, inputs.dtype)]
        return settings.run(projected, step, states, lengths)

    return run


@REGISTRY.register("GRU", 7, 14, 22)
def gru(node, context):
    settings = Recurrence(node, ["Sigmoid", "Tanh"])
    hidden, linear_before_reset = settings.hidden, bool(node.attrs.get("linear_before_reset", 0))
    # paddle's GRU kernel applies the reset gate after the recurrent product (ONNX's linear_before_reset=1)
    can_fuse = settings.default_activations and settings.clip is None and linear_before_reset

    compute = fusion("GRU", settings, node, context, can_fuse)

    def run(inputs, weight, recurrence, bias=None, lengths=None, initial_h=None, *prepared):
        inputs = settings.sequence_first(inputs)
        result, (weight, recurrence, bias) = compute(inputs, weight, recurrence, bias, lengths, [initial_h], prepared)
        if result is not None:
            return result
        batch = inputs.shape[1]
        input_bias, recurrent_bias = _biases(bias, 3, hidden, settings.directions, inputs.dtype)
        projected = paddle.stack([paddle.matmul(inputs, weight[index], transpose_y=True) + input_bias[index]
                                  for index in range(settings.directions)], 1)

        def step(direction, gates_in, state):
            (previous,) = state
            first, second = settings.activations[direction]
            update_in, reset_in, candidate_in = paddle.split(gates_in[direction], 3, axis=-1)
            weights = recurrence[direction]
            biases = recurrent_bias[direction]
            update = first(settings.clipped(update_in + paddle.matmul(previous, weights[:hidden], transpose_y=True)
                                            + biases[:hidden]))
            reset = first(settings.clipped(reset_in + paddle.matmul(previous, weights[hidden:2 * hidden],
                                                                    transpose_y=True) + biases[hidden:2 * hidden]))
            if linear_before_reset:
                recurrent = reset * (paddle.matmul(previous, weights[2 * hidden:], transpose_y=True)
                                     + biases[2 * hidden:])
            else:
                recurrent = (paddle.matmul(reset * previous, weights[2 * hidden:], transpose_y=True)
                             + biases[2 * hidden:])
            candidate = second(settings.clipped(candidate_in + recurrent))
            return ((1 - update) * candidate + update * previous,)

        return settings.run(projected, step, [settings.initial(initial_h, batch, inputs.dtype)], lengths)

    return run


@REGISTRY.register("RNN", 7, 14, 22)
def rnn(node, context):
    settings = Recurrence(node, ["Tanh"])
    can_fuse = settings.default_activations and settings.clip is None

    compute = fusion("RNN", settings, node, context, can_fuse)

    def run(inputs, weight, recurrence, bias=None, lengths=None, initial_h=None, *prepared):
        inputs = settings.sequence_first(inputs)
        result, (weight, recurrence, bias) = compute(inputs, weight, recurrence, bias, lengths, [initial_h], prepared)
        if result is not None:
            return result
        batch = inputs.shape[1]
        input_bias, recurrent_bias = _biases(bias, 1, settings.hidden, settings.directions, inputs.dtype)
        projected = paddle.stack([paddle.matmul(inputs, weight[index], transpose_y=True) + input_bias[index]
                                  + recurrent_bias[index] for index in range(settings.directions)], 1)

        def step(direction, gates_in, state):
            (activation,) = settings.activations[direction]
            total = gates_in[direction] + paddle.matmul(state[0], recurrence[direction], transpose_y=True)
            return (activation(settings.clipped(total)),)

        return settings.run(projected, step, [settings.initial(initial_h, batch, inputs.dtype)], lengths)

    return run
