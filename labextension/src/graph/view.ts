// The graph output widget: parses a message, lays the visible graph out in ELK's worker, draws it, and handles the user.

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { DETAILS_CLASS, renderDetails } from './details';
import { drawGraph, GROUP_CLASS, IDrawing, NODE_CLASS } from './draw';
import { runLayout } from './elk';
import { exportDrawing } from './export';
import { fromElkGraph, ILayout, toElkGraph } from './layout';
import { IGraphMessage } from './message';
import { buildModel, groupId, IGraphModel, IVisibleGraph, sameGraph, visibleGraph } from './model';
import { PanZoom } from './panzoom';
import { parseGraphMessage } from './parse';
import { collapseScope, defaultExpanded, expandAll, expandAround, expandScope, searchNodes } from './scopes';
import { createToolbar, IToolbar, Overlay, ToolbarAction } from './toolbar';

/** Class of the renderer's root (tests and the benchmark look for it). */
export const GRAPH_CLASS = 'nbunify-graph';

type State = 'layout' | 'ready' | 'error';

/** What to show once a layout is drawn: the whole graph, or one item in the middle. */
type Focus = { fit: true } | { item: string } | { keep: true };

export class GraphView extends Widget implements IRenderMime.IRenderer {
  private readonly _toolbar: IToolbar;
  private readonly _canvas = document.createElement('div');
  private readonly _details = document.createElement('div');
  private readonly _error = document.createElement('div');
  private readonly _panZoom: PanZoom;
  private readonly _resize: ResizeObserver;
  private _model: IGraphModel | null = null;
  private _expanded = new Set<string>();
  /** The scopes expanded when the message was first drawn. */
  private _firstView: ReadonlySet<string> = new Set<string>();
  private _graph: IVisibleGraph | null = null;
  private _positions: ILayout | null = null;
  private _drawing: IDrawing | null = null;
  private _generation = 0;
  private _selected: string | null = null;
  private _matches: string[] = [];
  private _matchIndex = 0;
  private _notes: string[] = [];

  constructor(private readonly _mimeType: string) {
    super();
    this.addClass(GRAPH_CLASS);
    this._toolbar = createToolbar({
      action: action => this._onAction(action),
      search: (query, next) => this._search(query, next),
      overlay: (overlay, on) => this._setOverlay(overlay, on)
    });
    const body = document.createElement('div');
    body.className = 'nbunify-graph-body';
    this._canvas.className = 'nbunify-graph-canvas';
    this._details.className = DETAILS_CLASS;
    this._details.hidden = true;
    this._error.className = 'nbunify-graph-error';
    this._error.hidden = true;
    body.append(this._canvas, this._details);
    this.node.append(this._toolbar.header, this._toolbar.bar, this._error, body);
    this._panZoom = new PanZoom(this._canvas);
    // A double click is two clicks: the first opens a group, the second finds it open already.
    this._canvas.addEventListener('click', this._onClick);
    this._resize = new ResizeObserver(entries => {
      this._panZoom.measure(entries[entries.length - 1]?.contentRect);
      this._refit();
    });
    this._resize.observe(this._canvas);
  }

  dispose(): void {
    this._resize.disconnect();
    this._generation++;
    super.dispose();
  }

