"""Write a spec as idiomatic torch source: an ``nn.Module`` whose attributes carry the spec's layer names."""

from __future__ import annotations

import functools
import json
import keyword
from dataclasses import dataclass
from typing import Any, Sequence, Union

from nbunify.codegen import class_name
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError
from nbunify.spec import layers as L

WIDTH = 100
INDENT = "    "
SLOPE = "" if L.LEAKY_RELU_SLOPE == 0.01 else repr(L.LEAKY_RELU_SLOPE)  # 0.01 is torch's default

# Activations as torch writes them inside forward ({F}: the torch.nn.functional alias) and as modules.
FUNCTIONS = {"relu": "{F}.relu({x})", "leaky_relu": "{F}.leaky_relu({x}" + (SLOPE and ", " + SLOPE) + ")",
             "gelu": "{F}.gelu({x})", "silu": "{F}.silu({x})", "tanh": "torch.tanh({x})",
             "sigmoid": "torch.sigmoid({x})", "softmax": "{F}.softmax({x}, dim=1)"}
MODULES = {"relu": "nn.ReLU()", "leaky_relu": f"nn.LeakyReLU({SLOPE})", "gelu": "nn.GELU()", "silu": "nn.SiLU()",
           "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()", "softmax": "nn.Softmax(dim=1)"}

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


@dataclass(frozen=True)
class Group:
    """Source that breaks over lines when too long: ``opening`` items ``closing``, e.g. ``Concat(`` ... ``)``."""

    opening: str
    items: tuple[Node, ...]
    closing: str
    compact: bool = False  # arguments may share one line; layers of a Sequential never do


Node = Union[str, Group]


def wrap(prefix: str, node: Node, suffix: str = "") -> Node:
    if isinstance(node, str):
        return prefix + node + suffix
    return Group(prefix + node.opening, node.items, node.closing + suffix, node.compact)


def flat(node: Node) -> str:
    if isinstance(node, str):
        return node
    return node.opening + ", ".join(flat(item) for item in node.items) + node.closing


def render(node: Node, depth: int) -> list[str]:
    """One line when it fits in WIDTH, else one item per line with a trailing comma (as black writes it)."""
    pad = INDENT * depth
    if isinstance(node, str) or len(pad + flat(node)) <= WIDTH:
        return [pad + flat(node)]
    inline = pad + INDENT + ", ".join(flat(item) for item in node.items)
    if node.compact and len(inline) <= WIDTH:
        return [pad + node.opening, inline, pad + node.closing]
    items = [line for item in node.items for line in render(wrap("", item, ","), depth + 1)]
    return [pad + node.opening, *items, pad + node.closing]


def value(argument: Any) -> str:
    if isinstance(argument, str):
        return json.dumps(argument)
    if isinstance(argument, tuple):
        return "(" + ", ".join(value(item) for item in argument) + ")"
    return repr(float(argument)) if isinstance(argument, float) else repr(argument)  # not np.float64(...)


def call(function: str, *positional: Any, **keywords: Any) -> Group:
    """``function(a, b, key=value)``; keywords given as None are left out (torch's default applies)."""
    arguments = [value(item) for item in positional]
    arguments += [f"{key}={value(item)}" for key, item in keywords.items() if item is not None]
    return Group(f"{function}(", tuple(arguments), ")", compact=True)


def compact(pair: Sequence[int], default: int | None = None) -> int | tuple[int, ...] | None:
    """(3, 3) -> 3, (3, 1) -> (3, 1); None when both equal ``default``."""
    pair = (pair, pair) if isinstance(pair, int) else tuple(pair)
    if pair[0] == pair[1]:
        return None if pair[0] == default else pair[0]
    return pair


def shape_text(shape: Sequence[int]) -> str:
    return "(N, " + ", ".join(str(size) for size in shape) + ")"


def shape_comment(shape: Sequence[int]) -> str:
    return "  # " + shape_text(shape)


def generate(spec: Sequential) -> str:
    """The torch source of ``spec``: imports, block helpers, the model class and a runnable ``__main__``."""
    return Writer(spec).module()


