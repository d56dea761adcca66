// Pure helpers of the Runs sidebar: the run list's types, row text, metrics, status badges, ages, tab ids.

/** The key numbers of a run (nbunify/server/runs.py run_metrics): null where a value was not finite. */
export type RunMetrics = Record<string, number | null>;

/** One run of `GET nbunify/api/runs`. Times are seconds since the epoch. */
export interface IRunSummary {
  id: string;
  name: string;
  framework: string;
  /** "running", "finished", "interrupted" (its process died) or "failed". */
  status: string;
  message: string;
  dataset: string;
  epochs: number;
  steps: number;
  created: number | null;
  updated: number | null;
  finished: number | null;
  metrics: RunMetrics;
}

/** The answer of `GET nbunify/api/runs?path=<folder>`: the folder's runs, newest first. */
export interface IRunList {
  path: string;
  /** The store file relative to the server root, or null when the folder has none. */
  store: string | null;
  runs: IRunSummary[];
}

/** Framework colours, as nbunify.curves.COLOURS. */
export const FRAMEWORK_COLOURS: Record<string, string> = {
  torch: '#ee4c2c',
  keras: '#d00000',
  paddle: '#2932e1'
};
const OTHER_COLOUR = '#888888';

/** Metrics shown in a row, in this order, with their short labels (others are in the row's tooltip). */
const KEY_METRICS: [string, string][] = [
  ['loss', 'loss'],
  ['val_loss', 'val loss'],
  ['val_accuracy', 'best val acc'],
  ['val_mae', 'best val mae']
];

/** What a row of the panel shows; every string goes into the DOM as text. */
export interface IRunRow {
  id: string;
  name: string;
  framework: string;
  colour: string;
  status: string;
  statusText: string;
  /** CSS class of the status badge, e.g. "nbunify-runs-status-running". */
  statusClass: string;
  /** "epoch 3 · step 120 · 2 min ago". */
  progress: string;
  /** "loss 0.1234 · val loss 0.2 · best val acc 0.95", or "" without metrics. */
  metrics: string;
  /** Everything, one fact per line, for the row's tooltip. */
  tooltip: string;
}

export function frameworkColour(framework: string): string {
  return FRAMEWORK_COLOURS[framework] ?? OTHER_COLOUR;
}

/** A metric value with 4 significant digits as Python's `{:.4g}` writes it (ties may round the other way); "–" for a missing or non-finite value. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  if (value === 0) {
    return '0';
  }
  // The exponent after rounding to 4 significant digits (9999.7 is 1.000e+4), as Python decides.
  const [mantissa, power] = value.toExponential(3).split('e');
  const exponent = Number(power);
  if (exponent < -4 || exponent >= 4) {
    return `${trimZeros(mantissa)}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return trimZeros(value.toFixed(3 - exponent));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** The badge text of a status: "running", "finished", "interrupted", "failed" (unknown ones as they are). */
export function statusText(status: string): string {
  switch (status) {
    case 'running':
      return '● running';
    case 'finished':
      return '✓ finished';
    case 'interrupted':
      return '■ interrupted';
    case 'failed':
      return '✗ failed';
    default:
      return status || 'unknown';
  }
}

export function statusClass(status: string): string {
  const known = ['running', 'finished', 'interrupted', 'failed'];
  return `nbunify-runs-status-${known.includes(status) ? status : 'other'}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago", else the date (YYYY-MM-DD, UTC). */
export function relativeTime(seconds: number | null | undefined, nowMs: number = Date.now()): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) {
    return '';
  }
  const age = Math.max(0, nowMs / 1000 - seconds);
  if (age < 5) {
    return 'just now';
  }
  if (age < 60) {
    return `${Math.floor(age)} s ago`;
  }
  if (age < 3600) {
    return `${Math.floor(age / 60)} min ago`;
  }
  if (age < 86400) {
    return `${Math.floor(age / 3600)} h ago`;
  }
  if (age < 30 * 86400) {
    return `${Math.floor(age / 86400)} d ago`;
  }
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** "loss 0.1234 · val loss 0.2 · best val acc 0.95": the key metrics the run has, in a fixed order. */
export function metricsText(metrics: RunMetrics): string {
  return KEY_METRICS.filter(([name]) => name in metrics)
    .map(([name, label]) => `${label} ${formatMetric(metrics[name])}`)
    .join(' · ');
}

/** The row of one run, as of `nowMs`. */
export function runRow(run: IRunSummary, nowMs: number = Date.now()): IRunRow {
  const when = relativeTime(run.status === 'running' ? run.updated : (run.finished ?? run.updated), nowMs);
  const progress = [`epoch ${run.epochs}`, `step ${run.steps}`, when].filter(part => part !== '').join(' · ');
  const allMetrics = Object.entries(run.metrics).map(([name, value]) => `${name}: ${formatMetric(value)}`);
  const tooltip = [
    `${run.name} (${run.framework}, id ${run.id})`,
    `status: ${run.status}${run.message ? ` (${run.message})` : ''}`,
    run.dataset ? `dataset: ${run.dataset}` : '',
    `${run.epochs} epoch(s), ${run.steps} step(s)`,
    ...allMetrics
  ].filter(line => line !== '');
  return {
    id: run.id,
    name: run.name,
    framework: run.framework,
    colour: frameworkColour(run.framework),
    status: run.status,
    statusText: statusText(run.status),
    statusClass: statusClass(run.status),
    progress,
    metrics: metricsText(run.metrics),
    tooltip: tooltip.join('\n')
  };
}

/** Whether any of `runs` is still training (the panel keeps polling while one is). */
export function anyRunning(runs: { status: string }[]): boolean {
  return runs.some(run => run.status === 'running');
}

/** FNV-1a 32-bit hash of `text`, as 8 hex digits. */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** The curves tab's widget id for runs `ids` of `folder`: the same runs, in any order, reuse one tab. */
export function curvesWidgetId(folder: string, ids: string[]): string {
  return `nbunify-runs-curves-${shortHash(`${folder}\n${[...ids].sort().join(',')}`)}`;
}

/** The curves tab's label: "Curves: a, b" (at most 40 characters of names). */
export function curvesLabel(names: string[]): string {
  const joined = names.join(', ');
  return `Curves: ${joined.length > 40 ? `${joined.slice(0, 39)}…` : joined}`;
}

/** The folder as the header shows it: "/" for the root, else "/a/b". */
export function folderLabel(path: string): string {
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}
