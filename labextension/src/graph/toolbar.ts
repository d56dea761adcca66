// The graph view's header and toolbar: title, summary, search, zoom, expand/collapse, overlays and export, with stable data-action hooks.

import { formatCount } from './labels';
import { IGraphMessage } from './message';
import { element } from '../dom';

export type ToolbarAction =
  | 'fit'
  | 'zoom-in'
  | 'zoom-out'
  | 'first-view'
  | 'expand-all'
  | 'collapse-all'
  | 'export-svg'
  | 'export-png';
export type Overlay = 'params' | 'parity';

export interface IToolbarHandlers {
  action(action: ToolbarAction): void;
  search(query: string, next: boolean): void;
  overlay(overlay: Overlay, on: boolean): void;
}

export interface IToolbar {
  header: HTMLElement;
  bar: HTMLElement;
  search: HTMLInputElement;
  overlays: Record<Overlay, HTMLInputElement>;
  /** Short messages: search results, layout engine, what is collapsed. */
  status: HTMLElement;
  buttons: Record<ToolbarAction, HTMLButtonElement>;
  /** Show a message's title and summary. */
  describe(message: IGraphMessage): void;
}

const BUTTONS: [ToolbarAction, string, string][] = [
  ['fit', 'Fit', 'Show the whole graph'],
  ['zoom-in', '+', 'Zoom in (or Ctrl+wheel)'],
  ['zoom-out', '−', 'Zoom out (or Ctrl+wheel)'],
  ['first-view', 'First view', 'Back to the modules collapsed as the graph opened'],
  ['expand-all', 'Expand all', 'Lay the whole graph out, every module expanded'],
  ['collapse-all', 'Collapse all', 'Collapse every module into one box (click a box to open it)'],
  ['export-svg', 'SVG', 'Download the graph as SVG'],
  ['export-png', 'PNG', 'Download the graph as PNG']
];

/** A one-line summary of a message: nodes, parameters, where it comes from. */
export function summaryText(message: IGraphMessage): string {
  const parts = [
    `${message.nodes.length.toLocaleString('en-US')} nodes`,
    `${formatCount(message.parameter_count)} parameters`,
    message.source === 'spec' ? 'spec' : `${message.framework} via ONNX`
  ];
  return parts.join(' · ');
}

export function createToolbar(handlers: IToolbarHandlers): IToolbar {
  const header = element('div', 'nbunify-graph-header');
  const title = element('span', 'nbunify-graph-title');
  const summary = element('span', 'nbunify-graph-summary');
  header.append(title, summary);

  const bar = element('div', 'nbunify-graph-toolbar');
  const search = element('input', 'jp-mod-styled nbunify-graph-search');
  search.type = 'search';
  search.placeholder = 'Search name or op';
  search.setAttribute('aria-label', 'Search nodes by name or op');
  search.addEventListener('input', () => handlers.search(search.value, false));
  search.addEventListener('keydown', event => {
    if (event.key === 'Enter') {
      handlers.search(search.value, true);
    }
    event.stopPropagation(); // keys typed here are not notebook shortcuts
  });
  bar.appendChild(search);
  const buttons = {} as Record<ToolbarAction, HTMLButtonElement>;
  for (const [action, label, tip] of BUTTONS) {
    const button = element('button', `jp-mod-styled nbunify-graph-button nbunify-graph-${action}`, label);
    button.type = 'button';
    button.title = tip;
    button.dataset.action = action;
    button.addEventListener('click', () => handlers.action(action));
    buttons[action] = button;
    bar.appendChild(button);
  }
  const overlays = {} as Record<Overlay, HTMLInputElement>;
  for (const [overlay, label] of [
    ['params', 'Parameters'],
    ['parity', 'Parity']
  ] as [Overlay, string][]) {
    const wrapper = element('label', 'nbunify-graph-toggle');
    const box = element('input', 'nbunify-graph-toggle-input');
    box.type = 'checkbox';
    box.dataset.overlay = overlay;
    box.addEventListener('change', () => handlers.overlay(overlay, box.checked));
    wrapper.append(box, document.createTextNode(label));
    overlays[overlay] = box;
    bar.appendChild(wrapper);
  }
  const status = element('span', 'nbunify-graph-status');
  bar.appendChild(status);

  return {
    header,
    bar,
    search,
    overlays,
    status,
    buttons,
    describe(message: IGraphMessage) {
      title.textContent = message.title;
      summary.textContent = summaryText(message);
      const parity = overlays.parity;
      parity.disabled = message.parity === null;
      parity.parentElement!.title = message.parity === null ? 'This graph has no per-node parity report' : 'Colour nodes by parity error';
    }
  };
}
