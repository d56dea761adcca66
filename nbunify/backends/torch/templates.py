"""Text the torch code generator writes as is: activations (inline and as modules) and helper classes."""

from __future__ import annotations

from nbunify.spec import layers as L

SLOPE = "" if L.LEAKY_RELU_SLOPE == 0.01 else repr(L.LEAKY_RELU_SLOPE)  # 0.01 is torch's default

# Activations as torch writes them inside forward ({F}: the torch.nn.functional alias) and as modules.
FUNCTIONS = {"relu": "{F}.relu({x})", "leaky_relu": "{F}.leaky_relu({x}" + (SLOPE and ", " + SLOPE) + ")",
             "gelu": "{F}.gelu({x})", "silu": "{F}.silu({x})", "tanh": "torch.tanh({x})",
             "sigmoid": "torch.sigmoid({x})", "softmax": "{F}.softmax({x}, dim={dim})"}
MODULES = {"relu": "nn.ReLU()", "leaky_relu": f"nn.LeakyReLU({SLOPE})", "gelu": "nn.GELU()", "silu": "nn.SiLU()",
           "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()", "softmax": "nn.Softmax(dim={dim})"}

RESIDUAL = '''class {name}(nn.Module):
    """body(x) + shortcut(x); the shortcut is the identity unless given."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = nn.Identity() if shortcut is None else shortcut

    def forward(self, x):
        return self.body(x) + self.shortcut(x)
'''

CONCAT = '''class {name}(nn.Module):
    """The outputs of parallel branches, concatenated along the channels."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)
'''

# when some concat joins sequences on their last axis
CONCAT_DIM = '''class {name}(nn.Module):
    """The outputs of parallel branches, concatenated along dim (1: channels, -1: features last)."""

    def __init__(self, *branches, dim=1):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.dim = dim

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=self.dim)
'''

TRANSPOSE = '''class {name}(nn.Module):
    """x.transpose(1, 2) as a module: a (N, L, E) sequence <-> a (N, C, L) map."""

    def forward(self, x):
        return x.transpose(1, 2)
'''

RESHAPE = '''class {name}(nn.Module):
    """x.reshape(N, *shape) as a module."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)
'''

MEAN = '''class {name}(nn.Module):
    """x.mean(dim) as a module: dim=1 averages the steps of a (N, L, E) sequence."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.mean(dim=self.dim)
'''

RECURRENT = '''class {name}(nn.{base}):
    """nn.{base} as one module: the output sequence, or the last hidden state of each direction."""

    def __init__(self, *args, return_sequences=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.return_sequences = return_sequences

    def forward(self, x):
        output, {state} = super().forward(x)
        if self.return_sequences:
            return output
        return torch.cat([h[-2], h[-1]], dim=1) if self.bidirectional else h[-1]
'''

SELF_ATTENTION = '''class {name}(nn.MultiheadAttention):
    """Self-attention as one module: query = key = value = x; the attention output only."""

    def forward(self, x):
        return super().forward(x, x, x, need_weights=False)[0]
'''

#: helper name -> its class text, ``{name}`` to fill (renamed when the model class takes the name). The helpers
#: make one-tensor modules of what forward writes inline (``x.transpose(1, 2)``, ``x, _ = self.lstm_1(x)``), for
#: layers inside residual/concat blocks, which are ``nn.Sequential`` children; each is emitted only when used.
HELPERS = {
    "Residual": RESIDUAL,
    "Concat": CONCAT,
    "Transpose": TRANSPOSE,
    "Reshape": RESHAPE,
    "Mean": MEAN,
    "LSTM": RECURRENT.replace("{base}", "LSTM").replace("{state}", "(h, _)"),
    "GRU": RECURRENT.replace("{base}", "GRU").replace("{state}", "h"),
    "RNN": RECURRENT.replace("{base}", "RNN").replace("{state}", "h"),
    "SelfAttention": SELF_ATTENTION,
}
