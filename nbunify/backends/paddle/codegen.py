"""Spec -> idiomatic paddle source text: an nn.Layer mirroring the built model's hierarchy, without importing paddle.

Top-level layers are attributes called in ``forward``; what has no parameters and no paddle layer is
written inline there (``x.transpose([0, 2, 1])``, ``x.reshape([x.shape[0], 2, 4, 4])``, ``x.mean(axis=1)``),
and recurrent layers unpack their outputs as paddle code does (``x, _ = self.lstm_1(x)``). Blocks hold
``nn.Sequential`` branches of named entries, where the few helper classes of templates.py stand in.
"""

from __future__ import annotations

import keyword
from typing import Any

from nbunify.codegen import class_name
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError, Step
from nbunify.backends.paddle.arguments import after, feature_axis, output_activation
from nbunify.backends.paddle.calls import INDENT, Call, activation, assignment, constructor, recurrent, string
from nbunify.backends.paddle import templates
from nbunify.spec import layers as L

RECURRENT = (L.SimpleRNN, L.LSTM, L.GRU)


class _Writer:
    """Writes one spec's layers and blocks; remembers which helper classes and functions the text uses."""

    def __init__(self, spec: Sequential) -> None:
        self.steps = {step.layer.name: step for step in spec.steps}
        self.model_name = class_name(spec)
        self.helpers: set[str] = set()
        self.functional = False

    def helper(self, kind: str) -> str:
        """The class name of helper ``kind`` (``Concat`` ...), renamed when the model class is called the same."""
        self.helpers.add(kind)
        return kind if kind != self.model_name else f"{kind}Layer"

    def helper_texts(self) -> list[str]:
        return [text.replace("{name}", self.helper(kind)) for kind, text in templates.HELPERS.items()
                if kind in self.helpers]

    # -- the top level: attributes and forward -----------------------------------------------------------
    def top_level(self, item: Any, where: tuple[tuple, str]) -> tuple[Call | str | None, list[str]]:
        """(the attribute's constructor or None, forward statements) for a top-level ``item``."""
        call = f"self.{item.name}(x)"
        if isinstance(item, Block):
            return self.expression(item, where), [f"x = {call}"]
        step = self.steps[item.name]
        if isinstance(item, L.Reshape):
            return None, [f"x = x.reshape([x.shape[0], {', '.join(map(str, step.output_shape))}])"]
        if isinstance(item, L.Transpose):
            return None, ["x = x.transpose([0, 2, 1])"]
        if isinstance(item, L.GlobalAvgPool1d) and step.input_layout == "sequence":
            return None, ["x = x.mean(axis=1)"]
        if isinstance(item, RECURRENT):
            return constructor(item, step), _recurrent_forward(item, call)
        if isinstance(item, L.MultiHeadAttention):
            return constructor(item, step), [f"x = self.{item.name}(x, x, x)"]
        if isinstance(item, (L.GlobalAvgPool1d, L.GlobalAvgPool2d)):
            call = f"paddle.flatten({call}, start_axis=1)"
        function = output_activation(item)
        if function is not None:
            self.functional = True
            call = templates.FUNCTIONS[function].format(x=call, axis=feature_axis(step.output_layout))
        return constructor(item, step), [f"x = {call}"]

    # -- blocks and their branches -------------------------------------------------------------------------
    def expression(self, item: Any, where: tuple[tuple, str]) -> Call | str:
        """The layer or block object built for ``item`` (a top-level attribute or a named Sequential entry)."""
        if isinstance(item, Residual):
            shortcut = {"shortcut": self.branch(item.shortcut, where)} if item.shortcut else {}
            return Call(self.helper("Residual"), body=self.branch(item.layers, where), **shortcut)
        if isinstance(item, Concat):
            axis = feature_axis(after([item], self.steps, *where)[1])
            return Call(self.helper("Concat"), *(self.branch(branch, where) for branch in item.branches()),
                        **({} if axis == 1 else {"axis": axis}))
        if isinstance(item, Block):
            raise SpecError(f"paddle: block {item.name!r} ({item.KIND}) has no paddle source; "
                            f"use residual or concat blocks")
        return self.entry(item, self.steps[item.name])

    def entry(self, item: Any, step: Step) -> Call | str:
        """A layer as one-tensor paddle layer, as a Sequential entry needs it."""
        if isinstance(item, L.Reshape):
            target = list(step.output_shape)
            return Call("nn.Unflatten", 1, target) if step.input_layout == "vector" else Call(self.helper("Reshape"), target)
        if isinstance(item, L.Transpose):
            return Call(self.helper("Transpose"))
        if isinstance(item, L.GlobalAvgPool1d) and step.input_layout == "sequence":
            return Call(self.helper("Mean"), axis=1)
        if isinstance(item, RECURRENT):
            flag = {"return_sequences": True} if item.return_sequences else {}
            return recurrent(item, step, self.helper(type(item).__name__), **flag)
        return constructor(item, step)

    def branch(self, items: list, where: tuple[tuple, str]) -> Call:
        """A block's branch as the built model holds it: an nn.Sequential of named entries, or nn.Identity."""
        if not items:
            return Call("nn.Identity")
        entries = []
        for item in items:
            entries.append(Call("", string(item.name), self.expression(item, where)))
            function = output_activation(item)
            if function is not None:  # the built model's child '<layer>_<activation>'
                layout = self.steps[item.name].output_layout
                entries.append(Call("", string(f"{item.name}_{function}"), activation(function, layout)))
            if isinstance(item, (L.GlobalAvgPool1d, L.GlobalAvgPool2d)) and self.steps[item.name].input_layout == "map":
                entries.append(Call("", string(f"{item.name}_flatten"), Call("nn.Flatten")))
            where = after([item], self.steps, *where)
        return Call("nn.Sequential", *entries)


