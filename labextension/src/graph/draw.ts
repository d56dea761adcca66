// SVG of a laid-out visible graph, built with document APIs only: every label is a text node, never markup.

import { CATEGORY_COLOURS, IGraphMessage, IGraphNode } from './message';
import { formatCount, formatValue, nodeLabel, nodeTooltip, parityColour, textWidth } from './labels';
import { groupLabel, IBox, ILayout, polylinePath } from './layout';
import { IGraphModel, IVisibleGraph, IVisibleItem } from './model';

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** Classes the tests and the benchmark look for (keep them exact). */
export const NODE_CLASS = 'nbunify-graph-node';
export const GROUP_CLASS = 'nbunify-graph-group';
export const IO_CLASS = 'nbunify-graph-io';

export interface IDrawing {
  svg: SVGSVGElement;
  /** The group that zoom and pan transform. */
  viewport: SVGGElement;
  /** The drawn box of each visible item, by item id. */
  items: Map<string, SVGGElement>;
}

let drawings = 0;

/** Above this many edges, edges get no wide hover twin (the browser's work grows with every element). */
const MAX_HIT_EDGES = 600;

/** An SVG element with attributes and, optionally, a text child (a text node: names are never parsed). */
export function svgElement<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  text?: string
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  if (text !== undefined) {
    element.appendChild(document.createTextNode(text));
  }
  return element;
}

function withTitle<T extends SVGElement>(element: T, title: string): T {
  element.appendChild(svgElement('title', {}, title));
  return element;
}

function box(width: number, height: number, attributes: Record<string, string | number>): SVGRectElement {
  return svgElement('rect', { class: 'nbunify-graph-box', width, height, rx: 4, ...attributes });
}

function centredText(className: string, box: IBox, y: number, text: string, fill?: string): SVGTextElement {
  const attributes: Record<string, string | number> = { class: className, x: box.width / 2, y, 'text-anchor': 'middle' };
  if (fill) {
    attributes.fill = fill;
  }
  return svgElement('text', attributes, text);
}

function drawParameters(group: SVGGElement, node: IGraphNode, size: IBox): void {
  if (node.parameter_count <= 0) {
    return;
  }
  const text = formatCount(node.parameter_count);
  const width = textWidth(text) + 8;
  const badge = svgElement('g', { class: 'nbunify-graph-params', transform: `translate(${size.width - width + 6},-8)` });
  badge.append(
    svgElement('rect', { width, height: 14, rx: 7, class: 'nbunify-graph-params-box' }),
    svgElement('text', { x: width / 2, y: 10.5, 'text-anchor': 'middle', class: 'nbunify-graph-params-text' }, text)
  );
  group.appendChild(badge);
}

function drawParity(group: SVGGElement, node: IGraphNode, size: IBox, message: IGraphMessage): void {
  const summary = message.parity;
  if (!node.parity || !summary) {
    return;
  }
  const drift = summary.first_drift === node.id;
  const colour = parityColour(node.parity, summary.tolerance);
  const overlay = svgElement('g', { class: `nbunify-graph-parity${drift ? ' nbunify-graph-first-drift' : ''}` });
  overlay.appendChild(
    svgElement('rect', {
      x: -4, y: -4, width: size.width + 8, height: size.height + 8, rx: 6,
      fill: 'none', stroke: colour, 'stroke-width': drift ? 5 : 3
    })
  );
  if (drift) {
    overlay.appendChild(svgElement('text', { x: -10, y: size.height / 2 + 4, 'text-anchor': 'end', fill: colour, class: 'nbunify-graph-drift-label' }, 'first drift'));
  }
  group.appendChild(overlay);
}

function drawNode(item: IVisibleItem, size: IBox, model: IGraphModel): SVGGElement {
  const node = item.node!;
  const group = svgElement('g', { class: NODE_CLASS, 'data-id': node.id, 'data-category': node.category });
  withTitle(group, nodeTooltip(node, model.message));
  const label = nodeLabel(node);
  group.appendChild(box(size.width, size.height, { fill: CATEGORY_COLOURS[node.category] ?? CATEGORY_COLOURS.other }));
  group.appendChild(centredText('nbunify-graph-op', size, label.name ? 15 : 16, label.op, '#ffffff'));
  if (label.name) {
    group.appendChild(centredText('nbunify-graph-name', size, 30, label.name, '#ffffff'));
  }
  drawParameters(group, node, size);
  drawParity(group, node, size, model.message);
  return group;
}

