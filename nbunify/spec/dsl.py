"""The cell DSL: one layer per line, indentation for residual/concat blocks; parse() and to_text() round-trip.

    input 1x28x28           # the per-sample input shape (or give input_shape= / --input), optionally
                            # its layout: `input 20 tokens`, `input 28x28 sequence`, `input 1x100 map`
    conv2d 6 kernel=5 padding=2 activation=relu
    maxpool2d 2
    residual
        conv2d 6 3 padding=1
        batchnorm
    shortcut                # optional, right after a residual's body
        conv2d 6 1
    concat
        branch
            conv2d 4 1
        branch              # an empty branch passes its input through
    flatten
    dense 10 activation=softmax

Positional values fill a layer's arguments in order (``conv2d 6 5`` = filters 6, kernel_size 5);
``key=value`` sets one by name; sizes may be written ``3x3``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Sequence

from nbunify.spec.errors import SpecError, did_you_mean
from nbunify.spec.layers import LAYERS, LAYOUTS, Layer, resolve_layout
from nbunify.spec.model import Concat, Residual, Sequential, preferred_layout

#: Short DSL spellings of argument names.
ALIASES = {"kernel": "kernel_size", "bias": "use_bias", "eps": "epsilon", "p": "rate", "act": "activation",
           "heads": "num_heads", "sequences": "return_sequences", "ff": "dim_feedforward"}
_BLOCK_WORDS = ("residual", "shortcut", "concat", "branch")


def parse(text: str, input_shape: Sequence[int] | str | None = None, name: str = "model") -> Sequential:
    """Build a Sequential from DSL ``text``; errors name the line.

    The input shape comes from an ``input 1x28x28`` first line (optionally followed by a layout:
    tokens, sequence, map or vector) or from ``input_shape``.
    """
    lines = _lines(text)
    input_layout = None
    if lines and lines[0][2].split()[0] == "input":
        number, _, content = lines.pop(0)
        words = content.split()[1:]
        if words and words[-1].lower() in LAYOUTS:
            input_layout = words.pop().lower()
        if len(words) > 1:
            raise SpecError(f"line {number}: write the input as `input 1x28x28`, optionally followed by a layout "
                            f"({', '.join(LAYOUTS)}); got {content!r}")
        if input_shape is not None and words and parse_shape(words[0]) != tuple(_shape(input_shape)):
            raise SpecError(f"line {number}: the text says {content!r} but input_shape={input_shape!r} was given")
        input_shape = words[0] if words else ""
    if input_shape is None:
        raise SpecError("no input shape: start the text with a line like `input 1x28x28` (channels first, no batch)")
    if not lines:
        raise SpecError("the model cell is empty: write one layer per line, e.g. `dense 10 activation=softmax`")
    items, rest = _parse_block(lines, lines[0][1])
    if rest:
        raise SpecError(f"line {rest[0][0]}: unexpected indentation")
    shape = _shape(input_shape)
    try:
        return Sequential(items, input_shape=shape, name=name, input_layout=input_layout)
    except SpecError as error:
        line = _line_of(str(error), lines)
        raise SpecError(f"{line}{error}") from None


def _shape(value: Sequence[int] | str) -> tuple[int, ...]:
    return parse_shape(value) if isinstance(value, str) else tuple(value)


def parse_shape(text: str) -> tuple[int, ...]:
    """'1x28x28' or '1,28,28' -> (1, 28, 28)."""
    parts = re.split(r"[x,\s]+", text.strip().strip("()"))
    try:
        return tuple(int(part) for part in parts if part)
    except ValueError:
        raise SpecError(f"cannot read the input shape {text!r}: write it like 1x28x28 (channels first, no batch)") from None


def to_text(spec: Sequential) -> str:
    """The DSL text of ``spec`` (auto-generated names are left out, given ones kept)."""
    header = "input " + "x".join(str(size) for size in spec.input_shape)
    if spec.input_layout != resolve_layout(spec.input_shape, None, preferred_layout(spec.layers, 0), "input"):
        header += " " + spec.input_layout
    return "\n".join([header, *_render(spec.layers, 0)]) + "\n"


# -- parsing ---------------------------------------------------------------------------------
def _lines(text: str) -> list[tuple[int, int, str]]:
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise SpecError(f"line {number}: indent with spaces, not tabs")
        content = raw.split("#", 1)[0].rstrip()
        if content.strip():
            result.append((number, len(content) - len(content.lstrip()), content.strip()))
    return result


def _parse_block(lines, indent):
    items: list[Any] = []
    while lines and lines[0][1] >= indent:
        number, this_indent, content = lines[0]
        if this_indent > indent:
            raise SpecError(f"line {number}: unexpected indentation (only residual, shortcut, concat and branch open a block)")
        word = content.split()[0]
        lines = lines[1:]
        if word in _BLOCK_WORDS:
            lines = _parse_block_word(word, number, content, indent, items, lines)
        else:
            items.append(_parse_layer(number, content))
    return items, lines


def _children(lines, indent):
    if lines and lines[0][1] > indent:
        return _parse_block(lines, lines[0][1])
    return [], lines


def _parse_block_word(word, number, content, indent, items, lines):
    name = _block_name(number, content)
    if word == "residual":
        body, lines = _children(lines, indent)
        if not body:
            raise SpecError(f"line {number}: residual needs indented layers under it")
        items.append(Residual(body, name=name))
    elif word == "shortcut":
        if not items or not isinstance(items[-1], Residual) or items[-1].shortcut:
            raise SpecError(f"line {number}: shortcut must follow a residual block's body, at the same indentation")
        shortcut, lines = _children(lines, indent)
        items[-1].shortcut = shortcut
    elif word == "concat":
        branches = []
        while lines and lines[0][1] > indent:
            branch_number, branch_indent, branch_content = lines[0]
            if branch_content.split()[0] != "branch":
                raise SpecError(f"line {branch_number}: inside concat, each branch starts with `branch`")
            branch, lines = _children(lines[1:], branch_indent)
            branches.append(branch)
        if len(branches) < 2:
            raise SpecError(f"line {number}: concat needs at least two `branch` entries")
        items.append(Concat(*branches, name=name))
    else:
        raise SpecError(f"line {number}: `branch` belongs inside a concat block")
    return lines


def _block_name(number, content):
    words = content.split()[1:]
    if not words:
        return None
    if len(words) == 1 and words[0].startswith("name="):
        return words[0][5:]
    raise SpecError(f"line {number}: a block line takes only name=..., got {' '.join(words)!r}")


def _parse_layer(number: int, content: str) -> Layer:
    kind, *words = content.split()
    cls = LAYERS.get(kind.lower())
    if cls is None:
        raise SpecError(f"line {number}: unknown layer {kind!r}.{did_you_mean(kind.lower(), [*LAYERS, *_BLOCK_WORDS])} "
                        f"Layers: {', '.join(sorted(LAYERS))}.")
    names = [field.name for field in dataclasses.fields(cls)]
    positional, keywords = [], {}
    for word in words:
        if "=" in word:
            key, _, value = word.partition("=")
            keywords[ALIASES.get(key, key)] = _value(value)
        elif keywords:
            raise SpecError(f"line {number}: positional value {word!r} after key=value arguments")
        else:
            positional.append(_value(word))
    if len(positional) > len(names) - 1:
        raise SpecError(f"line {number}: {kind} takes at most {len(names) - 1} positional values ({', '.join(names[:-1])})")
    arguments = dict(zip(names, positional))
    for key, value in keywords.items():
        if key in arguments:
            raise SpecError(f"line {number}: {key} given twice")
        arguments[key] = value
    try:
        return cls(**arguments)
    except SpecError as error:
        raise SpecError(f"line {number}: {error}") from None


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    if re.fullmatch(r"-?\d+(x-?\d+)+", lowered):
        return tuple(int(part) for part in lowered.split("x"))
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _line_of(message: str, lines) -> str:
    """'line N: ' for the line that defines the layer named in a spec error, or ''."""
    match = re.search(r"layer '([^']+)'", message) or re.search(r"block '([^']+)'", message)
    if not match:
        return ""
    kind_and_index = re.fullmatch(r"([a-z0-9_]+?)_(\d+)", match.group(1))
    for number, _, content in lines:
        if f"name={match.group(1)}" in content.split():
            return f"line {number}: "
    if kind_and_index:
        kind, index = kind_and_index.group(1), int(kind_and_index.group(2))
        seen = 0
        for number, _, content in lines:
            if content.split()[0].lower() == kind and not any(w.startswith("name=") for w in content.split()):
                seen += 1
                if seen == index:
                    return f"line {number}: "
    return ""


# -- rendering -------------------------------------------------------------------------------
def _render(items, depth: int) -> list[str]:
    pad = "    " * depth
    lines: list[str] = []
    for item in items:
        if isinstance(item, Residual):
            lines.append(pad + "residual" + _name_suffix(item))
            lines += _render(item.layers, depth + 1)
            if item.shortcut:
                lines.append(pad + "shortcut")
                lines += _render(item.shortcut, depth + 1)
        elif isinstance(item, Concat):
            lines.append(pad + "concat" + _name_suffix(item))
            for branch in item.branches():
                lines.append(pad + "    branch")
                lines += _render(branch, depth + 2)
        else:
            arguments = item.arguments()
            first = dataclasses.fields(item)[0].name
            words = [item.KIND] + ([_format(arguments.pop(first))] if first in arguments else [])
            words += [f"{key}={_format(value)}" for key, value in arguments.items()]
            lines.append(pad + " ".join(words) + _name_suffix(item))
    return lines


def _name_suffix(item) -> str:
    name = item.name or ""
    return "" if re.fullmatch(rf"{re.escape(item.KIND)}_\d+", name) else f" name={name}"


def _format(value: Any) -> str:
    if isinstance(value, tuple):
        return "x".join(str(part) for part in value)
    return str(value)
