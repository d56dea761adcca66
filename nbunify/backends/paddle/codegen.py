"""Spec -> idiomatic paddle source text: an nn.Layer mirroring the built model's hierarchy, without importing paddle."""

from __future__ import annotations

import json
import keyword
from typing import Any, Callable, Sequence

from nbunify.codegen import class_name
from nbunify.spec import Block, Concat, Residual, Sequential, SpecError
from nbunify.backends.paddle.arguments import conv_padding, plain
from nbunify.spec import layers as L

WIDTH = 100
INDENT = "    "

# Written out even where they are paddle's defaults: torch and keras disagree on these numbers, so a
# reader comparing the three generated sources sees the same value in each.
ACTIVATION_LAYERS = {
    "relu": ("nn.ReLU", {}),
    "leaky_relu": ("nn.LeakyReLU", {"negative_slope": L.LEAKY_RELU_SLOPE}),
    "gelu": ("nn.GELU", {"approximate": False}),
    "silu": ("nn.Silu", {}),
    "tanh": ("nn.Tanh", {}),
    "sigmoid": ("nn.Sigmoid", {}),
    "softmax": ("nn.Softmax", {"axis": 1}),  # the channel/feature axis, as the spec says
}
ACTIVATION_FUNCTIONS = {
    "relu": "F.relu({})",
    "leaky_relu": f"F.leaky_relu({{}}, negative_slope={L.LEAKY_RELU_SLOPE})",
    "gelu": "F.gelu({}, approximate=False)",
    "silu": "F.silu({})",
    "tanh": "F.tanh({})",
    "sigmoid": "F.sigmoid({})",
    "softmax": "F.softmax({}, axis=1)",
}

RESIDUAL_CLASS = '''class Residual(nn.Layer):
    """body(x) + shortcut(x); the shortcut is the identity unless given."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x):
        return self.body(x) + self.shortcut(x)
'''

CONCAT_CLASS = '''class Concat(nn.Layer):
    """Run parallel branches on the same input and concatenate their outputs on the channel axis."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.LayerList(list(branches))

    def forward(self, x):
        return paddle.concat([branch(x) for branch in self.branches], axis=1)
'''


class Call:
    """A call expression, printed on one line when it fits, else one argument per line (as black does)."""

    def __init__(self, function: str, *arguments: Any, **keywords: Any) -> None:
        self.function = function
        self.arguments = [("", value) for value in arguments] + [(f"{key}=", value) for key, value in keywords.items()]

    def flat(self) -> str:
        inner = ", ".join(prefix + _flat(value) for prefix, value in self.arguments)
        return f"{self.function}({inner})"

    def lines(self, indent: str, prefix: str = "", suffix: str = "") -> list[str]:
        one = f"{indent}{prefix}{self.flat()}{suffix}"
        if len(one) <= WIDTH or not self.arguments:
            return [one]
        result = [f"{indent}{prefix}{self.function}("]
        for name, value in self.arguments:
            if isinstance(value, Call):
                result += value.lines(indent + INDENT, name, ",")
            else:
                result.append(f"{indent}{INDENT}{name}{value},")
        return result + [f"{indent}){suffix}"]


def _flat(value: Any) -> str:
    return value.flat() if isinstance(value, Call) else str(value)


def generate(spec: Sequential) -> str:
    """The source of a paddle ``nn.Layer`` computing ``spec``, with a runnable ``__main__`` demo."""
    if not isinstance(spec, Sequential):
        raise TypeError(f"the paddle code generator needs a spec (nu.Sequential), got {type(spec).__name__}")
    shapes = {step.layer.name: step.input_shape for step in spec.steps}
    name = class_name(spec)
    attributes: list[str] = []
    forward: list[str] = []
    shape = spec.input_shape
    for item in spec.layers:
        if not item.name.isidentifier() or keyword.iskeyword(item.name):
            raise SpecError(f"paddle: layer {item.name!r} cannot be an attribute in paddle source; give it a "
                            f"name of letters, digits and underscores that is not a Python keyword")
        attributes += _expression(item, shapes).lines(2 * INDENT, f"self.{item.name} = ")
        shape = _output_shape(item, shape)
        forward.append(_comment(f"{2 * INDENT}x = {_forward_call(item)}", shape))
    blocks = {type(item) for item in _walk(spec.layers) if isinstance(item, Block)}
    uses_functional = any(getattr(item, "activation", None) for item in spec.layers)
    imports = ["import paddle", *(["import paddle.nn.functional as F"] if uses_functional else []),
               "from paddle import nn"]
    helpers = [text for kind, text in ((Residual, RESIDUAL_CLASS), (Concat, CONCAT_CLASS)) if kind in blocks]
    model = [
        f"class {name}(nn.Layer):",
        f'{INDENT}"""{spec.name}: input {_dimensions(spec.input_shape)} -> output {_dimensions(spec.output_shape)}."""',
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
        f"{INDENT}outputs = model(paddle.randn([{', '.join(map(str, (2, *spec.input_shape)))}]))",
        f"{INDENT}print(outputs.shape)",
    ]
    header = [f"# {spec.name} in PaddlePaddle, generated by nbunify from its spec.", *imports]
    sections = ["\n".join(header), *(text.rstrip("\n") for text in helpers), "\n".join(model), "\n".join(main)]
    return "\n\n\n".join(sections) + "\n"