def _recurrent_forward(item: Any, call: str) -> list[str]:
    if item.return_sequences:
        return [f"x, _ = {call}"]
    last = "paddle.concat([h[-2], h[-1]], axis=-1)" if item.bidirectional else "h[-1]"
    return [f"_, {'(h, _)' if isinstance(item, L.LSTM) else 'h'} = {call}", f"x = {last}"]


def generate(spec: Sequential) -> str:
    """The source of a paddle ``nn.Layer`` computing ``spec``, with a runnable ``__main__`` demo."""
    if not isinstance(spec, Sequential):
        raise TypeError(f"the paddle code generator needs a spec (nu.Sequential), got {type(spec).__name__}")
    writer = _Writer(spec)
    attributes: list[str] = []
    forward: list[str] = []
    where = (spec.input_shape, spec.input_layout)
    for item in spec.layers:
        if not item.name.isidentifier() or keyword.iskeyword(item.name):
            raise SpecError(f"paddle: layer {item.name!r} cannot be an attribute in paddle source; give it a "
                            f"name of letters, digits and underscores that is not a Python keyword")
        attribute, statements = writer.top_level(item, where)
        if attribute is not None:
            attributes += assignment(f"self.{item.name}", attribute, 2 * INDENT)
        where = after([item], writer.steps, *where)
        forward += [f"{2 * INDENT}{line}" for line in statements[:-1]]
        forward.append(_comment(f"{2 * INDENT}{statements[-1]}", where[0]))
    name = writer.model_name
    imports = ["import paddle", *(["import paddle.nn.functional as F"] if writer.functional else []),
               "from paddle import nn"]
    model = [
        f"class {name}(nn.Layer):",
        f'{INDENT}"""{spec.name}: input {_describe(spec.input_shape, spec.input_layout)} -> '
        f'output {_describe(spec.output_shape, spec.output_layout)}."""',
        "",
        f"{INDENT}def __init__(self):",
        f"{2 * INDENT}super().__init__()",
        *attributes,
        "",
        f"{INDENT}def forward(self, x):",
        *forward,
        f"{2 * INDENT}return x",
    ]
    main = [
        'if __name__ == "__main__":',
        f"{INDENT}model = {name}()",
        f"{INDENT}model.eval()",
        f"{INDENT}outputs = model({_example_input(spec)})",
        f"{INDENT}print(outputs.shape)",
    ]
    header = [f"# {spec.name} in PaddlePaddle, generated by nbunify from its spec.", *imports]
    sections = ["\n".join(header), *(text.rstrip("\n") for text in writer.helper_texts()), "\n".join(model), "\n".join(main)]
    return "\n\n\n".join(sections) + "\n"


def _example_input(spec: Sequential) -> str:
    shape = ", ".join(map(str, (2, *spec.input_shape)))
    if spec.input_layout == "tokens":
        vocabulary = next(step.layer.num_embeddings for step in spec.steps if step.input_layout == "tokens")
        return f"paddle.randint(0, {vocabulary}, [{shape}])"
    return f"paddle.randn([{shape}])"


def _comment(line: str, shape: tuple) -> str:
    """``line`` with the output shape as a trailing comment, when it fits."""
    commented = f"{line}  # [N, {', '.join(map(str, shape))}]"
    return commented if len(commented) <= 100 else line


def _describe(shape: tuple, layout: str) -> str:
    dimensions = "x".join(map(str, shape))
    return f"{dimensions} token ids" if layout == "tokens" else dimensions
