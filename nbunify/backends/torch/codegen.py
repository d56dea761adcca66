"""Write a spec as idiomatic torch source: an ``nn.Module`` whose attributes carry the spec's layer names."""

from __future__ import annotations

import json
import keyword
from typing import Any, Sequence

from nbunify.backends.torch.constructors import RECURRENT, activation_module, constructor
from nbunify.backends.torch.layout import block_output, feature_dim
from nbunify.backends.torch.source import INDENT, WIDTH, Group, Node, render, shape_comment, shape_text, value, wrap
from nbunify.backends.torch.templates import CONCAT_DIM, FUNCTIONS, HELPERS
from nbunify.codegen import class_name
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError, Step
from nbunify.spec import layers as L
from nbunify.spec.layers import Shape


def generate(spec: Sequential) -> str:
    """The torch source of ``spec``: imports, block helpers, the model class and a runnable ``__main__``."""
    return Writer(spec).module()


class Writer:
    """Writes one spec; remembers which imports and helper classes the text needs.

    At the top level, forward writes what a torch engineer writes inline (``x, _ = self.lstm_1(x)``,
    ``x = x.transpose(1, 2)``); inside residual/concat blocks every layer must be an ``nn.Sequential`` child,
    so the same steps become the small helper modules of ``templates.HELPERS`` (emitted only when used).
    """

    def __init__(self, spec: Sequential) -> None:
        self.spec = spec
        self.steps = {id(step.layer): step for step in spec.steps}
        self.model = class_name(spec)
        self.used: set[str] = set()
        self.concat_dims: set[int] = set()
        # The model class must not shadow a name the module itself uses.
        self.functional = "nn.functional" if self.model == "F" else "F"
        self.ordered_dict = "collections.OrderedDict" if self.model == "OrderedDict" else "OrderedDict"

    def helper(self, name: str) -> str:
        """The class name helper ``name`` has in this file (renamed if the model class takes it); marks it used."""
        self.used.add(name)
        return name if name != self.model else name + ("Block" if name in ("Residual", "Concat") else "Layer")

    def module(self) -> str:
        model = self.model_class()  # first: it records the imports and helpers it needs
        imports = []
        if "OrderedDict" in self.used:
            imports.append("import collections" if "." in self.ordered_dict else "from collections import OrderedDict")
            imports.append("")
        imports.append("import torch")
        if "F" in self.used and self.functional == "F":
            imports.append("import torch.nn.functional as F")
        imports.append("from torch import nn")
        helpers = [(CONCAT_DIM if name == "Concat" and -1 in self.concat_dims else text).format(name=self.helper(name))
                   for name, text in HELPERS.items() if name in self.used]
        tokens = " token ids" if self.spec.input_layout == "tokens" else ""
        shapes = f"{shape_text(self.spec.input_shape)}{tokens} -> {shape_text(self.spec.output_shape)}"
        docstring = f"{self.spec.name} as a PyTorch model, written by nbunify: {shapes}."
        docstring = '"""' + docstring.replace("\\", "\\\\").replace('"', '\\"') + '"""'
        main = (f'if __name__ == "__main__":\n    model = {self.model}().eval()\n'
                f"    x = {self.example_input()}\n    with torch.no_grad():\n"
                f"        print(model(x).shape)  # torch.Size({list((2, *self.spec.output_shape))})\n")
        head = docstring + "\n\n" + "\n".join(imports) + "\n"
        return "\n\n".join([head, *helpers, model, main])

    def example_input(self) -> str:
        batch = value((2, *self.spec.input_shape))
        if self.spec.input_layout != "tokens":
            return f"torch.randn{batch}"
        vocabulary = next(step.layer.num_embeddings for step in self.spec.steps if step.input_layout == "tokens")
        return f"torch.randint(0, {vocabulary}, {batch})"

    def model_class(self) -> str:
        attributes: list[str] = []
        forward: list[tuple[str, str]] = []  # (statement, trailing comment)
        shape, layout = self.spec.input_shape, self.spec.input_layout
        for item in self.spec.layers:
            if isinstance(item, Block):
                self.check_attribute(item.name)
                attributes += render(wrap(f"self.{item.name} = ", self.block(item, shape, layout)), 2)
                shape, layout = block_output(item, self.steps)
                forward.append((f"x = self.{item.name}(x)", shape_comment(shape)))
                continue
            step = self.steps[id(item)]
            attribute, statements = self.layer(item, step)
            if attribute is not None:
                self.check_attribute(item.name)
                attributes += render(wrap(f"self.{item.name} = ", attribute), 2)
            forward += statements
            shape, layout = step.output_shape, step.output_layout
        last, comment = forward[-1]
        if last.startswith("x = "):
            forward[-1] = ("return " + last.removeprefix("x = "), comment)
        else:  # x, _ = self.lstm_1(x)
            forward.append(("return x", ""))
        # a shape comment that would overflow the line is left out
        body = [INDENT * 2 + statement + (comment if len(INDENT * 2 + statement + comment) <= WIDTH else "")
                for statement, comment in forward]
        lines = [f"class {self.model}(nn.Module):", f"{INDENT}def __init__(self):", f"{INDENT * 2}super().__init__()",
                 *attributes, "", f"{INDENT}def forward(self, x):", *body]
        return "\n".join(lines) + "\n"

    def layer(self, layer: L.Layer, step: Step) -> tuple[Node | None, list[tuple[str, str]]]:
        """The attribute (None for a stateless step) and the forward statements of a top-level layer."""
        comment = shape_comment(step.output_shape)
        inline = self.inline(layer, step)
        if inline is not None:
            return None, [(f"x = {inline}", comment)]
        module, name = constructor(layer, step, self.helper), layer.name
        if isinstance(layer, tuple(RECURRENT)):
            return module, self.recurrent(layer, step)
        if isinstance(layer, L.MultiHeadAttention):
            return module, [(f"x = self.{name}(x, x, x, need_weights=False)[0]", comment)]
        statements: list[tuple[str, str]] = []
        expression = f"self.{name}(x)"
        if isinstance(layer, (L.GlobalAvgPool2d, L.GlobalAvgPool1d)):
            expression = f"torch.flatten({expression}, 1)"
        padding = self.asymmetric_padding(layer, step.input_shape)
        if padding is not None:
            self.used.add("F")
            shape = step.input_shape
            if len(padding) == 2:
                padded: Shape = (shape[0], shape[1] + sum(padding))
                note = "# TensorFlow's \"same\": the odd extra padding step goes at the end"
            else:
                padded = (shape[0], shape[1] + padding[2] + padding[3], shape[2] + padding[0] + padding[1])
                note = "# TensorFlow's \"same\": the odd extra padding row/column goes at the bottom/right"
            statements += [(note, ""), (f"x = {self.functional}.pad(x, {value(padding)})", shape_comment(padded))]
        if getattr(layer, "activation", None) is not None and not isinstance(layer, L.TransformerEncoder):
            expression = self.function(layer.activation, expression, step.output_layout)
        return module, [*statements, (f"x = {expression}", comment)]

    def inline(self, layer: L.Layer, step: Step) -> str | None:
        """The expression forward writes for a stateless step that needs no module, else None."""
        if isinstance(layer, L.Flatten):
            return "torch.flatten(x, 1)"
        if isinstance(layer, L.Activation):
            return self.function(layer.function, "x", step.output_layout)
        if isinstance(layer, L.Reshape):
            return f"x.reshape(x.shape[0], {', '.join(map(str, step.output_shape))})"
        if isinstance(layer, L.Transpose):
            return "x.transpose(1, 2)"
        if isinstance(layer, L.GlobalAvgPool1d) and step.input_layout == "sequence":
            return "x.mean(dim=1)"
        return None

    @staticmethod
    def recurrent(layer: Any, step: Step) -> list[tuple[str, str]]:
        """``x, _ = self.lstm_1(x)`` for the sequence, else the last hidden state of each direction from h_n."""
        comment = shape_comment(step.output_shape)
        if layer.return_sequences:
            return [(f"x, _ = self.{layer.name}(x)", comment)]
        state = "(h, _)" if isinstance(layer, L.LSTM) else "h"
        directions = 2 if layer.bidirectional else 1
        last = "torch.cat([h[-2], h[-1]], dim=1)" if layer.bidirectional else "h[-1]"
        return [(f"_, {state} = self.{layer.name}(x)", f"  # h: ({directions}, N, {layer.units})"),
                (f"x = {last}", comment)]

    def children(self, items: Sequence[Any], shape: Shape, layout: str) -> list[tuple[str, Node]]:
        """(name, module) in the order and with the names ``build`` gives an ``nn.Sequential``'s children."""
        result: list[tuple[str, Node]] = []
        for item in items:
            if isinstance(item, Block):
                result.append((item.name, self.block(item, shape, layout)))
            else:
                step = self.steps[id(item)]
                padding = self.asymmetric_padding(item, step.input_shape)
                if padding is not None:
                    result.append((f"{item.name}_pad", f"nn.ZeroPad{len(padding) // 2}d({value(padding)})"))
                result.append((item.name, constructor(item, step, self.helper, inside=True)))
                if getattr(item, "activation", None) is not None and not isinstance(item, L.TransformerEncoder):
                    function = activation_module(item.activation, step.output_layout)
                    result.append((f"{item.name}_{item.activation}", function))
                if isinstance(item, L.GlobalAvgPool2d) or (isinstance(item, L.GlobalAvgPool1d) and step.input_layout == "map"):
                    result.append((f"{item.name}_flatten", "nn.Flatten()"))
            shape, layout = block_output(item, self.steps)
        names = [name for name, _ in result]
        for name in names:
            if names.count(name) > 1:
                raise SpecError(f"the torch backend names two modules {name!r}: rename the layer {name!r} in the spec")
        return result

    def branch(self, items: Sequence[Any], shape: Shape, layout: str) -> Node:
        if not items:
            return "nn.Identity()"
        self.used.add("OrderedDict")
        children = tuple(wrap(f"({json.dumps(name)}, ", module, ")")
                         for name, module in self.children(items, shape, layout))
        return Group(f"nn.Sequential({self.ordered_dict}([", children, "]))")

    def block(self, block: Block, shape: Shape, layout: str) -> Node:
        if isinstance(block, Residual):
            parts = [wrap("body=", self.branch(block.layers, shape, layout))]
            parts += [wrap("shortcut=", self.branch(block.shortcut, shape, layout))] if block.shortcut else []
            return Group(f"{self.helper('Residual')}(", tuple(parts), ")")
        if isinstance(block, Concat):
            dim = feature_dim(block_output(block, self.steps)[1])
            self.concat_dims.add(dim)
            parts = [self.branch(branch, shape, layout) for branch in block.branches()]
            return Group(f"{self.helper('Concat')}(", (*parts, *([f"dim={dim}"] if dim != 1 else [])), ")")
        raise block.fail("the torch code generator cannot write this kind of block yet")

    def function(self, activation: str, argument: str, layout: str) -> str:
        if "{F}" in FUNCTIONS[activation]:
            self.used.add("F")
        return FUNCTIONS[activation].format(F=self.functional, x=argument, dim=feature_dim(layout))

    @staticmethod
    def asymmetric_padding(layer: L.Layer, shape: Shape) -> tuple[int, ...] | None:
        """(left, right[, top, bottom]) for F.pad / nn.ZeroPad1d/2d when a convolution pads unevenly, else None."""
        if not isinstance(layer, (L.Conv1d, L.Conv2d)):
            return None
        pads = layer.pads(shape)
        if all(before == after for before, after in pads):
            return None
        return tuple(size for before_after in reversed(pads) for size in before_after)  # last axis first, as F.pad

    @staticmethod
    def check_attribute(name: str) -> None:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise SpecError(f"the layer name {name!r} is not a Python identifier, so generated torch code cannot "
                            "make it an attribute: rename it in the spec")
