"""Recurrent ONNX ops: LSTM (gates i, o, f, c), GRU (z, r, h) and RNN, with ONNX's layouts, directions and masks."""

from __future__ import annotations

from typing import Any

from nbunify.backends.keras.onnx_import import REGISTRY, Context, SettingsLayer, keras, tf

#: ONNX activation name -> (function of (tensor, alpha, beta), how many of alpha/beta it consumes).
_ACTIVATIONS = {
    "sigmoid": (lambda x, a, b: tf.sigmoid(x), 0), "tanh": (lambda x, a, b: tf.tanh(x), 0),
    "relu": (lambda x, a, b: tf.nn.relu(x), 0), "affine": (lambda x, a, b: a * x + b, 2),
    "leakyrelu": (lambda x, a, b: tf.where(x >= 0, x, a * x), 1),
    "thresholdedrelu": (lambda x, a, b: tf.where(x > a, x, tf.zeros_like(x)), 1),
    "scaledtanh": (lambda x, a, b: a * tf.tanh(b * x), 2),
    "hardsigmoid": (lambda x, a, b: tf.clip_by_value(a * x + b, 0, 1), 2),
    "elu": (lambda x, a, b: tf.where(x >= 0, x, a * (tf.exp(x) - 1)), 1),
    "softsign": (lambda x, a, b: x / (1 + tf.abs(x)), 0), "softplus": (lambda x, a, b: tf.nn.softplus(x), 0),
}
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}
_INPUTS = ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P")


def _activation_functions(settings: dict) -> list[Any]:
    """One callable per activation name, each with its alpha/beta taken in order from the attribute lists."""
    alphas, betas = list(settings["alphas"]), list(settings["betas"])
    functions = []
    for name in settings["activations"]:
        function, count = _ACTIVATIONS[name.lower()]
        alpha = alphas.pop(0) if count >= 1 and alphas else 0.01 if name.lower() == "leakyrelu" else 1.0
        beta = betas.pop(0) if count >= 2 and betas else 0.0
        functions.append(lambda x, function=function, alpha=alpha, beta=beta: function(x, alpha, beta))
    return functions


