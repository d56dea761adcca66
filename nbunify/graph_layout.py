"""Layered top-down layout of a graph message (Sugiyama style), collapsing module scopes of large graphs.

The steps are the classic ones: boxes (nodes, collapsed scopes, input and output pills), longest-path
layering from the inputs (a cycle made by collapsing is broken by drawing one edge upwards), a dummy vertex
wherever an edge crosses a layer, barycenter sweeps down and up to reduce crossings (the best order is kept),
then x positions that pull each box towards its neighbours without overlaps (isotonic regression per layer;
the ordering and the x positions live in nbunify.graph_ordering).
Coordinates are pixels of the static picture (nbunify.graph_picture); pure Python, no framework.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from nbunify.graph_ordering import ordered, x_positions

#: Text sizes (px) the box widths are measured for: the bold first line and the other lines.
HEADING_FONT, LINE_FONT = 12, 11
BOX_PADDING, LINE_HEIGHT, LAYER_GAP = 10, 15, 40


@dataclass
class Box:
    """One drawn item: a node, a collapsed scope ("group"), or a graph "input" / "output" pill; x, y: its centre."""

    key: str
    kind: str
    lines: list[str]
    category: str
    node_ids: list[str]
    order: float
    parameter_count: int = 0
    width: float = 0.0
    height: float = 0.0
    layer: int = 0
    x: float = 0.0
    y: float = 0.0


@dataclass
class Edge:
    """A data flow between two boxes; ``points`` run from source to target (upwards when ``reversed``)."""

    source: str
    target: str
    points: list[tuple[float, float]] = field(default_factory=list)
    reversed: bool = False


@dataclass
class GraphLayout:
    boxes: list[Box]
    edges: list[Edge]
    width: float
    height: float
    layer_count: int
    #: Scope depth the nodes were collapsed at, None when every node is drawn.
    depth: int | None
    node_count: int


def graph_layout(message: dict[str, Any], max_items: int = 300, max_layers: int | None = None) -> GraphLayout:
    """Lay out ``message``; more than ``max_items`` nodes collapse scopes (see collapse_depth), and with
    ``max_layers`` the scopes collapse further (shallower) until the picture has at most that many layers."""
    depth = collapse_depth(message, max_items)
    boxes, edges, layer = _layered(message, depth)
    deepest = max((len(node.get("scope") or ()) for node in message["nodes"]), default=0)
    while max_layers is not None and max(layer, default=0) + 1 > max_layers:
        shallower = deepest if depth is None else depth - 1
        if shallower < 1:
            break
        depth = shallower
        boxes, edges, layer = _layered(message, depth)
    for box, index in zip(boxes, layer):
        box.layer = index
    rows, chains, straight = ordered(boxes, edges)
    return _placed(message, boxes, rows, chains, straight, depth)


def collapse_depth(message: dict[str, Any], max_items: int = 300) -> int | None:
    """The deepest scope depth whose visible items (one per scope prefix of that depth, plus each node of a
    shorter scope) number at most ``max_items``; None when the nodes fit; 1 (the fewest items) when none fits."""
    nodes = message["nodes"]
    if len(nodes) <= max_items:
        return None
    deepest = max((len(node.get("scope") or ()) for node in nodes), default=0)
    for depth in range(deepest, 0, -1):
        if visible_count(message, depth) <= max_items:
            return depth
    return 1 if deepest else None


def visible_count(message: dict[str, Any], depth: int) -> int:
    """How many node boxes remain when the scopes are collapsed at ``depth``."""
    groups, short = set(), 0
    for node in message["nodes"]:
        scope = node.get("scope") or ()
        if len(scope) >= depth:
            groups.add(tuple(scope[:depth]))
        else:
            short += 1
    return len(groups) + short


def short_name(name: str, limit: int = 28) -> str:
    """The trailing path parts of a node name that fit ``limit`` characters ("denselayer1/conv1/Conv")."""
    parts = [part for part in name.split("/") if part] or [name]
    text = parts[-1]
    for part in reversed(parts[:-1]):
        if len(part) + 1 + len(text) > limit:
            break
        text = f"{part}/{text}"
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-(limit - limit // 2):]


def shape_text(value: dict[str, Any] | None) -> str:
    """``float32 N×3×224×224``; "?" for an unknown shape."""
    if not value:
        return "?"
    shape = value.get("shape")
    dims = "?" if shape is None else "×".join("?" if size is None else str(size) for size in shape) or "scalar"
    return f"{value.get('dtype') or ''} {dims}".strip()


def _text_width(text: str, size: float, bold: bool = False) -> float:
    return len(text) * size * (0.66 if bold else 0.6)


def _sized(box: Box) -> Box:
    widths = [_text_width(line, HEADING_FONT if index == 0 else LINE_FONT, index == 0)
              for index, line in enumerate(box.lines)]
    box.width = max(56.0, max(widths) + 2 * BOX_PADDING)
    box.height = len(box.lines) * LINE_HEIGHT + 8
    return box


def _node_box(node: dict[str, Any], position: int) -> Box:
    lines = [node["op"][:24], short_name(node.get("name") or node["id"])]
    return _sized(Box(node["id"], "node", lines, node.get("category", "other"), [node["id"]], position,
                      node.get("parameter_count", 0)))


def _boxes(message: dict[str, Any], depth: int | None) -> tuple[list[Box], dict[str, int]]:
    """The boxes in graph order and, per node id, the index of the box that draws it."""
    values, nodes = message["values"], message["nodes"]
    boxes = [_sized(Box(f"input:{name}", "input", [short_name(name), shape_text(values.get(name))], "input", [],
                        -len(message["inputs"]) + index)) for index, name in enumerate(message["inputs"])]
    box_of: dict[str, int] = {}
    groups: dict[tuple[str, ...], int] = {}
    for position, node in enumerate(nodes):
        scope = tuple(node.get("scope") or ())
        if depth is not None and len(scope) >= depth:
            prefix = scope[:depth]
            if prefix not in groups:
                groups[prefix] = len(boxes)
                boxes.append(Box("group:" + "/".join(prefix), "group", [], "group", [], position))
            box = boxes[groups[prefix]]
            box.node_ids.append(node["id"])
            box.parameter_count += node.get("parameter_count", 0)
            box_of[node["id"]] = groups[prefix]
        else:
            box_of[node["id"]] = len(boxes)
            boxes.append(_node_box(node, position))
    by_id = {node["id"]: (node, position) for position, node in enumerate(nodes)} if groups else {}
    for prefix, index in groups.items():
        box = boxes[index]
        if len(box.node_ids) == 1:
            boxes[index] = _node_box(*by_id[box.node_ids[0]])
            continue
        path = "/".join(prefix)
        path = path if len(path) <= 36 else "…" + path[-35:]
        count = f"{len(box.node_ids):,} nodes"
        box.lines = [path, count + (f", {box.parameter_count:,} parameters" if box.parameter_count else "")]
        _sized(box)
    boxes += [_sized(Box(f"output:{name}", "output", [short_name(name), shape_text(values.get(name))], "output", [],
                         len(nodes) + index)) for index, name in enumerate(message["outputs"])]
    return boxes, box_of


def _layered(message: dict[str, Any], depth: int | None) -> tuple[list[Box], list[tuple[int, int, bool]], list[int]]:
    """Boxes, edges oriented downwards (source, target, drawn reversed) and each box's layer."""
    boxes, box_of = _boxes(message, depth)
    index_of = {box.key: index for index, box in enumerate(boxes)}
    values = message["values"]
    producer = {value: box_of[node["id"]] for node in message["nodes"]
                for argument in node["outputs"] for value in argument["values"] if value}
    pairs = set()
    for node in message["nodes"]:
        target = box_of[node["id"]]
        for argument in node["inputs"]:
            for value in argument["values"]:
                if not value or (values.get(value) or {}).get("parameter"):
                    continue
                source = producer.get(value, index_of.get(f"input:{value}"))
                if source is not None and source != target:
                    pairs.add((source, target))
    for name in message["outputs"]:
        source = producer.get(name, index_of.get(f"input:{name}"))
        if source is not None:
            pairs.add((source, index_of[f"output:{name}"]))
    position = _topological(boxes, sorted(pairs))
    edges = [(s, t, False) if position[s] < position[t] else (t, s, True) for s, t in sorted(pairs)]
    predecessors: list[list[int]] = [[] for _ in boxes]
    successors: list[list[int]] = [[] for _ in boxes]
    for source, target, _ in edges:
        predecessors[target].append(source)
        successors[source].append(target)
    layer = [0] * len(boxes)
    sequence = sorted(range(len(boxes)), key=position.__getitem__)
    for vertex in sequence:
        layer[vertex] = max((layer[source] + 1 for source in predecessors[vertex]), default=0)
    for vertex in reversed(sequence):  # a constant sits just above its first consumer, not beside the inputs
        if not predecessors[vertex] and successors[vertex] and boxes[vertex].kind != "input":
            layer[vertex] = min(layer[target] for target in successors[vertex]) - 1
    compact = {used: index for index, used in enumerate(sorted(set(layer)))}
    return boxes, edges, [compact[used] for used in layer]


