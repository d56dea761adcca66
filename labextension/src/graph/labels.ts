// Pure text helpers of the graph view: labels, counts, shapes, tooltips, parity colours and text widths.

import { IGraphMessage, IGraphNode, INodeParity, IValueInfo } from './message';

/** Longest short name drawn in a node box; the full name is in the tooltip and the details panel. */
export const MAX_LABEL = 28;

/** Font size of node labels (px); layout and drawing agree on it. */
export const FONT_SIZE = 11;

function truncate(text: string, max: number = MAX_LABEL): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The short name drawn under a node's op: the last part of its name, or the part before it when the last
 * part merely repeats the op ("/features/conv0/Conv" -> "conv0"). Plain text; the caller sets textContent.
 */
export function shortName(node: Pick<IGraphNode, 'name' | 'op'>): string {
  const parts = node.name.split('/').filter(part => part !== '');
  if (parts.length === 0) {
    return '';
  }
  let last = parts[parts.length - 1];
  if (parts.length > 1 && (last === node.op || last.startsWith(`${node.op}_`))) {
    last = parts[parts.length - 2];
  }
  return truncate(last);
}

/** The two lines of a node box: op (bold) and short name. */
export function nodeLabel(node: Pick<IGraphNode, 'name' | 'op'>): { op: string; name: string } {
  return { op: truncate(node.op || '?'), name: shortName(node) };
}

/** 1234 -> "1.2K", 2_500_000 -> "2.5M": parameter counts at a glance. */
export function formatCount(count: number): string {
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K']
  ];
  for (const [size, unit] of units) {
    if (count >= size) {
      const scaled = count / size;
      return `${scaled >= 100 ? Math.round(scaled) : Number(scaled.toPrecision(3))}${unit}`;
    }
  }
  return String(count);
}

/** "float32[N,3,224,224]"; "?" for what the message does not know. */
export function formatValue(info: IValueInfo | undefined): string {
  if (!info) {
    return '?';
  }
  const dims = info.shape === null ? '?' : info.shape.map(d => (d === null ? '?' : String(d))).join(',');
  return `${info.dtype ?? '?'}[${dims}]`;
}

/** An error measure as short text; null means it could not be measured. */
export function formatError(error: number | null): string {
  return error === null ? 'not measurable' : error.toExponential(2);
}

/** The tooltip (SVG <title>) of a node: full name, op, inputs and outputs with dtype and shape. */
export function nodeTooltip(node: IGraphNode, message: IGraphMessage): string {
  const lines = [node.name ? `${node.op}  ${node.name}` : node.op];
  const describe = (direction: string, argument: { name: string; values: string[] }) =>
    argument.values
      .filter(value => value !== '' && !message.values[value]?.parameter)
      .map(value => `${direction} ${argument.name}: ${formatValue(message.values[value])}`);
  for (const argument of node.inputs) {
    lines.push(...describe('in', argument));
  }
  for (const argument of node.outputs) {
    lines.push(...describe('out', argument));
  }
  if (node.parameter_count > 0) {
    lines.push(`parameters: ${node.parameter_count.toLocaleString('en-US')}`);
  }
  if (node.parity) {
    lines.push(`parity: ${node.parity.ok ? 'ok' : 'DRIFT'}, max abs error ${formatError(node.parity.max_abs_error)}`);
  }
  return lines.join('\n');
}

/**
 * Colour of a node's parity overlay: green when within tolerance (paler the closer to the tolerance), red when
 * beyond it (darker the further: one step per decade over the tolerance). Unmeasurable errors are darkest red.
 */
export function parityColour(parity: INodeParity, tolerance: [number, number]): string {
  const relative = parity.relative_error;
  const limit = Math.max(tolerance[1], 1e-12);
  if (parity.ok) {
    const ratio = relative === null ? 1 : Math.min(Math.max(relative / limit, 0), 1);
    return `hsl(140, 60%, ${Math.round(38 + ratio * 22)}%)`;
  }
  const decades = relative === null ? 4 : Math.min(Math.max(Math.log10(Math.max(relative, limit) / limit), 0), 4);
  return `hsl(0, 80%, ${Math.round(56 - decades * 6)}%)`;
}

/** Approximate width of a label in px (no DOM: layout runs before anything is drawn). */
export function textWidth(text: string, bold = false): number {
  let width = 0;
  for (const char of text) {
    if ('il.,:;|!\'`'.includes(char)) {
      width += 0.3;
    } else if ('mwMW@'.includes(char)) {
      width += 0.9;
    } else if (char >= 'A' && char <= 'Z') {
      width += 0.7;
    } else {
      width += 0.58;
    }
  }
  return Math.ceil(width * FONT_SIZE * (bold ? 1.08 : 1));
}
