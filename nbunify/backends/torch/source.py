"""Python source as nested groups that break over lines as black would, and literals as torch code writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence, Union

WIDTH = 100
INDENT = "    "


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


def compact(sizes: int | Sequence[int], default: int | None = None) -> int | tuple[int, ...] | None:
    """(3, 3) -> 3, (3,) -> 3, (3, 1) -> (3, 1); None when all equal ``default``."""
    sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
    if len(set(sizes)) == 1:
        return None if sizes[0] == default else sizes[0]
    return sizes


def unless(argument: Any, default: Any) -> Any:
    """``argument``, or None (left out of the call) when it is torch's ``default``."""
    return None if argument == default else argument


def shape_text(shape: Sequence[int]) -> str:
    return "(N, " + ", ".join(str(size) for size in shape) + ")"


def shape_comment(shape: Sequence[int]) -> str:
    return "  # " + shape_text(shape)
