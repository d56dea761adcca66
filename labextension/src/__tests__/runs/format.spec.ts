// Tests of runs/format: what a row of the Runs sidebar says about a run, and the curves tab's id.

import {
  anyRunning,
  curvesLabel,
  curvesWidgetId,
  folderLabel,
  formatMetric,
  frameworkColour,
  IRunSummary,
  metricsText,
  relativeTime,
  runRow,
  shortHash,
  statusClass,
  statusText
} from '../../runs/format';

const NOW = Date.UTC(2031, 0, 2, 3, 4, 5);
const NOW_SECONDS = NOW / 1000;

function run(overrides: Partial<IRunSummary> = {}): IRunSummary {
  return {
    id: 'torch-0002',
    name: 'mlp-torch',
    framework: 'torch',
    status: 'finished',
    message: '',
    dataset: 'digits',
    epochs: 3,
    steps: 12,
    created: NOW_SECONDS - 600,
    updated: NOW_SECONDS - 130,
    finished: NOW_SECONDS - 125,
    metrics: { loss: 2 / 12, accuracy: 0.7, val_loss: 0.4, val_accuracy: 0.9 },
    ...overrides
  };
}

describe('formatMetric', () => {
  // The expected texts are Python's format(value, '.4g'), as the notebook tables print them.
  it.each([
    [0.16666666666666666, '0.1667'],
    [0.9, '0.9'],
    [1, '1'],
    [12.5, '12.5'],
    [123.456, '123.5'],
    [100, '100'],
    [9999.7, '1e+04'],
    [12346, '1.235e+04'],
    [0.000123456, '0.0001235'],
    [0.00012, '0.00012'],
    [1.23e-5, '1.23e-05'],
    [1e-10, '1e-10'],
    [3e8, '3e+08'],
    [-0.5, '-0.5'],
    [0, '0']
  ])('%p -> %s', (value, text) => {
    expect(formatMetric(value)).toBe(text);
  });

  it.each([null, undefined, Number.NaN, Number.POSITIVE_INFINITY])('shows %p as a dash', value => {
    expect(formatMetric(value)).toBe('–');
  });
});

describe('status badges', () => {
  it.each([
    ['running', '● running', 'nbunify-runs-status-running'],
    ['finished', '✓ finished', 'nbunify-runs-status-finished'],
    ['interrupted', '■ interrupted', 'nbunify-runs-status-interrupted'],
    ['failed', '✗ failed', 'nbunify-runs-status-failed'],
    ['paused', 'paused', 'nbunify-runs-status-other'],
    ['', 'unknown', 'nbunify-runs-status-other']
  ])('%s -> %s', (status, text, className) => {
    expect(statusText(status)).toBe(text);
    expect(statusClass(status)).toBe(className);
  });
});

describe('relativeTime', () => {
  it.each([
    [2, 'just now'],
    [42, '42 s ago'],
    [300, '5 min ago'],
    [3 * 3600 + 59, '3 h ago'],
    [2 * 86400, '2 d ago'],
    [400 * 86400, '2029-11-28']
  ])('%d s before now -> %s', (age, text) => {
    expect(relativeTime(NOW_SECONDS - age, NOW)).toBe(text);
  });

  it('says nothing for a missing time and "just now" for a clock a little ahead', () => {
    expect(relativeTime(null, NOW)).toBe('');
    expect(relativeTime(0, NOW)).toBe('');
    expect(relativeTime(NOW_SECONDS + 3, NOW)).toBe('just now');
  });
});

describe('runRow', () => {
  it('shows a finished run with its framework colour, progress and key metrics', () => {
    const row = runRow(run(), NOW);
    expect(row).toMatchObject({
      id: 'torch-0002',
      name: 'mlp-torch',
      framework: 'torch',
      colour: '#ee4c2c',
      statusText: '✓ finished',
      statusClass: 'nbunify-runs-status-finished',
      progress: 'epoch 3 · step 12 · 2 min ago',
      metrics: 'loss 0.1667 · val loss 0.4 · best val acc 0.9'
    });
    expect(row.tooltip.split('\n')).toEqual([
      'mlp-torch (torch, id torch-0002)',
      'status: finished',
      'dataset: digits',
      '3 epoch(s), 12 step(s)',
      'loss: 0.1667',
      'accuracy: 0.7',
      'val_loss: 0.4',
      'val_accuracy: 0.9'
    ]);
  });

  it('dates a running run by its last write and a failed one says why', () => {
    const running = runRow(run({ status: 'running', finished: null, updated: NOW_SECONDS - 1 }), NOW);
    expect(running.progress).toBe('epoch 3 · step 12 · just now');
    const failed = runRow(run({ status: 'failed', message: 'the loss became nan', metrics: { loss: null } }), NOW);
    expect(failed.metrics).toBe('loss –');
    expect(failed.tooltip).toContain('status: failed (the loss became nan)');
  });

  it('keeps a run without metrics or times short', () => {
    const row = runRow(run({ epochs: 0, steps: 0, updated: null, finished: null, metrics: {}, dataset: '' }), NOW);
    expect(row.progress).toBe('epoch 0 · step 0');
    expect(row.metrics).toBe('');
  });
});

describe('helpers', () => {
  it('colours each framework as the PNG fallback does', () => {
    expect([frameworkColour('torch'), frameworkColour('keras'), frameworkColour('paddle')]).toEqual([
      '#ee4c2c',
      '#d00000',
      '#2932e1'
    ]);
    expect(frameworkColour('jax')).toBe('#888888');
  });

  it('lists regression metrics by their best value label', () => {
    expect(metricsText({ val_mae: 0.25, mae: 0.3 })).toBe('best val mae 0.25');
  });

  it('knows when a run is still running', () => {
    expect(anyRunning([run(), run({ status: 'running' })])).toBe(true);
    expect(anyRunning([run(), run({ status: 'interrupted' })])).toBe(false);
    expect(anyRunning([])).toBe(false);
  });

  it('gives one curves tab id per folder and set of runs, whatever their order', () => {
    const id = curvesWidgetId('runs-demo', ['b', 'a']);
    expect(id).toMatch(/^nbunify-runs-curves-[0-9a-f]{8}$/);
    expect(curvesWidgetId('runs-demo', ['a', 'b'])).toBe(id);
    expect(curvesWidgetId('runs-demo', ['a'])).not.toBe(id);
    expect(curvesWidgetId('other', ['a', 'b'])).not.toBe(id);
  });

  it('hashes with FNV-1a', () => {
    expect(shortHash('')).toBe('811c9dc5');
    expect(shortHash('a')).toBe('e40c292c');
  });

  it('labels tabs and folders', () => {
    expect(curvesLabel(['mlp-torch', 'mlp-keras'])).toBe('Curves: mlp-torch, mlp-keras');
    expect(curvesLabel(['x'.repeat(50)])).toBe(`Curves: ${'x'.repeat(39)}…`);
    expect(folderLabel('')).toBe('/');
    expect(folderLabel('runs-demo/')).toBe('/runs-demo');
  });
});
