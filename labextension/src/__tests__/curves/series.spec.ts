// From message to uPlot columns: alignment, gaps, EMA smoothing, x modes, metric groups, log safety, 100k points.

import golden from '../../../../tests/golden/curves-message.json';
import { ICurveRun, ICurveSeries, ICurvesMessage } from '../../curves/message';
import {
  buildChart, DEFAULT_OPTIONS, defaultGroups, expandGaps, ICurvesOptions, isolatedPoints, metricGroups, smooth
} from '../../curves/series';
import { RUN_DASHES } from '../../curves/style';
import { alignColumn, seriesX, unionX } from '../../curves/xaxis';

const message = golden as ICurvesMessage;

function series(kind: 'step' | 'epoch', metric: string, step: number[], y: (number | null)[],
  epoch?: number[], seconds?: number[]): ICurveSeries {
  const epochs = epoch ?? step.map((_, index) => index + 1);
  return {
    kind, metric, y, step, epoch: epochs,
    x: kind === 'step' ? step : epochs,
    seconds: seconds ?? step.map(value => value / 10)
  };
}

function run(id: string, framework: string, all: ICurveSeries[]): ICurveRun {
  const entries = all.map(item => [`${item.kind}/${item.metric}`, item] as const);
  return { id, name: id, framework, status: 'running', message: '', series: Object.fromEntries(entries) };
}

function curves(runs: ICurveRun[]): ICurvesMessage {
  const metrics = [...new Set(runs.flatMap(item => Object.values(item.series).map(entry => entry.metric)))];
  return { version: 1, title: 't', done: false, metrics, runs };
}

const options = (changes: Partial<ICurvesOptions> = {}): ICurvesOptions => ({ ...DEFAULT_OPTIONS, ...changes });
const lossGroup = { name: 'loss', metrics: ['loss', 'val_loss'] };