@keras.saving.register_keras_serializable(package="nbunify")
class Recurrent(SettingsLayer):
    """ONNX LSTM, GRU or RNN; weights come in as tensors (trainable OnnxWeight outputs for initializers)."""

    def call(self, x, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None, P=None):
        settings = self.settings
        op, hidden = settings["op"], settings["hidden"]
        if settings["layout"]:
            x = tf.transpose(x, [1, 0, 2])
            initial_h = None if initial_h is None else tf.transpose(initial_h, [1, 0, 2])
            initial_c = None if initial_c is None else tf.transpose(initial_c, [1, 0, 2])
        steps, batch = tf.shape(x)[0], tf.shape(x)[1]
        lengths = None if sequence_lens is None else tf.cast(sequence_lens, tf.int32)
        mask = None if lengths is None else tf.transpose(tf.sequence_mask(lengths, steps))[:, :, None]
        functions = _activation_functions(settings)
        per_direction = len(_DEFAULT_ACTIVATIONS[op])
        outputs, final_h, final_c = [], [], []
        for direction, reverse in enumerate(settings["reverse"]):
            activations = functions[direction * per_direction:(direction + 1) * per_direction]
            sequence = x
            if reverse:
                sequence = tf.reverse(x, [0]) if lengths is None else tf.reverse_sequence(x, lengths, 0, 1)
            gates = _GATES[op] * hidden
            bias = tf.zeros([2 * gates], x.dtype) if B is None else B[direction]
            projected = tf.einsum("tbi,gi->tbg", sequence, W[direction]) + bias[:gates]
            state_h = tf.zeros([batch, hidden], x.dtype) if initial_h is None else initial_h[direction]
            state_c = tf.zeros([batch, hidden], x.dtype) if initial_c is None else initial_c[direction]
            peephole = None if P is None else P[direction]
            recurrence, recurrent_bias = tf.transpose(R[direction]), bias[gates:]  # (hidden, gates): h @ recurrence
            if op == "GRU" and not settings["linear_before_reset"]:  # split once, outside the loop: (z, r) and h
                recurrence = (recurrence[:, :2 * hidden], recurrence[:, 2 * hidden:])
                recurrent_bias = (recurrent_bias[:2 * hidden], recurrent_bias[2 * hidden:])

            def step(carry, inputs, activations=activations, recurrence=recurrence, recurrent_bias=recurrent_bias,
                     peephole=peephole):
                h, c, _ = carry
                projection, valid = inputs
                new_h, new_c = self._cell(projection, h, c, recurrence, recurrent_bias, peephole, activations)
                return (tf.where(valid, new_h, h), tf.where(valid, new_c, c), tf.where(valid, new_h, tf.zeros_like(h)))

            def unmasked_step(carry, projection, activations=activations, recurrence=recurrence,
                              recurrent_bias=recurrent_bias, peephole=peephole):
                return self._cell(projection, *carry, recurrence, recurrent_bias, peephole, activations)

            if lengths is None:  # every step valid: the states are the outputs (no per-step select)
                states = tf.scan(unmasked_step, projected, initializer=(state_h, state_c))
                states = (states[0], states[1], states[0])
            else:
                states = tf.scan(step, (projected, mask), initializer=(state_h, state_c, tf.zeros_like(state_h)))
            output = states[2]
            if reverse:
                output = tf.reverse(output, [0]) if lengths is None else tf.reverse_sequence(output, lengths, 0, 1)
            outputs.append(output)
            # masked steps carry the state unchanged (reversed sequences are left-aligned), so the last is final
            final_h.append(states[0][-1])
            final_c.append(states[1][-1])
        y, y_h, y_c = tf.stack(outputs, 1), tf.stack(final_h, 0), tf.stack(final_c, 0)
        if settings["layout"]:
            y, y_h, y_c = tf.transpose(y, [2, 0, 1, 3]), tf.transpose(y_h, [1, 0, 2]), tf.transpose(y_c, [1, 0, 2])
        return (y, y_h, y_c) if op == "LSTM" else (y, y_h)

    def _cell(self, projection, h, c, recurrence, recurrent_bias, peephole, activations):
        settings, hidden = self.settings, self.settings["hidden"]
        clip = settings.get("clip")

        def clipped(value):
            return value if clip is None else tf.clip_by_value(value, -clip, clip)

        op = settings["op"]
        if op == "RNN":
            return activations[0](clipped(projection + tf.matmul(h, recurrence) + recurrent_bias)), c
        if op == "GRU" and settings["linear_before_reset"]:  # one matmul for the three gates
            total = tf.matmul(h, recurrence) + recurrent_bias
            z, r = tf.split(activations[0](clipped(projection[:, :2 * hidden] + total[:, :2 * hidden])), 2, axis=1)
            candidate = activations[1](clipped(projection[:, 2 * hidden:] + r * total[:, 2 * hidden:]))
            return (1 - z) * candidate + z * h, c
        if op == "GRU":
            (gate_recurrence, hidden_recurrence), (gate_bias, hidden_bias) = recurrence, recurrent_bias
            z_r = projection[:, :2 * hidden] + tf.matmul(h, gate_recurrence) + gate_bias
            z, r = tf.split(activations[0](clipped(z_r)), 2, axis=1)
            candidate = activations[1](clipped(projection[:, 2 * hidden:] + tf.matmul(r * h, hidden_recurrence)
                                               + hidden_bias))
            return (1 - z) * candidate + z * h, c
        total = projection + tf.matmul(h, recurrence) + recurrent_bias
        i, o, f, g = tf.split(total, 4, axis=1)
        if peephole is not None:
            i = i + peephole[:hidden] * c
            f = f + peephole[2 * hidden:] * c
        i = activations[0](clipped(i))
        f = 1 - i if settings["input_forget"] else activations[0](clipped(f))
        new_c = f * c + i * activations[1](clipped(g))
        if peephole is not None:
            o = o + peephole[hidden:2 * hidden] * new_c
        o = activations[0](clipped(o))
        return o * activations[2](new_c), new_c


def _convert(context: Context, node: Any) -> Any:
    op = node.op_type
    direction = node.attrs.get("direction", "forward")
    reverse = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[direction]
    activations = [name.decode() if isinstance(name, bytes) else name  # schema defaults arrive as bytes
                   for name in node.attrs.get("activations") or _DEFAULT_ACTIVATIONS[op] * len(reverse)]
    settings = {"op": op, "hidden": node.attrs["hidden_size"], "reverse": reverse, "activations": list(activations),
                "alphas": list(node.attrs.get("activation_alpha") or []),
                "betas": list(node.attrs.get("activation_beta") or []), "clip": node.attrs.get("clip"),
                "layout": node.attrs.get("layout", 0), "input_forget": node.attrs.get("input_forget", 0),
                "linear_before_reset": node.attrs.get("linear_before_reset", 0)}
    arguments = {}
    for index, name in enumerate(node.inputs):
        if name and index < len(_INPUTS):
            arguments[_INPUTS[index]] = context.symbolic(name)
    x = arguments.pop("X")
    results = Recurrent(settings, name=context.layer_name(node.name or op))(
        x, arguments.pop("W"), arguments.pop("R"), **{key: value for key, value in arguments.items()})
    return list(results)


REGISTRY.register("LSTM", 7, 14, 22)(_convert)
REGISTRY.register("GRU", 7, 14, 22)(_convert)
REGISTRY.register("RNN", 7, 14, 22)(_convert)
