// Validation of a curves message: every problem named at once; a newer version refused (pure: no DOM).

import { CURVES_MESSAGE_VERSION, ICurveRun, ICurvesMessage } from './message';

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

/** More problems than this are counted, not listed: a broken message may hold thousands. */
const MAX_LISTED = 12;

const ARRAYS = ['x', 'step', 'epoch', 'seconds'] as const;

class Problems {
  readonly listed: string[] = [];
  count = 0;

  add(problem: string): void {
    this.count += 1;
    if (this.listed.length < MAX_LISTED) {
      this.listed.push(problem);
    }
  }

  describe(): string {
    const more = this.count - this.listed.length;
    return this.listed.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
  }
}

function isRecord(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/** Name the first non-finite entry of a number array, and how many there are. */
function checkNumbers(values: unknown[], where: string, nullable: boolean, problems: Problems): void {
  let bad = 0;
  let firstBad = -1;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    const ok = (typeof value === 'number' && Number.isFinite(value)) || (nullable && value === null);
    if (!ok) {
      bad += 1;
      firstBad = firstBad < 0 ? index : firstBad;
    }
  }
  if (bad > 0) {
    const what = nullable ? 'finite numbers or null' : 'finite numbers';
    const value = JSON.stringify(values[firstBad]) ?? 'undefined';
    problems.add(`${where} must hold ${what}: ${bad} do not (first at index ${firstBad}: ${value})`);
  }
}

function checkSeries(data: unknown, where: string, key: string, problems: Problems): void {
  if (!isRecord(data)) {
    problems.add(`${where} must be an object`);
    return;
  }
  if (data.kind !== 'step' && data.kind !== 'epoch') {
    problems.add(`${where}.kind must be "step" or "epoch"`);
  }
  if (typeof data.metric !== 'string' || data.metric === '') {
    problems.add(`${where}.metric must be a non-empty string`);
  } else if (typeof data.kind === 'string' && key !== `${data.kind}/${data.metric}`) {
    problems.add(`${where} is keyed "${key}" but holds "${data.kind}/${data.metric}"`);
  }
  const y = data.y;
  if (!Array.isArray(y)) {
    problems.add(`${where}.y must be an array`);
  } else {
    checkNumbers(y, `${where}.y`, true, problems);
  }
  for (const name of ARRAYS) {
    const values = data[name];
    if (!Array.isArray(values)) {
      problems.add(`${where}.${name} must be an array`);
      continue;
    }
    checkNumbers(values, `${where}.${name}`, false, problems);
    if (Array.isArray(y) && values.length !== y.length) {
      problems.add(`${where}.${name} has ${values.length} values but y has ${y.length}`);
    }
  }
}

function checkRun(data: unknown, index: number, problems: Problems): void {
  let where = `runs[${index}]`;
  if (!isRecord(data)) {
    problems.add(`${where} must be an object`);
    return;
  }
  if (typeof data.name === 'string') {
    where += ` (${JSON.stringify(data.name)})`;
  }
  if (typeof data.id !== 'string' || data.id === '') {
    problems.add(`${where}.id must be a non-empty string`);
  }
  for (const key of ['name', 'framework', 'status', 'message']) {
    if (typeof data[key] !== 'string') {
      problems.add(`${where}.${key} must be a string`);
    }
  }
  if (!isRecord(data.series)) {
    problems.add(`${where}.series must be an object keyed "<kind>/<metric>"`);
    return;
  }
  for (const [key, series] of Object.entries(data.series)) {
    checkSeries(series, `${where}.series[${JSON.stringify(key)}]`, key, problems);
  }
}

/**
 * Validate a curves message; every problem is named at once, in words a user can act on.
 *
 * A message of a newer version is refused as a whole: its fields may mean something else.
 */
export function parseCurvesMessage(data: unknown): ParseResult<ICurvesMessage> {
  if (!isRecord(data)) {
    return { ok: false, error: 'Invalid curves message: expected a JSON object.' };
  }
  const version = data.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { ok: false, error: 'Invalid curves message: "version" must be a positive integer.' };
  }
  if (version > CURVES_MESSAGE_VERSION) {
    return {
      ok: false,
      error:
        `This curves message has version ${version}, newer than this nbunify JupyterLab ` +
        `extension understands (${CURVES_MESSAGE_VERSION}). Upgrade the nbunify package and reload the page.`
    };
  }
  const problems = new Problems();
  if (typeof data.title !== 'string') {
    problems.add('"title" must be a string');
  }
  if (typeof data.done !== 'boolean') {
    problems.add('"done" must be true or false');
  }
  if (!Array.isArray(data.metrics) || data.metrics.some(metric => typeof metric !== 'string')) {
    problems.add('"metrics" must be an array of metric names');
  }
  if (!Array.isArray(data.runs)) {
    problems.add('"runs" must be an array');
  } else {
    data.runs.forEach((run, index) => checkRun(run, index, problems));
    const ids = (data.runs as ICurveRun[]).map(run => (isRecord(run) ? run.id : undefined));
    const repeated = ids.filter((id, index) => typeof id === 'string' && ids.indexOf(id) !== index);
    if (repeated.length > 0) {
      problems.add(`run ids must be unique: ${[...new Set(repeated)].map(id => JSON.stringify(id)).join(', ')} repeat`);
    }
  }
  if (problems.count > 0) {
    return { ok: false, error: `Invalid curves message: ${problems.describe()}.` };
  }
  return { ok: true, message: data as unknown as ICurvesMessage };
}
