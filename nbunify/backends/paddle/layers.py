"""Small paddle layers for the spec's blocks: a residual add and a channel concatenation."""

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
    """Run parallel ``branches`` on the same input and concatenate their outputs on ``axis`` (channels)."""

    def __init__(self, branches: list[nn.Layer], axis: int = 1) -> None:
        super().__init__()
        self.branches = nn.LayerList(branches)
        self.axis = axis

    def forward(self, x):
        return paddle.concat([branch(x) for branch in self.branches], axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
