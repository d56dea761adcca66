// CurvesView: the widget that draws a curves message (toolbar, a status line per run, a chart per metric group) and updates in place.

import { Widget } from '@lumino/widgets';

import { CurvesChart } from './chart';
import { ICurveRun, ICurvesMessage } from './message';
import { buildChart, DEFAULT_OPTIONS, defaultGroups, ICurvesOptions, IMetricGroup, metricGroups } from './series';
import { runStyles } from './style';
import { element } from '../dom';
import { CurvesToolbar } from './toolbar';

/**
 * Class of the view's root element. It carries data-state ("empty", "ready", "error"), data-points
 * (points drawn), data-draw-ms (uPlot create or setData, with its synchronous draw, summed over the
 * charts), data-render-ms (the same plus building the columns), data-updates (messages applied in
 * place after the first), data-charts and data-done.
 */
export const CURVES_CLASS = 'nbunify-curves';

/** Width used before the view is attached (a renderer draws before it is placed). */
const DETACHED_WIDTH = 640;

interface IChartBox {
  box: HTMLDivElement;
  plot: HTMLDivElement;
  note: HTMLDivElement;
  chart: CurvesChart | null;
}

/**
 * Training curves of one or more runs, overlaid per metric group.
 *
 * `setMessage` may be called again with a newer message (a live update): charts whose series are
 * unchanged get new data in place (uPlot setData); only a chart whose series set changed is
 * re-created. The toolbar's choices are kept across messages.
 */
export class CurvesView extends Widget {
  private _message: ICurvesMessage | null = null;
  private _options: ICurvesOptions = { ...DEFAULT_OPTIONS };
  /** Groups the user ticked; null until they tick one (then the defaults follow the message). */
  private _chosen: string[] | null = null;
  private _updates = 0;
  private readonly _charts = new Map<string, IChartBox>();
  private readonly _toolbar: CurvesToolbar;
  private readonly _title = element('div', 'nbunify-curves-title');
  private readonly _error = element('div', 'nbunify-curves-error');
  private readonly _runs = element('ul', 'nbunify-curves-runs');
  private readonly _chartsNode = element('div', 'nbunify-curves-charts');
  private readonly _resizeObserver: ResizeObserver | null = null;
  private _resizeFrame = 0;

  constructor() {
    super();
    this.addClass(CURVES_CLASS);
    this.node.dataset.state = 'empty';
    this._toolbar = new CurvesToolbar(this._options, () => this._onControls());
    this._error.setAttribute('role', 'alert');
    this._error.hidden = true;
    this.node.append(this._title, this._toolbar.node, this._error, this._runs, this._chartsNode);
    if (typeof ResizeObserver !== 'undefined') {
      this._resizeObserver = new ResizeObserver(() => this._scheduleResize());
      this._resizeObserver.observe(this.node);
    }
  }

  /** The message drawn last (null before the first). */
  get message(): ICurvesMessage | null {
    return this._message;
  }

  /** Draw `message`, or update the charts in place when a message was drawn before. */
  setMessage(message: ICurvesMessage): void {
    if (this._message !== null) {
      this._updates += 1;
    }
    this._message = message;
    this._error.hidden = true;
    this._error.textContent = '';
    this._render();
  }