def _topological(boxes: list[Box], pairs: list[tuple[int, int]]) -> list[int]:
    """Kahn's order, graph order first; when only cycles remain, the earliest box in graph order goes next."""
    successors: list[list[int]] = [[] for _ in boxes]
    waiting = [0] * len(boxes)
    for source, target in pairs:
        successors[source].append(target)
        waiting[target] += 1
    heap = [(box.order, index) for index, box in enumerate(boxes) if waiting[index] == 0]
    heapq.heapify(heap)
    by_order = sorted(range(len(boxes)), key=lambda index: boxes[index].order)
    position, placed, pointer = [-1] * len(boxes), 0, 0
    while placed < len(boxes):
        if not heap:
            while position[by_order[pointer]] != -1:
                pointer += 1
            heap.append((boxes[by_order[pointer]].order, by_order[pointer]))
        _, vertex = heapq.heappop(heap)
        if position[vertex] != -1:
            continue
        position[vertex], placed = placed, placed + 1
        for target in successors[vertex]:
            waiting[target] -= 1
            if waiting[target] == 0 and position[target] == -1:
                heapq.heappush(heap, (boxes[target].order, target))
    return position


def _placed(message: dict[str, Any], boxes: list[Box], rows: list[list[int]], linking: tuple, straight: list,
            depth: int | None) -> GraphLayout:
    """Box centres, each layer as tall as its tallest box, and edge polylines through the dummies' columns."""
    chains, up, down = linking
    x, width = x_positions(boxes, rows, up, down)
    left = min((x[vertex] - width[vertex] / 2 for vertex in range(len(x))), default=0.0)
    right = max((x[vertex] + width[vertex] / 2 for vertex in range(len(x))), default=0.0)
    heights = [max((boxes[vertex].height for vertex in row if vertex < len(boxes)), default=0.0) for row in rows]
    tops = [0.0]
    for height in heights[:-1]:
        tops.append(tops[-1] + height + LAYER_GAP)
    for index, box in enumerate(boxes):
        box.x, box.y = x[index] - left, tops[box.layer] + heights[box.layer] / 2
    edges = []
    for chain, reversed_, source, target in chains + [([s, t], r, s, t) for s, t, r in straight]:
        points = [(boxes[source].x, boxes[source].y + boxes[source].height / 2)]
        for step, dummy in enumerate(chain[1:-1], 1):
            layer = boxes[source].layer + step
            points += [(x[dummy] - left, tops[layer]), (x[dummy] - left, tops[layer] + heights[layer])]
        points.append((boxes[target].x, boxes[target].y - boxes[target].height / 2))
        if reversed_:
            points.reverse()
            source, target = target, source
        edges.append(Edge(boxes[source].key, boxes[target].key, points, reversed_))
    return GraphLayout(boxes, edges, right - left, tops[-1] + heights[-1], len(rows), depth, len(message["nodes"]))