describe('metric groups', () => {
  it('puts each validation metric with its training metric, training first', () => {
    expect(metricGroups(message)).toEqual([
      { name: 'loss', metrics: ['loss', 'val_loss'] },
      { name: 'accuracy', metrics: ['accuracy', 'val_accuracy'] }
    ]);
    const other = curves([run('a', 'torch', [series('epoch', 'val_mae', [3], [1]), series('step', 'lr', [1], [0.1])])]);
    expect(metricGroups(other)).toEqual([{ name: 'mae', metrics: ['val_mae'] }, { name: 'lr', metrics: ['lr'] }]);
    expect(defaultGroups(metricGroups(message))).toEqual(['loss', 'accuracy']);
    expect(defaultGroups(metricGroups(other))).toEqual(['mae']);
  });

  it('charts loss and val_loss of every run together: step lines, epoch points', () => {
    const chart = buildChart(message, lossGroup, options());
    expect(chart.series.map(item => [item.runId, item.key, item.role])).toEqual([
      ['torch-0001', 'step/loss', 'line'], ['torch-0001', 'epoch/loss', 'epoch'], ['torch-0001', 'epoch/val_loss', 'epoch'],
      ['keras-0001', 'step/loss', 'line'], ['keras-0001', 'epoch/loss', 'epoch'], ['keras-0001', 'epoch/val_loss', 'epoch']
    ]);
    expect(chart.series.map(item => item.label)).toEqual([
      'mlp-torch loss', 'mlp-torch loss (epoch)', 'mlp-torch val_loss',
      'mlp-keras loss', 'mlp-keras loss (epoch)', 'mlp-keras val_loss'
    ]);
    const [line, epoch, validation] = chart.series;
    expect(line).toMatchObject({ width: 1, points: false, stroke: '#ee4c2c' });
    expect(epoch).toMatchObject({ width: 2, points: true, pointFill: '#ee4c2c' });
    expect(validation).toMatchObject({ points: true, pointFill: null }); // hollow markers
    expect(chart.series[3].stroke).toBe('#d00000');
    // epoch points sit at the step that ended their epoch
    expect(Array.from(chart.data[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(chart.data[2]).toEqual([undefined, undefined, 0.5, undefined, undefined, 0.25]);
    expect(chart.data[1]).toEqual([2.0, 1.0, 0.6667, 0.5, 0.4, 0.3333]);
    expect(chart.points).toBe(6 + 2 + 2 + 5 + 2 + 2); // keras has one null step loss
  });

  it('draws runs of one framework in the same colour with different dashes', () => {
    const a = run('a', 'torch', [series('step', 'loss', [1, 2], [1, 2])]);
    const b = run('b', 'torch', [series('step', 'loss', [1, 2], [3, 4])]);
    const chart = buildChart(curves([a, b]), lossGroup, options());
    expect(chart.series.map(item => item.stroke)).toEqual(['#ee4c2c', '#ee4c2c']);
    expect(chart.series.map(item => item.dash)).toEqual([[...RUN_DASHES[0]], [...RUN_DASHES[1]]]);
  });
});

describe('alignment and gaps', () => {
  it('aligns series with different x on their union, undefined where a series has no point', () => {
    const a = run('a', 'torch', [series('step', 'loss', [1, 3, 5], [10, 30, 50])]);
    const b = run('b', 'keras', [series('step', 'loss', [2, 3, 6], [20, 31, 60])]);
    const chart = buildChart(curves([a, b]), lossGroup, options());
    expect(Array.from(chart.data[0])).toEqual([1, 2, 3, 5, 6]);
    expect(chart.data[1]).toEqual([10, undefined, 30, 50, undefined]);
    expect(chart.data[2]).toEqual([undefined, 20, 31, undefined, 60]);
    expect(Array.from(unionX([new Float64Array([3, 1]), new Float64Array([2, 3])]))).toEqual([1, 2, 3]);
    const same = new Float64Array([1, 2, 4]);
    expect(Array.from(unionX([same, same.slice(), new Float64Array([0, 4, 5])]))).toEqual([0, 1, 2, 4, 5]);
    expect(unionX([]).length).toBe(0);
    expect(alignColumn(new Float64Array([1, 2, 3]), new Float64Array([3, 1]), [30, 10])).toEqual([10, undefined, 30]);
  });

  it('keeps null values as gaps, widened over neighbouring empty slots', () => {
    const a = run('a', 'torch', [series('step', 'loss', [1, 3, 5, 7], [10, null, 50, 70])]);
    const b = run('b', 'keras', [series('step', 'loss', [2, 4, 6], [20, 40, 60])]);
    const chart = buildChart(curves([a, b]), lossGroup, options());
    expect(Array.from(chart.data[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // the line of run a stops at x=1 and restarts at x=5, it does not join them across the gap
    expect(chart.data[1]).toEqual([10, null, null, null, 50, undefined, 70]);
    expect(chart.data[2]).toEqual([undefined, 20, undefined, 40, undefined, 60, undefined]);
    const golden = buildChart(message, lossGroup, options());
    expect(golden.data[4]).toEqual([2.2, 1.1, 0.7333, 0.55, null, 0.3667]);
    const column = [1, undefined, null, undefined, 2, null];
    expandGaps(column);
    expect(column).toEqual([1, null, null, null, 2, null]);
  });

  it('marks points with gaps on both sides, which a line cannot show (a run that failed at step 2)', () => {
    expect(isolatedPoints([1, null, null, 3, 4, null, 5])).toEqual([0, 6]);
    expect(isolatedPoints([undefined, 7, undefined])).toEqual([1]);
    expect(isolatedPoints([1, 2, undefined, 3])).toEqual([]);
    const failed = run('failed', 'torch', [series('step', 'loss', [1, 2], [2.3, null])]);
    const fine = run('fine', 'torch', [series('step', 'loss', [1, 2, 3], [2.3, 2.2, 2.1])]);
    const chart = buildChart(curves([fine, failed]), lossGroup, options());
    expect(chart.data.slice(1)).toEqual([[2.3, 2.2, 2.1], [2.3, null, null]]);
    expect(chart.isolated).toEqual([[], [0]]);
  });
});

describe('EMA smoothing', () => {
  it('matches a hand-computed TensorBoard EMA, skipping gaps', () => {
    // w = 0.5: 1 -> 0.5/0.5 = 1; 2 -> 1.25/0.75 = 1.6667; null stays; 4 -> 2.625/0.875 = 3
    const result = smooth([1, 2, null, undefined, 4], 0.5);
    expect(result[0]).toBeCloseTo(1, 10);
    expect(result[1]).toBeCloseTo(5 / 3, 10);
    expect(result[2]).toBeNull();
    expect(result[3]).toBeUndefined();
    expect(result[4]).toBeCloseTo(3, 10);
    expect(smooth([1, 2, 4], 0)).toEqual([1, 2, 4]);
    expect(smooth([0.5, 0.5, null, 0.5], 0.9)).toEqual([0.5, 0.5, null, 0.5]);
  });

  it('draws a smoothed step line over its faint raw line, and leaves epoch points alone', () => {
    const chart = buildChart(message, lossGroup, options({ smoothing: 0.5 }));
    const torch = chart.series.filter(item => item.runId === 'torch-0001');
    expect(torch.map(item => item.role)).toEqual(['raw', 'smoothed', 'epoch', 'epoch']);
    expect(torch[0].stroke).toBe('rgba(238, 76, 44, 0.25)');
    expect(torch[0].label).toBe('mlp-torch loss (raw)');
    expect(chart.data[1]).toEqual([2.0, 1.0, 0.6667, 0.5, 0.4, 0.3333]);
    expect(chart.data[2][0]).toBeCloseTo(2, 10);
    expect(chart.data[2][1]).toBeCloseTo((0.5 + 0.5) / 0.75, 10);
    expect(chart.data[3]).toEqual([undefined, undefined, 0.5, undefined, undefined, 0.25]);
    expect(chart.points).toBe(6 + 2 + 2 + 5 + 2 + 2); // a smoothed line and its raw line count once
    expect(chart.signature).not.toBe(buildChart(message, lossGroup, options()).signature);
    expect(chart.signature).toBe(buildChart(message, lossGroup, options({ smoothing: 0.9 })).signature);
  });
});

describe('x modes', () => {
  const torch = message.runs[0];

  it('puts epoch series at their step on the step axis', () => {
    expect(Array.from(seriesX(torch.series['epoch/val_loss'], 'step', []))).toEqual([3, 6]);
  });

  it('puts epoch points at their epoch and step points at their fraction of an epoch on the epoch axis', () => {
    const chart = buildChart(message, lossGroup, options({ xMode: 'epoch' }));
    expect(chart.xLabel).toBe('epoch');
    const x = Array.from(chart.data[0]);
    expect(x.map(value => Number(value.toFixed(4)))).toEqual([0.3333, 0.6667, 1, 1.3333, 1.6667, 2]);
    expect(chart.data[2]).toEqual([undefined, undefined, 0.5, undefined, undefined, 0.25]);
  });

  it('assumes a running epoch lasts as long as the one before it', () => {
    const steps = [1, 2, 3, 4, 5];
    const running = run('r', 'torch', [
      series('step', 'loss', steps, [5, 4, 3, 2, 1], [1, 1, 2, 2, 3]),
      series('epoch', 'loss', [2, 4], [4.5, 2.5], [1, 2])
    ]);
    const x = seriesX(running.series['step/loss'], 'epoch', [undefined, 2, 4]);
    expect(Array.from(x)).toEqual([0.5, 1, 1.5, 2, 2.5]);
  });

  it('uses training seconds on the time axis', () => {
    const chart = buildChart(message, lossGroup, options({ xMode: 'seconds' }));
    expect(chart.xLabel).toBe('time (s)');
    expect(Array.from(chart.data[0])).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(chart.data[3]).toEqual([undefined, undefined, 0.5333, undefined, undefined, 0.2667]);
  });
});

describe('log scale', () => {
  it('leaves values <= 0 out as gaps and counts them', () => {
    const a = run('a', 'torch', [series('step', 'loss', [1, 2, 3, 4], [1, 0, -2, 0.5])]);
    const chart = buildChart(curves([a]), lossGroup, options({ logScale: true }));
    expect(chart.logScale).toBe(true);
    expect(chart.data[1]).toEqual([1, null, null, 0.5]);
    expect(chart.hidden).toBe(2);
    expect(chart.points).toBe(2);
    const linear = buildChart(curves([a]), lossGroup, options());
    expect(linear.data[1]).toEqual([1, 0, -2, 0.5]);
    expect(linear.signature).not.toBe(chart.signature);
  });
});

describe('100,000 points', () => {
  it('builds aligned columns for 4 runs of 25,000 step points each', () => {
    const count = 25_000;
    const runs = ['torch', 'keras', 'paddle', 'torch'].map((framework, number) => {
      const steps = Array.from({ length: count }, (_, index) => index + 1 + (number % 2) * 0.5);
      const y = steps.map((step, index) => (index === 100 ? null : 1 / Math.sqrt(step)));
      return run(`${framework}-${number}`, framework, [series('step', 'loss', steps, y, steps.map(() => 1))]);
    });
    const chart = buildChart(curves(runs), lossGroup, options({ smoothing: 0.6 }));
    expect(chart.data[0].length).toBe(2 * count);
    expect(chart.data.length).toBe(1 + 2 * runs.length);
    expect(chart.points).toBe(4 * (count - 1));
    const raw = chart.data[1];
    expect(raw[0]).toBe(1);
    expect(raw[2 * 100]).toBeNull();
    expect(raw[2 * (count - 1)]).toBeCloseTo(1 / Math.sqrt(count), 12);
    expect(chart.data[2].filter(value => typeof value === 'number').length).toBe(count - 1);
  });
});