  /** Show an error (an invalid message) above whatever was drawn last. */
  showError(text: string): void {
    this._error.textContent = text;
    this._error.hidden = false;
    if (this._message === null) {
      this.node.dataset.state = 'error';
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._resizeObserver?.disconnect();
    cancelAnimationFrame(this._resizeFrame);
    this._charts.forEach(entry => entry.chart?.destroy());
    this._charts.clear();
    super.dispose();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._scheduleResize();
  }

  private _onControls(): void {
    const state = this._toolbar.read();
    this._chosen = state.groups;
    this._options = state.options;
    this._render();
  }

  private _render(): void {
    const message = this._message;
    if (message === null) {
      return;
    }
    this._title.textContent = message.title;
    this._title.hidden = message.title === '';
    const groups = metricGroups(message);
    const selected = (this._chosen ?? defaultGroups(groups)).filter(name => groups.some(group => group.name === name));
    this._toolbar.setGroups(groups, this._chosen ?? selected);
    this._showRuns(message.runs);
    const started = performance.now();
    const width = this._width();
    let drawMs = 0;
    let points = 0;
    const shown = groups.filter(group => selected.includes(group.name));
    shown.forEach((group, index) => {
      const [ms, count] = this._drawGroup(message, group, index, width);
      drawMs += ms;
      points += count;
    });
    for (const [name, entry] of this._charts) {
      if (!shown.some(group => group.name === name)) {
        entry.chart?.destroy();
        entry.box.remove();
        this._charts.delete(name);
      }
    }
    const data = this.node.dataset;
    data.drawMs = drawMs.toFixed(2);
    data.renderMs = (performance.now() - started).toFixed(2);
    data.points = String(points);
    data.updates = String(this._updates);
    data.charts = String(shown.length);
    data.done = String(message.done);
    data.state = 'ready';
  }

  /** Draw one group's chart at position `index`; returns [milliseconds drawing, points drawn]. */
  private _drawGroup(message: ICurvesMessage, group: IMetricGroup, index: number, width: number): [number, number] {
    const chart = buildChart(message, group, this._options);
    const entry = this._chartBox(group.name, index);
    entry.note.textContent = chart.data[0].length === 0 ? 'no points yet' : '';
    if (chart.hidden > 0) {
      entry.note.textContent = `${chart.hidden} values <= 0 are not drawn on the log scale`;
    }
    if (chart.data[0].length === 0) {
      entry.chart?.destroy();
      entry.chart = null;
      return [0, 0];
    }
    if (entry.chart !== null && entry.chart.accepts(chart)) {
      return [entry.chart.update(chart), chart.points];
    }
    // The new chart is drawn before the old one goes, in the same task: no frame shows neither.
    const previous = entry.chart;
    entry.chart = new CurvesChart(entry.plot, chart, width);
    previous?.destroy();
    return [entry.chart.lastDrawMs, chart.points];
  }

  private _chartBox(name: string, index: number): IChartBox {
    let entry = this._charts.get(name);
    if (entry === undefined) {
      const box = element('div', 'nbunify-curves-chart');
      box.dataset.group = name;
      const plot = element('div', 'nbunify-curves-plot');
      const note = element('div', 'nbunify-curves-note');
      box.append(plot, note);
      entry = { box, plot, note, chart: null };
      this._charts.set(name, entry);
    }
    const current = this._chartsNode.children[index];
    if (current !== entry.box) {
      this._chartsNode.insertBefore(entry.box, current ?? null);
    }
    return entry;
  }

  /** One line per run: colour, framework, name, status and, when it has one, its message. */
  private _showRuns(runs: readonly ICurveRun[]): void {
    const styles = runStyles(runs);
    const lines = runs.map(run => {
      const line = element('li', `nbunify-curves-run nbunify-curves-status-${run.status.replace(/[^a-z-]/gi, '')}`);
      line.dataset.runId = run.id;
      line.dataset.status = run.status;
      const swatch = element('span', 'nbunify-curves-swatch');
      const style = styles.get(run.id);
      swatch.style.borderTopColor = style?.colour ?? '';
      const dash = style?.dash ?? [];
      swatch.style.borderTopStyle = dash.length === 0 ? 'solid' : dash[0] <= 2 ? 'dotted' : 'dashed';
      line.append(
        swatch,
        element('span', 'nbunify-curves-framework', run.framework),
        element('span', 'nbunify-curves-name', run.name),
        element('span', 'nbunify-curves-run-status', run.status)
      );
      if (run.message !== '') {
        line.appendChild(element('span', 'nbunify-curves-message', run.message));
      }
      return line;
    });
    this._runs.replaceChildren(...lines);
  }

  private _width(): number {
    const width = this._chartsNode.clientWidth;
    return width > 0 ? width : DETACHED_WIDTH;
  }

  private _scheduleResize(): void {
    cancelAnimationFrame(this._resizeFrame);
    this._resizeFrame = requestAnimationFrame(() => {
      const width = this._chartsNode.clientWidth;
      if (width > 0) {
        this._charts.forEach(entry => entry.chart?.resize(width));
      }
    });
  }
}