  /** Show a message; a new message replaces the old one in the same widget. */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const start = performance.now();
    const parsed = parseGraphMessage(model.data[this._mimeType]);
    if (!parsed.ok) {
      this._generation++;
      this._showError(`nbunify: ${parsed.error}`);
      return;
    }
    // An update of the same graph (a live display adding parity, say) keeps what the user opened and where they look.
    const same = this._model !== null && sameGraph(this._model.message, parsed.message);
    this._show(parsed.message, same);
    await this._relayout(start, same && this._panZoom.moved ? { keep: true } : { fit: true });
  }

  /** Take a new message; for the same graph, keep the open modules, the selection and the search. */
  private _show(message: IGraphMessage, same: boolean): void {
    this._model = buildModel(message);
    const start = defaultExpanded(this._model);
    this._details.hidden = true;
    this._firstView = start.expanded;
    if (!same) {
      this._expanded = new Set(start.expanded);
      this._selected = null;
      this._matches = [];
      this._toolbar.search.value = '';
    } else if (this._selected) {
      this._select(this._selected);
    }
    this._toolbar.describe(message);
    const parity = this._toolbar.overlays.parity;
    parity.checked = message.parity !== null;
    this._setOverlay('parity', parity.checked);
    const collapsed = start.depth < this._model.maxDepth;
    this._toolbar.buttons['first-view'].hidden = !collapsed; // else the first view is "Expand all"
    this._notes = collapsed ? [`${message.nodes.length} nodes: modules below depth ${start.depth} collapsed; click one to open it`] : [];
  }

  private _setState(state: State): void {
    this.node.dataset.state = state;
  }

  private _showError(text: string): void {
    this._setState('error');
    this._error.textContent = text;
    this._error.hidden = false;
  }

  private _setStatus(extra?: string): void {
    this._toolbar.status.textContent = [...this._notes, ...(extra ? [extra] : [])].join(' · ');
  }

  /** Lay the visible graph out (in ELK's worker) and draw it; a newer call wins over an older one still running. */
  private async _relayout(start: number, focus: Focus): Promise<void> {
    const model = this._model;
    if (!model) {
      return;
    }
    const generation = ++this._generation;
    this._setState('layout');
    const graph = visibleGraph(model, this._expanded);
    let run;
    try {
      run = await runLayout(toElkGraph(graph));
    } catch (error) {
      if (generation === this._generation) {
        this._showError(`nbunify: the graph layout failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      return;
    }
    if (generation !== this._generation || this.isDisposed) {
      return;
    }
    const drawStart = performance.now();
    this._error.hidden = true;
    this._graph = graph;
    this._positions = fromElkGraph(run.result);
    this._drawing = drawGraph(graph, this._positions, model);
    this._canvas.style.height = `${Math.round(Math.min(560, Math.max(160, this._positions.height + 40)))}px`;
    this._panZoom.measure();
    this._canvas.replaceChildren(this._drawing.svg);
    this._panZoom.attach(this._drawing.viewport);
    if ('fit' in focus) {
      this._panZoom.fit(this._positions, true);
    } else if ('item' in focus) {
      this._centre(focus.item);
    }
    this._mark();
    const engine = run.engine === 'worker' ? '' : `layout on the main thread (no worker: ${run.fallbackReason})`;
    this._setStatus(engine || undefined);
    const dataset = this.node.dataset;
    dataset.layoutMs = run.ms.toFixed(1);
    dataset.drawMs = (performance.now() - drawStart).toFixed(1);
    dataset.layoutEngine = run.engine;
    dataset.visibleItems = String(graph.items.length);
    dataset.renderMs = (performance.now() - start).toFixed(1);
    this._setState('ready');
    performance.mark('nbunify-graph-ready');
  }

  private _refit(): void {
    if (this._positions && !this._panZoom.moved) {
      this._panZoom.fit(this._positions, true);
    }
  }

  private _centre(itemId: string): void {
    const box = this._positions?.boxes.get(itemId);
    if (box) {
      this._panZoom.centreOn(box);
    }
  }

  /** Selection and search highlights on the current drawing. */
  private _mark(): void {
    if (!this._drawing || !this._graph) {
      return;
    }
    const matched = new Set(this._matches.map(id => this._graph!.shownAs.get(id)));
    for (const [id, element] of this._drawing.items) {
      element.classList.toggle('nbunify-graph-match', matched.has(id));
      element.classList.toggle('nbunify-graph-selected', id === this._selected);
    }
  }

  private _onClick = (event: MouseEvent): void => {
    const target = event.target as Element;
    const node = target.closest(`g.${NODE_CLASS}`);
    const group = target.closest(`g.${GROUP_CLASS}`);
    if (node) {
      this._select(node.getAttribute('data-id')!);
    } else if (group && this._model) {
      const scope = this._model.scopes.get(group.getAttribute('data-scope')!);
      if (scope && !this._expanded.has(scope.key)) {
        this._expanded = expandScope(this._expanded, scope);
        void this._relayout(performance.now(), { item: scope.nodes[0] });
      }
    }
  };

  private _select(id: string): void {
    const node = this._model?.nodes.get(id);
    if (!node || !this._model) {
      return;
    }
    this._selected = id;
    this._details.replaceChildren(
      renderDetails(node, this._model.message, {
        collapse: key => this._collapse(key),
        close: () => {
          this._details.hidden = true;
          this._selected = null;
          this._mark();
        }
      })
    );
    this._details.hidden = false;
    this._mark();
  }

  private _collapse(key: string): void {
    this._expanded = collapseScope(this._expanded, key);
    void this._relayout(performance.now(), { item: groupId(key) });
  }

  private _search(query: string, next: boolean): void {
    const model = this._model;
    if (!model) {
      return;
    }
    const matches = searchNodes(model, query);
    const same = matches.length === this._matches.length && matches.every((id, index) => id === this._matches[index]);
    this._matchIndex = same && next && matches.length > 0 ? (this._matchIndex + 1) % matches.length : 0;
    this._matches = matches;
    this._setStatus(query.trim() ? `${matches.length} match${matches.length === 1 ? '' : 'es'}` : undefined);
    if (matches.length === 0) {
      this._mark();
      return;
    }
    const expanded = expandAround(model, this._expanded, matches);
    const focus = matches[this._matchIndex];
    if (expanded.size !== this._expanded.size) {
      this._expanded = expanded;
      void this._relayout(performance.now(), { item: focus });
    } else {
      this._mark();
      this._centre(focus);
    }
  }

  private _setOverlay(overlay: Overlay, on: boolean): void {
    this.node.classList.toggle(`nbunify-graph-show-${overlay}`, on);
  }

  private _onAction(action: ToolbarAction): void {
    const model = this._model;
    if (!model) {
      return;
    }
    switch (action) {
      case 'fit':
        return this._positions ? this._panZoom.fit(this._positions) : undefined;
      case 'zoom-in':
        return this._panZoom.zoomBy(1.25);
      case 'zoom-out':
        return this._panZoom.zoomBy(0.8);
      case 'first-view':
        this._expanded = new Set(this._firstView);
        return void this._relayout(performance.now(), { fit: true });
      case 'expand-all':
        this._expanded = expandAll(model);
        return void this._relayout(performance.now(), { fit: true });
      case 'collapse-all':
        this._expanded = new Set();
        return void this._relayout(performance.now(), { fit: true });
      default:
        return void this._export(action === 'export-png' ? 'png' : 'svg');
    }
  }

  private _export(format: 'svg' | 'png'): void {
    if (this._drawing && this._positions && this._model) {
      exportDrawing(this._drawing.svg, this._positions, this._canvas, this._model.message.title, format).catch(error =>
        this._setStatus(`export failed: ${error instanceof Error ? error.message : String(error)}`)
      );
    }
  }
}
