// Where points sit on the x axis (step, epoch, seconds) and the union x of a chart's series (pure: no DOM).

import { ICurveRun, ICurveSeries } from './message';

/** A y column aligned on the chart's x: a number, null (a gap: the value was not finite) or undefined (no point there). */
export type Column = (number | null | undefined)[];

/** What the x axis counts: optimizer steps, epochs (fractional for step points), or training seconds. */
export type XMode = 'step' | 'epoch' | 'seconds';

export const X_MODES: readonly XMode[] = ['step', 'epoch', 'seconds'];

/** Axis title of each x mode. */
export const X_LABELS: Readonly<Record<XMode, string>> = { step: 'step', epoch: 'epoch', seconds: 'time (s)' };

/** Where each epoch of a run ended (optimizer step), from its epoch series; index = epoch number. */
export function epochEnds(run: ICurveRun): (number | undefined)[] {
  const ends: (number | undefined)[] = [];
  const sources = Object.values(run.series).filter(series => series.kind === 'epoch');
  const loss = run.series['epoch/loss'];
  for (const series of loss ? [loss, ...sources] : sources) {
    for (let index = 0; index < series.epoch.length; index++) {
      ends[series.epoch[index]] ??= series.step[index];
    }
  }
  return ends;
}

/**
 * The x of each point of `series` in `mode`. On the step axis an epoch point sits at the step
 * that ended its epoch; on the epoch axis a step point sits at its fraction of its epoch
 * (epoch e spans (e-1, e]; a running epoch is assumed as long as the one before it).
 */
export function seriesX(series: ICurveSeries, mode: XMode, ends: readonly (number | undefined)[]): Float64Array {
  const count = series.y.length;
  const xs = new Float64Array(count);
  if (mode === 'seconds' || mode === 'step' || series.kind === 'epoch') {
    const source = mode === 'seconds' ? series.seconds : mode === 'step' ? series.step : series.epoch;
    xs.set(source.slice(0, count));
    return xs;
  }
  // first and last step seen in each epoch (index = epoch number), then each epoch's start and length
  const first: number[] = [];
  const last: number[] = [];
  for (let index = 0; index < count; index++) {
    const epoch = series.epoch[index];
    first[epoch] ??= series.step[index];
    last[epoch] = series.step[index];
  }
  const start: number[] = [];
  const length: number[] = [];
  for (let epoch = 1; epoch < last.length; epoch++) {
    start[epoch] = epoch === 1 ? 0 : ends[epoch - 1] ?? (first[epoch] ?? 1) - 1;
    const end = ends[epoch];
    const before = length[epoch - 1];
    const guess = ends[epoch - 1] !== undefined && before !== undefined && !Number.isNaN(before) ? before : (last[epoch] ?? 0) - start[epoch];
    length[epoch] = Math.max(1, end !== undefined ? end - start[epoch] : guess);
  }
  for (let index = 0; index < count; index++) {
    const epoch = series.epoch[index];
    xs[index] = epoch - 1 + Math.min(1, Math.max(0, (series.step[index] - start[epoch]) / length[epoch]));
  }
  return xs;
}

/** Whether `values` never decreases. */
function isSorted(values: Float64Array): boolean {
  for (let index = 1; index < values.length; index++) {
    if (values[index] < values[index - 1]) {
      return false;
    }
  }
  return true;
}

/** The sorted union of two sorted arrays, without repeats (`a` has none). */
function merge(a: Float64Array, b: Float64Array): Float64Array {
  const result = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let count = 0;
  while (i < a.length || j < b.length) {
    const value = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
    if (count === 0 || result[count - 1] !== value) {
      result[count++] = value;
    }
  }
  return count === result.length ? result : result.slice(0, count);
}

/**
 * The sorted union of several x arrays, without repeats. Series come sorted, so a merge does it
 * in linear time (a typed-array sort of 100,000 values costs tens of milliseconds).
 */
export function unionX(arrays: readonly Float64Array[]): Float64Array {
  let union: Float64Array = new Float64Array(0);
  for (const array of arrays) {
    const sorted = isSorted(array) ? array : Float64Array.from(array).sort();
    if (union.length === sorted.length && union.every((value, index) => value === sorted[index])) {
      continue; // runs that log the same steps: nothing new
    }
    union = merge(union, sorted);
  }
  return union;
}

/** The values `y` at `xs`, placed on the union `x` (which contains every xs); other slots undefined. */
export function alignColumn(x: Float64Array, xs: Float64Array, y: readonly (number | null)[]): Column {
  const column: Column = new Array(x.length).fill(undefined);
  let slot = 0;
  for (let index = 0; index < xs.length; index++) {
    const target = xs[index];
    if (x[slot] !== target && x[slot + 1] === target) {
      slot += 1; // the usual case: the next point is in the next slot
    } else if (x[slot] !== target) {
      // search from the previous slot when xs is sorted, else from the start
      let from = x[slot] <= target ? slot : 0;
      let to = x.length - 1;
      while (from < to) {
        const middle = (from + to) >>> 1;
        if (x[middle] < target) {
          from = middle + 1;
        } else {
          to = middle;
        }
      }
      slot = from;
    }
    column[slot] = y[index];
  }
  return column;
}
