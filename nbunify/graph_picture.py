"""The static picture of a graph message (SVG for text/html, PNG for image/png, a text summary) for readers without Lab.

One scene (boxes, labels, edges, arrowheads in pixels) is built from one layout and drawn twice: as SVG text and
with matplotlib's Agg canvas. The picture is at most ``MAX_HEIGHT`` pixels tall: a graph with more than
``MAX_ITEMS`` nodes or more layers than fit collapses its module scopes (nbunify.graph_layout). Every text of the
message is escaped: node names are text, never markup.
"""

from __future__ import annotations

import html
import io
import re
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nbunify.graph_layout import LAYER_GAP, LINE_HEIGHT, Box, GraphLayout, graph_layout, shape_text, short_name

#: Fill colour per op category, the same as CATEGORY_COLOURS in labextension/src/graph/message.ts.
CATEGORY_COLOURS = {
    "layer": "#3b7dd8", "activation": "#c0392b", "pool": "#2e8b57", "normalization": "#6a5acd",
    "recurrent": "#8e44ad", "dropout": "#7f8c8d", "shape": "#8d6e63", "tensor": "#b7950b", "math": "#16a085",
    "control": "#e67e22", "constant": "#95a5a6", "other": "#555555",
}
MAX_ITEMS = 300
MAX_WIDTH, MAX_HEIGHT = 900, 4000
#: Layers of two-line boxes that fit MAX_HEIGHT under a title: more collapse scopes further.
MAX_LAYERS = (MAX_HEIGHT - 120) // (2 * LINE_HEIGHT + 8 + LAYER_GAP)
#: Smallest text (px) the PNG draws.
MIN_PNG_TEXT = 4.5
MARGIN, DARK, LIGHT, DRIFT = 12, "#1f2937", "#ffffff", "#e00000"
EDGE_COLOUR, GROUP_FILL, GROUP_STROKE = "#6b7280", "#e8edf3", "#64748b"
FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
_LAYOUTS: dict[int, tuple[dict[str, Any], int, GraphLayout]] = {}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Scene:
    """Everything drawn, in picture pixels: shapes are dicts (x, y, width, height, fill, stroke, ...)."""

    width: float
    height: float
    shapes: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    curves: list[list[tuple[float, float]]] = field(default_factory=list)
    arrows: list[list[tuple[float, float]]] = field(default_factory=list)


def picture_layout(message: dict[str, Any]) -> GraphLayout:
    """The layout the SVG and the PNG share (cached per message object, for one display bundle)."""
    cached = _LAYOUTS.get(id(message))
    if cached is not None and cached[0] is message and cached[1] == len(message["nodes"]):
        return cached[2]
    layout = graph_layout(message, MAX_ITEMS, MAX_LAYERS)
    while len(_LAYOUTS) >= 4:
        _LAYOUTS.pop(next(iter(_LAYOUTS)))
    _LAYOUTS[id(message)] = (message, len(message["nodes"]), layout)
    return layout


def text_colour(fill: str) -> str:
    """White or dark text, whichever has the higher WCAG contrast ratio with ``fill`` ("#rrggbb")."""
    background = _luminance(fill)
    return LIGHT if (_luminance(LIGHT) + 0.05) / (background + 0.05) >= (background + 0.05) / (
        _luminance(DARK) + 0.05) else DARK


