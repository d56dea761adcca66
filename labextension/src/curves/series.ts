// Curves message + view options -> uPlot-aligned columns per chart: x union, gaps, EMA smoothing, log safety (pure: no DOM).

import { ICurveRun, ICurveSeries, ICurvesMessage } from './message';
import { RAW_ALPHA, runStyles, withAlpha } from './style';
import { alignColumn, Column, epochEnds, seriesX, unionX, X_LABELS, XMode } from './xaxis';

export { X_LABELS, X_MODES } from './xaxis';
export type { Column, XMode } from './xaxis';

/** The choices of the view's toolbar that change what is drawn. */
export interface ICurvesOptions {
  xMode: XMode;
  logScale: boolean;
  /** TensorBoard's EMA weight, 0 (raw) to 0.99; applies to step series. */
  smoothing: number;
}

export const DEFAULT_OPTIONS: Readonly<ICurvesOptions> = { xMode: 'step', logScale: false, smoothing: 0 };

/** A chart's metrics: a training metric and its validation twin ("loss" with "val_loss"). */
export interface IMetricGroup {
  name: string;
  metrics: string[];
}

/** Groups charted when the user has chosen none. */
export const DEFAULT_GROUPS: readonly string[] = ['loss', 'accuracy'];

/** One uPlot series: which source it draws and how it looks. */
export interface IDrawnSeries {
  runId: string;
  /** Key of the source series in the run, "<kind>/<metric>". */
  key: string;
  /** "line": a step series; "raw" and "smoothed": a step series drawn smoothed over its faint raw line; "epoch": points. */
  role: 'line' | 'raw' | 'smoothed' | 'epoch';
  label: string;
  stroke: string;
  width: number;
  dash: number[];
  /** Draw point markers (epoch series); `pointFill` null means hollow markers (validation metrics). */
  points: boolean;
  pointFill: string | null;
}

/** Everything one chart draws. `data` is uPlot's AlignedData: [x, ...one column per drawn series]. */
export interface IChartData {
  group: string;
  xLabel: string;
  logScale: boolean;
  series: IDrawnSeries[];
  data: [Float64Array, ...Column[]];
  /** Points of the message drawn (a smoothed series and its raw line count once). */
  points: number;
  /** Values <= 0 left out on a log scale. */
  hidden: number;
  /** Per drawn series, the slots of points with gaps (or nothing) on both sides: drawn as dots, a line cannot show them. */
  isolated: number[][];
  /** Equal signatures: same series with the same looks, so an update can keep the chart and set its data. */
  signature: string;
}

/** The group of a metric: validation metrics join their training metric. */
export function groupName(metric: string): string {
  return metric.startsWith('val_') ? metric.slice(4) : metric;
}

/** Metric groups in the message's order (message.metrics first, then any metric only found in series). */
export function metricGroups(message: ICurvesMessage): IMetricGroup[] {
  const groups = new Map<string, string[]>();
  const add = (metric: string) => {
    const name = groupName(metric);
    const metrics = groups.get(name) ?? [];
    if (!metrics.includes(metric)) {
      metrics.push(metric);
    }
    groups.set(name, metrics);
  };
  message.metrics.forEach(add);
  for (const run of message.runs) {
    Object.values(run.series).forEach(series => add(series.metric));
  }
  // training metric first, then its validation twin
  return [...groups].map(([name, metrics]) => ({ name, metrics: metrics.sort((a, b) => a.length - b.length) }));
}

/** The groups shown before the user picks: loss and accuracy when present, else the first group. */
export function defaultGroups(groups: readonly IMetricGroup[]): string[] {
  const names = groups.map(group => group.name);
  const chosen = DEFAULT_GROUPS.filter(name => names.includes(name));
  return chosen.length > 0 ? chosen : names.slice(0, 1);
}

/** The slots of values whose neighbours (skipping empty slots) are gaps or the ends: e.g. the last value before a run failed. */
export function isolatedPoints(column: Column): number[] {
  const isolated: number[] = [];
  let previous: number | null | undefined;
  let candidate = -1; // a value with a gap before it, waiting to see what follows
  for (let index = 0; index < column.length; index++) {
    const value = column[index];
    if (value === undefined) {
      continue;
    }
    if (candidate >= 0 && value === null) {
      isolated.push(candidate);
    }
    candidate = typeof value === 'number' && typeof previous !== 'number' ? index : -1;
    previous = value;
  }
  if (candidate >= 0) {
    isolated.push(candidate);
  }
  return isolated;
}

/**
 * TensorBoard's debiased exponential moving average, in order, skipping gaps.
 *
 * null stays null (a gap) and undefined stays undefined (no point); neither moves the average.
 * A constant series is returned as it is (no rounding drift).
 */
