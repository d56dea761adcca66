// Validation of a curves message: every problem named at once; a newer version refused (pure: no DOM).

import { checkEnvelope, isRecord, ParseResult, Problems } from '../validate';
import { CURVES_MESSAGE_VERSION, ICurveRun, ICurvesMessage } from './message';

const ARRAYS = ['x', 'step', 'epoch', 'seconds'] as const;

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

/** Validate a curves message; every problem is named at once, in words a user can act on. */
export function parseCurvesMessage(message: unknown): ParseResult<ICurvesMessage> {
  const envelope = checkEnvelope(message, 'curves message', CURVES_MESSAGE_VERSION);
  if (!envelope.ok) {
    return envelope;
  }
  const data = envelope.data;
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
  return problems.result('curves message', () => data as unknown as ICurvesMessage);
}