def _luminance(colour: str) -> float:
    channels = [int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4 for value in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def graph_text(message: dict[str, Any]) -> str:
    """The text/plain summary: title, counts, inputs and outputs with shapes, the ten commonest ops, parity."""
    values, nodes = message["values"], message["nodes"]
    lines = [f"{message['title']}: {_plural(len(nodes), 'node')}, {_plural(message['parameter_count'], 'parameter')}"]
    for label, names in (("inputs", message["inputs"]), ("outputs", message["outputs"])):
        lines.append(f"{label}: " + (", ".join(f"{name} {shape_text(values.get(name))}" for name in names) or "none"))
    ops = Counter(node["op"] for node in nodes).most_common()
    if ops:
        more = f", and {_plural(len(ops) - 10, 'more op type')}" if len(ops) > 10 else ""
        lines.append("ops: " + ", ".join(f"{op} {count:,}" for op, count in ops[:10]) + more)
    if message.get("parity"):
        lines.append(_parity_line(message))
    return "\n".join(lines)


def graph_svg(message: dict[str, Any], layout: GraphLayout | None = None) -> str:
    """A standalone ``<svg>`` of the graph, at most MAX_WIDTH pixels wide (its viewBox keeps the proportions)."""
    scene = _scene(message, layout or picture_layout(message))
    scale = min(1.0, MAX_WIDTH / scene.width)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {scene.width:.0f} {scene.height:.0f}" '
             f'width="{scene.width * scale:.0f}" height="{scene.height * scale:.0f}" font-family="{FONT}" '
             f'role="img" aria-label="{_escape(message["title"])}" class="nbunify-graph">',
             f'<rect width="100%" height="100%" fill="{LIGHT}"/>']
    if scene.curves:
        path = " ".join(_svg_curve(points) for points in scene.curves)
        heads = " ".join("M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in head) + "Z" for head in scene.arrows)
        parts.append(f'<g class="nbunify-edges"><path d="{path}" fill="none" stroke="{EDGE_COLOUR}" '
                     f'stroke-width="1.2"/><path d="{heads}" fill="{EDGE_COLOUR}"/></g>')
    for shape in scene.shapes:
        identity = f' data-id="{_escape(shape["id"])}"' if shape.get("id") else ""
        tooltip = f'<title>{_escape(shape["tooltip"])}</title>' if shape.get("tooltip") else ""
        dash = ' stroke-dasharray="4 3"' if shape.get("dashed") else ""
        parts.append(f'<g class="nbunify-{shape["kind"]}"{identity}>{tooltip}<rect x="{shape["x"]:.1f}" '
                     f'y="{shape["y"]:.1f}" width="{shape["width"]:.1f}" height="{shape["height"]:.1f}" '
                     f'rx="{shape["radius"]:.1f}" fill="{shape["fill"]}" stroke="{shape["stroke"]}" '
                     f'stroke-width="{shape["stroke_width"]}"{dash}/></g>')
    for label in scene.labels:
        weight = ' font-weight="bold"' if label["bold"] else ""
        parts.append(f'<text x="{label["x"]:.1f}" y="{label["y"]:.1f}" font-size="{label["size"]}" '
                     f'fill="{label["colour"]}" text-anchor="{label["anchor"]}"{weight}>'
                     f'{_escape(label["text"])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def graph_html(message: dict[str, Any], layout: GraphLayout | None = None) -> str:
    """text/html: a heading, the inline SVG, and a line on where the interactive graph lives."""
    return (f'<div class="nbunify-graph-fallback"><h4 style="margin:0.3em 0">Model graph: '
            f'{_escape(message["title"])}</h4>\n<div style="max-width:100%;overflow-x:auto">'
            f'{graph_svg(message, layout)}</div>\n<p style="font-size:smaller;color:#555">A static picture: the '
            f'interactive graph (zoom, search, node details, expanding modules, parity) needs JupyterLab with '
            f'nbunify installed (<code>pip install nbunify</code>).</p></div>')


def graph_png(message: dict[str, Any], layout: GraphLayout | None = None) -> bytes | None:
    """The same picture as a PNG (matplotlib's Agg canvas, no pyplot state); None without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch, PathPatch
        from matplotlib.path import Path
    except ImportError:
        return None
    scene = _scene(message, layout or picture_layout(message))
    scale, dpi = min(1.0, MAX_WIDTH / scene.width, MAX_HEIGHT / scene.height), 100
    figure = Figure(figsize=(scene.width * scale / dpi, scene.height * scale / dpi), dpi=dpi, facecolor=LIGHT)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, scene.width)
    axes.set_ylim(scene.height, 0)
    axes.set_axis_off()
    if scene.curves:
        vertices, codes = [], []
        for points in scene.curves:
            vertices.append(points[0])
            codes.append(Path.MOVETO)
            for start, end in zip(points, points[1:]):
                middle = (start[1] + end[1]) / 2
                vertices += [(start[0], middle), (end[0], middle), end]
                codes += [Path.CURVE4] * 3
        axes.add_patch(PathPatch(Path(vertices, codes), fill=False, edgecolor=EDGE_COLOUR, linewidth=1.2 * scale))
        heads = [point for head in scene.arrows for point in (*head, head[0])]
        head_codes = [code for _ in scene.arrows for code in (Path.MOVETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY)]
        axes.add_patch(PathPatch(Path(heads, head_codes), facecolor=EDGE_COLOUR, edgecolor="none"))
    for shape in scene.shapes:
        axes.add_patch(FancyBboxPatch((shape["x"], shape["y"]), shape["width"], shape["height"],
                                      boxstyle=f"round,pad=0,rounding_size={shape['radius']}", facecolor=shape["fill"],
                                      edgecolor=shape["stroke"], linewidth=shape["stroke_width"] * scale,
                                      linestyle="--" if shape.get("dashed") else "-"))
    points_per_pixel = scale * 72 / dpi
    for label in scene.labels:
        if label["size"] * scale < MIN_PNG_TEXT:  # unreadable anyway, and matplotlib takes ~5 ms a text
            continue
        axes.text(label["x"], label["y"], _CONTROL.sub("", label["text"]), fontsize=label["size"] * points_per_pixel,
                  color=label["colour"], ha="center" if label["anchor"] == "middle" else "left", va="baseline",
                  fontweight="bold" if label["bold"] else "normal", usetex=False, parse_math=False, clip_on=False)
    buffer = io.BytesIO()
    canvas.print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def _scene(message: dict[str, Any], layout: GraphLayout) -> Scene:
    swatches = sorted({box.category for box in layout.boxes if box.kind == "node"}, key=list(CATEGORY_COLOURS).index)
    legend_width = sum(len(name) * 6.6 + 26 for name in swatches)
    width = max(layout.width, legend_width, 640) + 2 * MARGIN
    header = [(piece, size, bold) for text, size, bold in _header_lines(message, layout)
              for piece in textwrap.wrap(text, int((width - 2 * MARGIN) / (size * 0.62))) or [""]]
    header_height = sum(size + 8 for _, size, _ in header) + (22 if swatches else 0)
    scene = Scene(width, layout.height + header_height + 2 * MARGIN + 6)
    baseline = MARGIN
    for text, size, bold in header:
        baseline += size + 8
        scene.labels.append(_label(MARGIN, baseline - 4, text, size, bold, DARK, "start"))
    cursor = MARGIN
    for name in swatches:
        scene.shapes.append({"kind": "swatch", "x": cursor, "y": baseline + 6, "width": 12, "height": 12, "radius": 2,
                             "fill": CATEGORY_COLOURS[name], "stroke": DARK, "stroke_width": 0.5})
        scene.labels.append(_label(cursor + 16, baseline + 16, name, 11, False, DARK, "start"))
        cursor += len(name) * 6.6 + 26
    left, top = (width - layout.width) / 2, MARGIN + header_height + 6
    nodes = {node["id"]: node for node in message["nodes"]}
    drift = (message.get("parity") or {}).get("first_drift")
    for box in layout.boxes:
        scene.shapes.append(_box_shape(box, left, top, nodes, drift))
        fill = scene.shapes[-1]["fill"]
        for index, line in enumerate(box.lines):
            scene.labels.append(_label(left + box.x, top + box.y - box.height / 2 + 4 + (index + 1) * LINE_HEIGHT - 3.5,
                                       line, 12 if index == 0 else 11, index == 0, text_colour(fill), "middle"))
    for edge in layout.edges:
        points = [(left + x, top + y) for x, y in edge.points]
        scene.curves.append(points)
        (x, y), direction = points[-1], 1 if points[-1][1] >= points[-2][1] else -1
        scene.arrows.append([(x, y), (x - 4, y - 8 * direction), (x + 4, y - 8 * direction)])
    return scene


def _box_shape(box: Box, left: float, top: float, nodes: dict[str, dict], drift: str | None) -> dict[str, Any]:
    shape = {"kind": box.kind, "id": box.key, "x": left + box.x - box.width / 2, "y": top + box.y - box.height / 2,
             "width": box.width, "height": box.height, "radius": 4.0, "stroke": DARK, "stroke_width": 0.8,
             "tooltip": "\n".join(box.lines)}
    if box.kind in ("input", "output"):
        shape.update(fill=LIGHT, radius=box.height / 2, stroke_width=1.2, id="", tooltip=f"graph {box.kind}: "
                     + box.key.split(":", 1)[1] + " " + box.lines[1])
    elif box.kind == "group":
        shape.update(fill=GROUP_FILL, stroke=GROUP_STROKE, dashed=True, stroke_width=1.2,
                     tooltip=f"{box.key.split(':', 1)[1]}: {box.lines[1]} (collapsed)")
    else:
        shape.update(fill=CATEGORY_COLOURS.get(box.category, CATEGORY_COLOURS["other"]),
                     tooltip=f"{box.lines[0]} {nodes[box.key].get('name', '')}".strip())
    failing = [node_id for node_id in box.node_ids if (nodes[node_id].get("parity") or {}).get("ok") is False]
    if failing:
        shape.update(stroke=DRIFT, stroke_width=5.0 if drift in box.node_ids else 2.5, dashed=False)
        shape["kind"] += " nbunify-beyond-tolerance" + (" nbunify-first-drift" if drift in box.node_ids else "")
    return shape


def _header_lines(message: dict[str, Any], layout: GraphLayout) -> list[tuple[str, int, bool]]:
    lines = [(f"{message['title']} — {_plural(len(message['nodes']), 'node')}, "
              f"{_plural(message['parameter_count'], 'parameter')}", 15, True)]
    if layout.depth is not None:
        lines.append((f"modules collapsed at scope depth {layout.depth} into "
                      f"{_plural(sum(box.kind in ('node', 'group') for box in layout.boxes), 'box', 'boxes')}; "
                      "the interactive graph expands them", 11, False))
    if message.get("parity"):
        lines.append((_parity_line(message) + "; red outline: beyond tolerance (thick: first drift)", 11, False))
    return lines


def _parity_line(message: dict[str, Any]) -> str:
    parity = message["parity"]
    error = parity.get("max_abs_error")
    tolerance = parity.get("tolerance") or [0, 0]
    error_text = "unmeasurable" if error is None else f"{error:.3g}"
    line = (f"parity {parity.get('a')} vs {parity.get('b')}: max abs error {error_text} "
            f"(tolerance abs {tolerance[0]:g}, rel {tolerance[1]:g})")
    failing = sum((node.get("parity") or {}).get("ok") is False for node in message["nodes"])
    drift = next((node for node in message["nodes"] if node["id"] == parity.get("first_drift")), None)
    if drift is None:
        return line + "; every compared node within tolerance"
    return (line + f"; {_plural(failing, 'node')} beyond tolerance, first drift: {drift['id']} {drift['op']} "
            f"{short_name(drift.get('name') or drift['id'], 48)}")


def _label(x: float, y: float, text: str, size: int, bold: bool, colour: str, anchor: str) -> dict[str, Any]:
    return {"x": x, "y": y, "text": text, "size": size, "bold": bold, "colour": colour, "anchor": anchor}


def _svg_curve(points: list[tuple[float, float]]) -> str:
    """Cubic pieces with vertical tangents through the layer gaps."""
    path = [f"M{points[0][0]:.1f} {points[0][1]:.1f}"]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        middle = (y0 + y1) / 2
        path.append(f"C{x0:.1f} {middle:.1f} {x1:.1f} {middle:.1f} {x1:.1f} {y1:.1f}")
    return "".join(path)


def _escape(text: Any) -> str:
    return html.escape(_CONTROL.sub("", str(text)), quote=True)


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else plural or word + 's'}"
