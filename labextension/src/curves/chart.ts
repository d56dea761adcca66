// One uPlot chart of a metric group: options from IChartData, synchronous create and in-place data updates, timed.

import uPlot from 'uplot';

import { IChartData, IDrawnSeries } from './series';

/** Height of each chart's plot area and axes, in CSS pixels (the legend comes below). */
export const CHART_HEIGHT = 220;

/** Class of the legend rows of faint raw lines (hidden by curves.css: the smoothed line names the series). */
export const RAW_ROW_CLASS = 'nbunify-curves-raw';

/** A number as the legend and axes show it: 4 significant digits, no exponent below 1e5. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e5 || magnitude < 1e-3)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(4)));
}

/** Tick labels; uPlot passes null for ticks it leaves unlabelled (crowded log decades). */
function axisValues(_chart: uPlot, splits: number[]): string[] {
  return splits.map(value => (value === null || value === undefined ? '' : formatValue(value)));
}

/** The page's background, for hollow markers (a canvas cannot read CSS variables). */
function background(element: HTMLElement): string {
  const colour = getComputedStyle(element).getPropertyValue('--jp-layout-color0').trim();
  return colour || '#ffffff';
}

function axisColour(element: HTMLElement): string {
  const colour = getComputedStyle(element).getPropertyValue('--jp-ui-font-color1').trim();
  return colour || '#333333';
}

/** Which slots of series `index` (0 = first y column) to mark with a dot although its points are hidden. */
type DotFinder = (index: number) => number[] | null;

function seriesOptions(item: IDrawnSeries, hollow: string, dots: DotFinder): uPlot.Series {
  return {
    label: item.label,
    stroke: item.stroke,
    width: item.width,
    dash: item.dash.length > 0 ? item.dash : undefined,
    spanGaps: false,
    class: item.role === 'raw' ? RAW_ROW_CLASS : undefined,
    points: item.points
      ? { show: true, size: 7, width: 1.5, stroke: item.stroke, fill: item.pointFill ?? hollow }
      : { show: false, size: 5, stroke: item.stroke, fill: item.stroke, filter: (_plot, index) => dots(index - 1) },
    value: (_chart, value) => formatValue(value)
  };
}

/** uPlot options of a chart `width` pixels wide. */
export function chartOptions(chart: IChartData, width: number, parent: HTMLElement, dots: DotFinder): uPlot.Options {
  const hollow = background(parent);
  const text = axisColour(parent);
  const grid = { stroke: 'rgba(128, 128, 128, 0.15)', width: 1 };
  return {
    width,
    height: CHART_HEIGHT,
    pxAlign: 0,
    scales: {
      x: { time: false },
      y: chart.logScale ? { distr: 3, log: 10 } : {}
    },
    axes: [
      { label: chart.xLabel, stroke: text, grid, ticks: grid, labelSize: 20, size: 36,
        values: axisValues },
      { label: chart.group, stroke: text, grid, ticks: grid, labelSize: 20, size: 56,
        values: axisValues }
    ],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    series: [
      { label: chart.xLabel, value: (_chart, value) => formatValue(value) },
      ...chart.series.map(item => seriesOptions(item, hollow, dots))
    ]
  };
}

/** A uPlot chart of one group, kept while the series stay the same; each call reports its drawing time. */
export class CurvesChart {
  private _plot: uPlot;
  private _signature: string;
  private _isolated: number[][];
  /** Milliseconds of the last create or update, including uPlot's synchronous draw. */
  lastDrawMs = 0;

  constructor(
    readonly parent: HTMLElement,
    chart: IChartData,
    width: number
  ) {
    this._signature = chart.signature;
    this._isolated = chart.isolated;
    const dots: DotFinder = index => (this._isolated[index]?.length ? this._isolated[index] : null);
    const started = performance.now();
    // Commit inside batch(): uPlot otherwise draws in a microtask, and the time would miss the drawing.
    this._plot = new uPlot(chartOptions(chart, width, parent, dots), chart.data as uPlot.AlignedData, (plot, init) => {
      parent.appendChild(plot.root);
      plot.batch(init);
    });
    this.lastDrawMs = performance.now() - started;
  }

  get signature(): string {
    return this._signature;
  }

  /** Whether `chart` can be drawn by this chart with new data (same series, same looks). */
  accepts(chart: IChartData): boolean {
    return chart.signature === this._signature;
  }

  /**
   * Replace the data in place and redraw at once; returns the milliseconds it took. An x range
   * the user zoomed into (drag; double-click resets) is kept, so live updates do not undo it.
   */
  update(chart: IChartData): number {
    const started = performance.now();
    const plot = this._plot;
    const zoom = this._zoomedRange();
    this._isolated = chart.isolated;
    plot.batch(() => {
      plot.setData(chart.data as uPlot.AlignedData);
      if (zoom !== null) {
        plot.setScale('x', zoom);
      }
    });
    this.lastDrawMs = performance.now() - started;
    return this.lastDrawMs;
  }

  /** The shown x range when it is narrower than the data's, else null. */
  private _zoomedRange(): { min: number; max: number } | null {
    const { min, max } = this._plot.scales.x;
    const x = this._plot.data[0];
    if (min === undefined || max === undefined || x.length < 2) {
      return null;
    }
    return min > x[0] || max < x[x.length - 1] ? { min, max } : null;
  }

  /** Follow the output area's width. */
  resize(width: number): void {
    if (Math.abs(this._plot.width - width) >= 1) {
      this._plot.setSize({ width, height: CHART_HEIGHT });
    }
  }

  destroy(): void {
    this._plot.destroy();
  }
}