export function smooth(values: ArrayLike<number | null | undefined>, weight: number): Column {
  const result: Column = new Array(values.length);
  let first: number | undefined;
  let constant = true;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value === 'number') {
      first ??= value;
      constant &&= value === first;
    }
  }
  let last = 0;
  let power = 1; // weight ** (values averaged so far), for the debiasing
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value !== 'number' || constant || weight <= 0) {
      result[index] = value;
      continue;
    }
    last = last * weight + (1 - weight) * value;
    power *= weight;
    result[index] = last / (1 - power);
  }
  return result;
}

/** Replace values <= 0 by gaps (a log axis cannot place them); returns how many. */
export function hideNonPositive(column: Column): number {
  let hidden = 0;
  for (let index = 0; index < column.length; index++) {
    const value = column[index];
    if (typeof value === 'number' && value <= 0) {
      column[index] = null;
      hidden += 1;
    }
  }
  return hidden;
}

/**
 * Widen each gap over the neighbouring "no point here" slots, so the line stops at the last real
 * point before a gap and restarts at the first one after it (uPlot's NULL_EXPAND).
 */
export function expandGaps(column: Column): void {
  for (let index = 0; index < column.length; index++) {
    if (column[index] !== null) {
      continue;
    }
    for (let left = index - 1; left >= 0 && column[left] === undefined; left--) {
      column[left] = null;
    }
    let right = index + 1;
    while (right < column.length && typeof column[right] !== 'number') {
      column[right] = null;
      right++;
    }
    index = right - 1;
  }
}

/** One chart's data and series for `group`: every run's series of the group's metrics, step then epoch. */
export function buildChart(message: ICurvesMessage, group: IMetricGroup, options: ICurvesOptions): IChartData {
  const styles = runStyles(message.runs);
  const sources: { run: ICurveRun; key: string; series: ICurveSeries; xs: Float64Array }[] = [];
  for (const run of message.runs) {
    const ends = options.xMode === 'epoch' ? epochEnds(run) : [];
    for (const metric of group.metrics) {
      for (const kind of ['step', 'epoch']) {
        const key = `${kind}/${metric}`;
        const series = run.series[key];
        if (series && series.y.length > 0) {
          sources.push({ run, key, series, xs: seriesX(series, options.xMode, ends) });
        }
      }
    }
  }
  const x = unionX(sources.map(source => source.xs));
  const drawn: IDrawnSeries[] = [];
  const columns: Column[] = [];
  const isolated: number[][] = [];
  let points = 0;
  let hidden = 0;
  const weight = Math.min(0.99, Math.max(0, options.smoothing));
  for (const { run, key, series, xs } of sources) {
    const style = styles.get(run.id) ?? { colour: '#777777', dash: [] };
    const base = { runId: run.id, key, stroke: style.colour, dash: style.dash, pointFill: null, points: false };
    const label = `${run.name} ${series.metric}`;
    const raw = alignColumn(x, xs, series.y);
    const add = (column: Column, look: Omit<IDrawnSeries, 'runId' | 'key' | 'dash'>) => {
      if (options.logScale) {
        const count = hideNonPositive(column);
        hidden += look.role === 'smoothed' ? 0 : count;
      }
      expandGaps(column);
      drawn.push({ ...base, ...look });
      columns.push(column);
      isolated.push(look.role === 'line' || look.role === 'smoothed' ? isolatedPoints(column) : []);
    };
    if (series.kind === 'epoch') {
      const validation = series.metric.startsWith('val_');
      add(raw, { role: 'epoch', label: validation ? label : `${label} (epoch)`, stroke: style.colour, width: 2,
        points: true, pointFill: validation ? null : style.colour });
    } else if (weight > 0) {
      const smoothed = smooth(raw, weight);
      add(raw, { role: 'raw', label: `${label} (raw)`, stroke: withAlpha(style.colour, RAW_ALPHA), width: 1,
        points: false, pointFill: null });
      add(smoothed, { role: 'smoothed', label, stroke: style.colour, width: 1.5, points: false, pointFill: null });
    } else {
      add(raw, { role: 'line', label, stroke: style.colour, width: 1, points: false, pointFill: null });
    }
    for (let index = 0; index < raw.length; index++) {
      points += typeof raw[index] === 'number' ? 1 : 0;
    }
  }
  const signature = JSON.stringify([group.name, options.xMode, options.logScale,
    drawn.map(item => [item.runId, item.key, item.role, item.label, item.stroke, item.dash])]);
  return { group: group.name, xLabel: X_LABELS[options.xMode], logScale: options.logScale, series: drawn,
    data: [x, ...columns], points, hidden, isolated, signature };
}
