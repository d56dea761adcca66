"""Small paddle layers the spec needs beyond paddle.nn: blocks, shape moves, and RNNs that return one tensor."""

from __future__ import annotations

from nbunify.frameworks import load

paddle = load("paddle")
nn = paddle.nn


class Residual(nn.Layer):
    """``body(x) + shortcut(x)``; ``shortcut`` is ``nn.Identity`` when the spec gives no shortcut layers."""

    def __init__(self, body: nn.Layer, shortcut: nn.Layer | None = None) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class Concat(nn.Layer):
    """Run parallel ``branches`` on the same input and concatenate their outputs on ``axis`` (the feature axis:
    1 for maps and vectors, -1 for sequences)."""

    def __init__(self, branches: list[nn.Layer], axis: int = 1) -> None:
        super().__init__()
        self.branches = nn.LayerList(branches)
        self.axis = axis

    def forward(self, x):
        return paddle.concat([branch(x) for branch in self.branches], axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Reshape(nn.Layer):
    """``x.reshape([batch, *shape])``: a row-major reshape of each sample (nn.Unflatten covers a vector input)."""

    def __init__(self, shape: list[int]) -> None:
        super().__init__()
        self.shape = list(shape)

    def forward(self, x):
        return x.reshape([x.shape[0], *self.shape])

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Transpose(nn.Layer):
    """Swap a sample's two axes: (N, L, E) sequences <-> (N, C, L) maps, as ``x.transpose([0, 2, 1])``."""

    def forward(self, x):
        return x.transpose([0, 2, 1])


class Mean(nn.Layer):
    """The mean over one ``axis`` (``axis=1``: a sequence's steps, for a global average of (N, L, E))."""

    def __init__(self, axis: int) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return x.mean(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class _OneOutput:
    """For paddle's RNNs in an nn.Sequential: return every step's output (``return_sequences``) or the last
    hidden state, forward and backward concatenated (``h[-2] | h[-1]``) when bidirectional."""

    def __init__(self, *args, return_sequences: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.return_sequences = return_sequences

    def forward(self, x):
        outputs, states = super().forward(x)
        if self.return_sequences:
            return outputs
        h = states[0] if isinstance(states, (tuple, list)) else states  # an LSTM's state is (h, c)
        return paddle.concat([h[-2], h[-1]], axis=-1) if self.num_directions == 2 else h[-1]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, return_sequences={self.return_sequences}"


class SimpleRNN(_OneOutput, nn.SimpleRNN):
    """``nn.SimpleRNN`` returning one tensor: the output sequence or the last hidden state."""


class LSTM(_OneOutput, nn.LSTM):
    """``nn.LSTM`` returning one tensor: the output sequence or the last hidden state."""


class GRU(_OneOutput, nn.GRU):
    """``nn.GRU`` returning one tensor: the output sequence or the last hidden state."""
