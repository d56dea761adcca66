"""Text the paddle code generator writes as is: activations (inside forward and as layers) and helper classes.

Helper classes make one-tensor layers of what forward writes inline at the top level
(``x.transpose([0, 2, 1])``, ``x, _ = self.lstm_1(x)``), for layers inside residual/concat blocks, which
are ``nn.Sequential`` entries. They mirror nbunify/backends/paddle/layers.py (same state_dict keys).
Each template has a ``{name}`` (renamed when the model class takes the name) and is emitted only when used.
"""

from __future__ import annotations

from nbunify.spec import layers as L

# Written out even where they are paddle's defaults: torch and keras disagree on these numbers, so a
# reader comparing the three generated sources sees the same value in each.
FUNCTIONS = {
    "relu": "F.relu({x})",
    "leaky_relu": f"F.leaky_relu({{x}}, negative_slope={L.LEAKY_RELU_SLOPE})",
    "gelu": "F.gelu({x}, approximate=False)",
    "silu": "F.silu({x})",
    "tanh": "F.tanh({x})",
    "sigmoid": "F.sigmoid({x})",
    "softmax": "F.softmax({x}, axis={axis})",
}
LAYERS = {
    "relu": "nn.ReLU()",
    "leaky_relu": f"nn.LeakyReLU(negative_slope={L.LEAKY_RELU_SLOPE})",
    "gelu": "nn.GELU(approximate=False)",
    "silu": "nn.Silu()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "softmax": "nn.Softmax(axis={axis})",
}

RESIDUAL = '''class {name}(nn.Layer):
    """body(x) + shortcut(x); the shortcut is the identity unless given."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x):
        return self.body(x) + self.shortcut(x)
'''

CONCAT = '''class {name}(nn.Layer):
    """Run parallel branches on the same input and concatenate their outputs on the feature axis
    (1: a map's channels or a vector's features; -1: a sequence's features)."""

    def __init__(self, *branches, axis=1):
        super().__init__()
        self.branches = nn.LayerList(list(branches))
        self.axis = axis

    def forward(self, x):
        return paddle.concat([branch(x) for branch in self.branches], axis=self.axis)
'''

RESHAPE = '''class {name}(nn.Layer):
    """Reshape each sample (row-major) to shape."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape([x.shape[0], *self.shape])
'''

TRANSPOSE = '''class {name}(nn.Layer):
    """Swap a sample's two axes: (N, L, E) sequences <-> (N, C, L) maps."""

    def forward(self, x):
        return x.transpose([0, 2, 1])
'''

MEAN = '''class {name}(nn.Layer):
    """The mean over one axis (axis=1 averages a sequence's steps)."""

    def __init__(self, axis):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return x.mean(axis=self.axis)
'''

RECURRENT = '''class {name}(nn.{kind}):
    """nn.{kind} returning one tensor: the outputs, or each direction's last hidden state."""

    def __init__(self, *args, return_sequences=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.return_sequences = return_sequences

    def forward(self, x):
        outputs, {state} = super().forward(x)
        if self.return_sequences:
            return outputs
        return paddle.concat([h[-2], h[-1]], axis=-1) if self.num_directions == 2 else h[-1]
'''


def recurrent(kind: str) -> str:
    """The helper class text for paddle's ``nn.SimpleRNN``, ``nn.LSTM`` or ``nn.GRU``."""
    state = "(h, _)" if kind == "LSTM" else "h"
    return RECURRENT.replace("{kind}", kind).replace("{state}", state)


#: helper class name -> its text, in the order they are written
HELPERS = {
    "Residual": RESIDUAL,
    "Concat": CONCAT,
    "Reshape": RESHAPE,
    "Transpose": TRANSPOSE,
    "Mean": MEAN,
    "SimpleRNN": recurrent("SimpleRNN"),
    "LSTM": recurrent("LSTM"),
    "GRU": recurrent("GRU"),
}