def _expression(item: Any, shapes: dict) -> Call:
    """The layer or block object built for ``item`` (a top-level attribute or a named Sequential entry)."""
    if isinstance(item, Residual):
        shortcut = {"shortcut": _branch(item.shortcut, shapes)} if item.shortcut else {}
        return Call("Residual", body=_branch(item.layers, shapes), **shortcut)
    if isinstance(item, Concat):
        return Call("Concat", *(_branch(branch, shapes) for branch in item.branches()))
    if isinstance(item, Block):
        raise SpecError(f"paddle: block {item.name!r} ({item.KIND}) has no paddle source; "
                        f"use residual or concat blocks")
    write = _LAYERS.get(type(item))
    if write is None:
        supported = ", ".join(layer.KIND for layer in _LAYERS)
        raise SpecError(f"paddle: layer {item.name!r} ({item.KIND}) has no paddle source; "
                        f"supported layers: {supported}")
    return write(item, shapes[item.name])


def _branch(items: Sequence[Any], shapes: dict) -> Call:
    """A block's branch as the built model holds it: an nn.Sequential of named entries, or nn.Identity."""
    if not items:
        return Call("nn.Identity")
    entries = []
    for item in items:
        entries.append(Call("", _string(item.name), _expression(item, shapes)))
        activation = getattr(item, "activation", None)
        if activation is not None:  # the built model's child '<layer>_<activation>'
            entries.append(Call("", _string(f"{item.name}_{activation}"), _activation_layer(activation)))
        if isinstance(item, L.GlobalAvgPool2d):
            entries.append(Call("", _string(f"{item.name}_flatten"), Call("nn.Flatten")))
    return Call("nn.Sequential", *entries)


def _forward_call(item: Any) -> str:
    call = f"self.{item.name}(x)"
    if isinstance(item, L.GlobalAvgPool2d):
        call = f"paddle.flatten({call}, start_axis=1)"
    activation = getattr(item, "activation", None)
    return ACTIVATION_FUNCTIONS[activation].format(call) if activation is not None else call


def _comment(line: str, shape: tuple) -> str:
    """``line`` with the output shape as a trailing comment, when it fits."""
    commented = f"{line}  # [N, {', '.join(map(str, shape))}]"
    return commented if len(commented) <= WIDTH else line


def _output_shape(item: Any, shape: tuple) -> tuple:
    if isinstance(item, Residual):
        return _branch_shape(item.layers, shape)
    if isinstance(item, Concat):
        outputs = [_branch_shape(branch, shape) for branch in item.branches()]
        return (sum(output[0] for output in outputs), *outputs[0][1:])
    return item.output_shape(shape)


def _branch_shape(items: Sequence[Any], shape: tuple) -> tuple:
    for item in items:
        shape = _output_shape(item, shape)
    return shape


def _walk(items: Sequence[Any]) -> list[Any]:
    result = []
    for item in items:
        result.append(item)
        if isinstance(item, Block):
            for branch in item.branches():
                result += _walk(branch)
    return result


def _string(text: str) -> str:
    """A double-quoted Python string literal, as black writes them."""
    return json.dumps(text)


def _dimensions(shape: tuple) -> str:
    return "x".join(map(str, shape))






def _dense(layer: L.Dense, shape: tuple) -> Call:
    return Call("nn.Linear", shape[-1], layer.units, **({} if layer.use_bias else {"bias_attr": False}))


def _conv2d(layer: L.Conv2d, shape: tuple) -> Call:
    options = {"stride": plain(layer.stride), "padding": conv_padding(layer, shape), "dilation": plain(layer.dilation),
               "groups": layer.groups, "bias_attr": None if layer.use_bias else False}
    defaults = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias_attr": None}
    written = {key: value for key, value in options.items() if value != defaults[key]}
    return Call("nn.Conv2D", shape[0], layer.filters, kernel_size=plain(layer.kernel_size), **written)


def _batchnorm(layer: L.BatchNorm, shape: tuple) -> Call:
    # paddle's momentum weighs the running statistic, the spec's (torch's) the new batch; both numbers are
    # written even at paddle's defaults because torch and keras default to others.
    momentum = round(1 - layer.momentum, 12)
    return Call(f"nn.BatchNorm{'1D' if len(shape) == 1 else '2D'}", shape[0], momentum=momentum,
                epsilon=repr(layer.epsilon))


def _pool(kind: str) -> Callable[[Any, tuple], Call]:
    def write(layer: Any, shape: tuple) -> Call:
        kernel, stride = plain(layer.kernel_size), plain(layer.strides())
        return Call(kind, kernel_size=kernel, **({} if stride == kernel else {"stride": stride}))

    return write


def _dropout(layer: L.Dropout, shape: tuple) -> Call:
    return Call("nn.Dropout", **({} if layer.rate == 0.5 else {"p": layer.rate}))


_LAYERS: dict[type, Callable[[Any, tuple], Call]] = {
    L.Dense: _dense,
    L.Conv2d: _conv2d,
    L.BatchNorm: _batchnorm,
    L.MaxPool2d: _pool("nn.MaxPool2D"),
    L.AvgPool2d: _pool("nn.AvgPool2D"),
    L.GlobalAvgPool2d: lambda layer, shape: Call("nn.AdaptiveAvgPool2D", 1),
    L.Flatten: lambda layer, shape: Call("nn.Flatten"),
    L.Dropout: _dropout,
    L.Activation: lambda layer, shape: _activation_layer(layer.function),
}


def _activation_layer(function: str) -> Call:
    kind, keywords = ACTIVATION_LAYERS[function]
    return Call(kind, **keywords)