class Writer:
    """Writes one spec; remembers which imports and helper classes the text needs."""

    def __init__(self, spec: Sequential) -> None:
        self.spec = spec
        self.steps = {id(step.layer): step for step in spec.steps}
        self.model = class_name(spec)
        self.used: set[str] = set()
        # The model class must not shadow a name the module itself uses.
        self.functional = "nn.functional" if self.model == "F" else "F"
        self.ordered_dict = "collections.OrderedDict" if self.model == "OrderedDict" else "OrderedDict"
        self.residual = "ResidualBlock" if self.model == "Residual" else "Residual"
        self.concat = "ConcatBlock" if self.model == "Concat" else "Concat"

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
        helpers = [RESIDUAL.format(name=self.residual)] if "Residual" in self.used else []
        helpers += [CONCAT.format(name=self.concat)] if "Concat" in self.used else []
        shapes = f"{shape_text(self.spec.input_shape)} -> {shape_text(self.spec.output_shape)}"
        docstring = f"{self.spec.name} as a PyTorch model, written by nbunify: {shapes}."
        docstring = '"""' + docstring.replace("\\", "\\\\").replace('"', '\\"') + '"""'
        main = (f'if __name__ == "__main__":\n    model = {self.model}().eval()\n'
                f"    x = torch.randn{value((2, *self.spec.input_shape))}\n    with torch.no_grad():\n"
                f"        print(model(x).shape)  # torch.Size({list((2, *self.spec.output_shape))})\n")
        head = docstring + "\n\n" + "\n".join(imports) + "\n"
        return "\n\n".join([head, *helpers, model, main])

    def model_class(self) -> str:
        attributes: list[str] = []
        forward: list[tuple[str, str]] = []  # (statement, trailing comment)
        shape = self.spec.input_shape
        for item in self.spec.layers:
            if isinstance(item, Block):
                self.check_attribute(item.name)
                attributes += render(wrap(f"self.{item.name} = ", self.block(item)), 2)
                shape = self.output_shape(item, shape)
                forward.append((f"x = self.{item.name}(x)", shape_comment(shape)))
                continue
            step = self.steps[id(item)]
            attribute, statements = self.layer(item, step.input_shape, step.output_shape)
            if attribute is not None:
                self.check_attribute(item.name)
                attributes += render(wrap(f"self.{item.name} = ", attribute), 2)
            forward += statements
            shape = step.output_shape
        last, comment = forward.pop()
        forward.append(("return " + last.removeprefix("x = "), comment))
        # a shape comment that would overflow the line is left out
        body = [INDENT * 2 + statement + (comment if len(INDENT * 2 + statement + comment) <= WIDTH else "")
                for statement, comment in forward]
        lines = [f"class {self.model}(nn.Module):", f"{INDENT}def __init__(self):", f"{INDENT * 2}super().__init__()",
                 *attributes, "", f"{INDENT}def forward(self, x):", *body]
        return "\n".join(lines) + "\n"

    def layer(self, layer: L.Layer, shape: tuple[int, ...], output: tuple[int, ...]) -> tuple[Node | None, list]:
        """The attribute (None for a stateless step) and the forward statements of a top-level layer."""
        statements: list[tuple[str, str]] = []
        if isinstance(layer, L.Flatten):
            return None, [("x = torch.flatten(x, 1)", shape_comment(output))]
        if isinstance(layer, L.Activation):
            return None, [(f"x = {self.function(layer.function, 'x')}", shape_comment(output))]
        expression = f"self.{layer.name}(x)"
        if isinstance(layer, L.GlobalAvgPool2d):
            expression = f"torch.flatten({expression}, 1)"
        padding = self.asymmetric_padding(layer, shape)
        if padding is not None:
            self.used.add("F")
            padded = (shape[0], shape[1] + padding[2] + padding[3], shape[2] + padding[0] + padding[1])
            statements += [("# TensorFlow's \"same\": the odd extra padding row/column goes at the bottom/right", ""),
                           (f"x = {self.functional}.pad(x, {value(padding)})", shape_comment(padded))]
        if getattr(layer, "activation", None) is not None:
            expression = self.function(layer.activation, expression)
        return self.main_module(layer, shape), [*statements, (f"x = {expression}", shape_comment(output))]

    def main_module(self, layer: L.Layer, shape: tuple[int, ...]) -> Node:
        """The torch module of the layer itself (no padding, activation or flatten around it)."""
        if isinstance(layer, L.Dense):
            return call("nn.Linear", shape[-1], layer.units, bias=None if layer.use_bias else False)
        if isinstance(layer, L.Conv2d):
            top, bottom, left, right = layer.explicit_padding(shape)
            stride = compact(layer.stride, default=1)
            padding = compact((top, left), default=0) if (top, left) == (bottom, right) else None
            if layer.padding == "same" and stride is None and (top, left) == (bottom, right):
                padding = "same"  # torch's own "same" takes stride 1 and pads both sides equally
            return call("nn.Conv2d", shape[0], layer.filters, kernel_size=compact(layer.kernel_size), stride=stride,
                        padding=padding, dilation=compact(layer.dilation, default=1),
                        groups=layer.groups if layer.groups != 1 else None, bias=None if layer.use_bias else False)
        if isinstance(layer, L.BatchNorm):
            return call("nn.BatchNorm1d" if len(shape) == 1 else "nn.BatchNorm2d", shape[0],
                        eps=layer.epsilon if layer.epsilon != 1e-5 else None,
                        momentum=layer.momentum if layer.momentum != 0.1 else None)
        if isinstance(layer, (L.MaxPool2d, L.AvgPool2d)):
            kernel = compact(layer.kernel_size)
            stride = compact(layer.strides())
            return call(f"nn.{type(layer).__name__}", kernel, stride=stride if stride != kernel else None)
        if isinstance(layer, (L.GlobalAvgPool2d, L.Flatten)):
            return "nn.AdaptiveAvgPool2d(1)" if isinstance(layer, L.GlobalAvgPool2d) else "nn.Flatten()"
        if isinstance(layer, L.Dropout):
            return call("nn.Dropout", p=layer.rate if layer.rate != 0.5 else None)
        if isinstance(layer, L.Activation):
            return MODULES[layer.function]
        raise layer.fail(f"the torch code generator cannot write layers of kind {layer.KIND!r} yet")

    def children(self, items: Sequence[Any]) -> list[tuple[str, Node]]:
        """(name, module) in the order and with the names ``build`` gives an ``nn.Sequential``'s children."""
        result: list[tuple[str, Node]] = []
        for item in items:
            if isinstance(item, Block):
                result.append((item.name, self.block(item)))
                continue
            shape = self.steps[id(item)].input_shape
            padding = self.asymmetric_padding(item, shape)
            if padding is not None:
                result.append((f"{item.name}_pad", f"nn.ZeroPad2d({value(padding)})"))
            result.append((item.name, self.main_module(item, shape)))
            if getattr(item, "activation", None) is not None:
                result.append((f"{item.name}_{item.activation}", MODULES[item.activation]))
            if isinstance(item, L.GlobalAvgPool2d):
                result.append((f"{item.name}_flatten", "nn.Flatten()"))
        names = [name for name, _ in result]
        for name in names:
            if names.count(name) > 1:
                raise SpecError(f"the torch backend names two modules {name!r}: rename the layer {name!r} in the spec")
        return result

    def branch(self, items: Sequence[Any]) -> Node:
        if not items:
            return "nn.Identity()"
        self.used.add("OrderedDict")
        children = tuple(wrap(f"({json.dumps(name)}, ", module, ")") for name, module in self.children(items))
        return Group(f"nn.Sequential({self.ordered_dict}([", children, "]))")

    def block(self, block: Block) -> Node:
        if isinstance(block, Residual):
            self.used.add("Residual")
            parts = [wrap("body=", self.branch(block.layers))]
            parts += [wrap("shortcut=", self.branch(block.shortcut))] if block.shortcut else []
            return Group(f"{self.residual}(", tuple(parts), ")")
        if isinstance(block, Concat):
            self.used.add("Concat")
            return Group(f"{self.concat}(", tuple(self.branch(branch) for branch in block.branches()), ")")
        raise block.fail("the torch code generator cannot write this kind of block yet")

    def output_shape(self, item: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
        if not isinstance(item, Block):
            return self.steps[id(item)].output_shape
        outputs = [functools.reduce(lambda before, inner: self.output_shape(inner, before), branch, shape)
                   for branch in item.branches()]
        return outputs[0] if isinstance(item, Residual) else (sum(out[0] for out in outputs), *outputs[0][1:])

    def function(self, activation: str, argument: str) -> str:
        if "{F}" in FUNCTIONS[activation]:
            self.used.add("F")
        return FUNCTIONS[activation].format(F=self.functional, x=argument)

    @staticmethod
    def asymmetric_padding(layer: L.Layer, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
        """(left, right, top, bottom) for F.pad / nn.ZeroPad2d when a convolution pads unevenly, else None."""
        if not isinstance(layer, L.Conv2d):
            return None
        top, bottom, left, right = layer.explicit_padding(shape)
        return None if (top, left) == (bottom, right) else (left, right, top, bottom)

    @staticmethod
    def check_attribute(name: str) -> None:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise SpecError(f"the layer name {name!r} is not a Python identifier, so generated torch code cannot "
                            "make it an attribute: rename it in the spec")
