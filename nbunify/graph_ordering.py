"""The middle of the static picture's layered layout: vertex order per layer (barycenter sweeps that keep the
order with the fewest crossings) and x positions (isotonic regression per layer), for nbunify.graph_layout."""

from __future__ import annotations

from typing import Any

BOX_GAP, DUMMY_WIDTH = 18, 6
#: Edges longer than this budget of dummy vertices (all together) are drawn straight, outside the ordering.
MAX_DUMMIES = 20_000
SWEEPS = 4


def ordered(boxes: list[Any], edges: list[tuple[int, int, bool]]):
    """Rows of vertex indices (boxes, then dummies), each edge's chain of vertices, and the straight edges."""
    layer_of = [box.layer for box in boxes]
    key = [(box.order, 0.0) for box in boxes]
    chains: list[tuple[list[int], bool, int, int]] = []
    budget = MAX_DUMMIES
    straight = []
    for source, target, reversed_ in sorted(edges, key=lambda edge: layer_of[edge[1]] - layer_of[edge[0]]):
        span = layer_of[target] - layer_of[source]
        if span - 1 > budget:
            straight.append((source, target, reversed_))
            continue
        budget -= span - 1
        chain = [source]
        for layer in range(layer_of[source] + 1, layer_of[target]):
            chain.append(len(layer_of))
            layer_of.append(layer)
            key.append((boxes[source].order, boxes[target].order))
        chains.append((chain + [target], reversed_, source, target))
    up: list[list[int]] = [[] for _ in layer_of]
    down: list[list[int]] = [[] for _ in layer_of]
    for chain, _, _, _ in chains:
        for upper, lower in zip(chain, chain[1:]):
            down[upper].append(lower)
            up[lower].append(upper)
    rows: list[list[int]] = [[] for _ in range(max(layer_of, default=0) + 1)]
    for vertex in sorted(range(len(layer_of)), key=key.__getitem__):
        rows[layer_of[vertex]].append(vertex)
    best, best_crossings = [list(row) for row in rows], _crossings(rows, down)
    for _ in range(SWEEPS):
        _sweep(rows, range(1, len(rows)), up)
        _sweep(rows, range(len(rows) - 2, -1, -1), down)
        crossings = _crossings(rows, down)
        if crossings < best_crossings:
            best, best_crossings = [list(row) for row in rows], crossings
    return best, (chains, up, down), straight


def _sweep(rows: list[list[int]], layers: range, neighbours: list[list[int]]) -> None:
    position = {vertex: index for row in rows for index, vertex in enumerate(row)}
    for layer in layers:
        row = rows[layer]
        centre = {}
        for vertex in row:
            near = neighbours[vertex]
            centre[vertex] = sum(position[other] for other in near) / len(near) if near else position[vertex]
        row.sort(key=centre.__getitem__)
        position.update((vertex, index) for index, vertex in enumerate(row))


def _crossings(rows: list[list[int]], down: list[list[int]]) -> int:
    """Edge crossings between adjacent rows (inversions counted with a Fenwick tree)."""
    position = {vertex: index for row in rows for index, vertex in enumerate(row)}
    total = 0
    for layer in range(len(rows) - 1):
        ends = sorted((position[upper], position[lower]) for upper in rows[layer] for lower in down[upper])
        size = len(rows[layer + 1])
        tree = [0] * (size + 1)
        for seen, (_, lower) in enumerate(ends):
            index, below = lower + 1, 0
            while index > 0:
                below += tree[index]
                index -= index & -index
            total += seen - below
            index = lower + 1
            while index <= size:
                tree[index] += 1
                index += index & -index
    return total


def x_positions(boxes: list[Any], rows: list[list[int]], up: list[list[int]], down: list[list[int]]):
    """Rows packed and centred, then each vertex pulled towards the mean x of its neighbours above (down
    passes), below (up passes), then both, never closer to its row neighbours than their widths allow."""
    real = len(boxes)
    width = [box.width for box in boxes] + [DUMMY_WIDTH] * (len(up) - real)
    x = [0.0] * len(up)
    for row in rows:
        cursor = 0.0
        for left, vertex in zip([None, *row], row):
            cursor += 0.0 if left is None else _separation(left, vertex, width, real)
            x[vertex] = cursor
        for vertex in row:
            x[vertex] -= cursor / 2
    both = [above + below for above, below in zip(up, down)]
    passes = [(range(1, len(rows)), up), (range(len(rows) - 2, -1, -1), down)] * 3 + [(range(len(rows)), both)]
    for layers, neighbours in passes:
        for layer in layers:
            row = rows[layer]
            desired = [sum(x[other] for other in neighbours[vertex]) / len(neighbours[vertex])
                       if neighbours[vertex] else x[vertex] for vertex in row]
            gaps = [_separation(left, right, width, real) for left, right in zip(row, row[1:])]
            weights = [1.0 if vertex < real else 2.0 for vertex in row]  # long edges run straight
            for vertex, value in zip(row, _isotonic(desired, gaps, weights)):
                x[vertex] = value
    return x, width


def _separation(left: int, right: int, width: list[float], real: int) -> float:
    gap = BOX_GAP if left < real and right < real else DUMMY_WIDTH
    return (width[left] + width[right]) / 2 + gap


def _isotonic(desired: list[float], gaps: list[float], weights: list[float]) -> list[float]:
    """Positions closest (weighted least squares) to ``desired`` keeping x[i+1] - x[i] >= gaps[i] (pool adjacent
    violators on x minus the cumulative gaps)."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [value, weight, count]
    for target, offset, weight in zip(desired, offsets, weights):
        blocks.append([target - offset, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            value, mass, count = blocks.pop()
            blocks[-1] = [(blocks[-1][0] * blocks[-1][1] + value * mass) / (blocks[-1][1] + mass),
                          blocks[-1][1] + mass, blocks[-1][2] + count]
    values = [value for value, _, count in blocks for _ in range(int(count))]
    return [value + offset for value, offset in zip(values, offsets)]