function drawGroup(item: IVisibleItem, size: IBox): SVGGElement {
  const scope = item.scope!;
  const group = svgElement('g', { class: GROUP_CLASS, 'data-scope': scope.key });
  const label = groupLabel(item);
  withTitle(group, `${scope.key}: ${label.detail} (click to expand)`);
  group.appendChild(box(size.width, size.height, { class: 'nbunify-graph-box nbunify-graph-group-box', rx: 6 }));
  group.appendChild(centredText('nbunify-graph-group-title', size, 18, label.title));
  group.appendChild(centredText('nbunify-graph-group-detail', size, 34, label.detail));
  group.appendChild(svgElement('text', { x: size.width - 9, y: 14, 'text-anchor': 'middle', class: 'nbunify-graph-expand-mark' }, '+'));
  return group;
}

function drawIo(item: IVisibleItem, size: IBox, message: IGraphMessage): SVGGElement {
  const value = item.value ?? '';
  const group = svgElement('g', { class: IO_CLASS, 'data-kind': item.kind, 'data-value': value });
  withTitle(group, `${item.kind} ${value}: ${formatValue(message.values[value])}`);
  group.appendChild(box(size.width, size.height, { class: 'nbunify-graph-box nbunify-graph-io-box', rx: size.height / 2 }));
  group.appendChild(centredText('nbunify-graph-io-name', size, 16, value));
  return group;
}

function drawEdges(graph: IVisibleGraph, layout: ILayout, message: IGraphMessage, markerId: string): SVGGElement {
  const layer = svgElement('g', { class: 'nbunify-graph-edges' });
  for (const edge of graph.edges) {
    const points = layout.edges.get(edge.id);
    if (!points) {
      continue;
    }
    const d = polylinePath(points);
    const group = svgElement('g', { class: 'nbunify-graph-edge', 'data-source': edge.source, 'data-target': edge.target });
    withTitle(group, edge.values.map(value => `${value}: ${formatValue(message.values[value])}`).join('\n'));
    group.appendChild(svgElement('path', { d, class: 'nbunify-graph-edge-line', fill: 'none', 'marker-end': `url(#${markerId})` }));
    if (graph.edges.length <= MAX_HIT_EDGES) {
      // A wide transparent twin, so that the thin line's tooltip is easy to hover.
      group.appendChild(svgElement('path', { d, class: 'nbunify-graph-edge-hit', fill: 'none', stroke: 'transparent', 'stroke-width': 8 }));
    }
    layer.appendChild(group);
  }
  return layer;
}

/** The whole drawing: arrow marker, edges under boxes, one `g` per visible item. */
export function drawGraph(graph: IVisibleGraph, layout: ILayout, model: IGraphModel): IDrawing {
  const markerId = `nbunify-graph-arrow-${++drawings}`;
  const svg = svgElement('svg', { class: 'nbunify-graph-svg', xmlns: SVG_NS, width: '100%', height: '100%' });
  const marker = svgElement('marker', {
    id: markerId, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'
  });
  marker.appendChild(svgElement('path', { d: 'M0,0 L10,5 L0,10 z', class: 'nbunify-graph-arrow' }));
  const defs = svgElement('defs');
  defs.appendChild(marker);
  const viewport = svgElement('g', { class: 'nbunify-graph-viewport' });
  viewport.appendChild(drawEdges(graph, layout, model.message, markerId));
  const nodes = svgElement('g', { class: 'nbunify-graph-items' });
  const items = new Map<string, SVGGElement>();
  for (const item of graph.items) {
    const size = layout.boxes.get(item.id);
    if (!size) {
      continue;
    }
    const element =
      item.kind === 'node' ? drawNode(item, size, model) : item.kind === 'group' ? drawGroup(item, size) : drawIo(item, size, model.message);
    element.setAttribute('transform', `translate(${size.x},${size.y})`);
    items.set(item.id, element);
    nodes.appendChild(element);
  }
  viewport.appendChild(nodes);
  svg.append(defs, viewport);
  return { svg, viewport, items };
}
