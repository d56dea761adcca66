// Validation of a graph message (pure): every problem named at once, newer versions refused as a whole.

import { checkEnvelope, Data, isRecord, ParseResult, Problems } from '../validate';
import { CATEGORIES, GRAPH_MESSAGE_VERSION, IGraphMessage } from './message';

function isStringArray(data: unknown): data is string[] {
  return Array.isArray(data) && data.every(item => typeof item === 'string');
}

function isCount(data: unknown): boolean {
  return typeof data === 'number' && Number.isFinite(data) && data >= 0;
}

/** An error measure: a number, or null when it could not be measured (the Python side sends inf as null). */
function isError(data: unknown): boolean {
  return data === null || (typeof data === 'number' && !Number.isNaN(data));
}

function checkValues(values: unknown, problems: Problems): void {
  if (!isRecord(values)) {
    problems.add('"values" must be an object of value name -> {dtype, shape, parameter, count}');
    return;
  }
  for (const [name, info] of Object.entries(values)) {
    const where = `value "${name}"`;
    if (!isRecord(info)) {
      problems.add(`${where} must be an object`);
      continue;
    }
    if (info.dtype !== null && typeof info.dtype !== 'string') {
      problems.add(`${where}: "dtype" must be a string or null`);
    }
    const shape = info.shape;
    const dimension = (d: unknown) => d === null || typeof d === 'string' || (typeof d === 'number' && Number.isFinite(d));
    if (shape !== null && !(Array.isArray(shape) && shape.every(dimension))) {
      problems.add(`${where}: "shape" must be a list of sizes, names or nulls, or null`);
    }
    if (typeof info.parameter !== 'boolean') {
      problems.add(`${where}: "parameter" must be true or false`);
    }
    if (!isCount(info.count)) {
      problems.add(`${where}: "count" must be a non-negative number`);
    }
  }
}

function checkArguments(where: string, key: string, data: unknown, values: Data, problems: Problems): void {
  if (!Array.isArray(data)) {
    problems.add(`${where}: "${key}" must be a list of {name, values}`);
    return;
  }
  for (const argument of data) {
    if (!isRecord(argument) || typeof argument.name !== 'string' || !isStringArray(argument.values)) {
      problems.add(`${where}: each of "${key}" must be {name: string, values: [value names]}`);
      continue;
    }
    for (const value of argument.values) {
      if (value !== '' && !(value in values)) {
        problems.add(`${where}: ${key} "${argument.name}" names value "${value}", missing from "values"`);
      }
    }
  }
}

function checkNodeParity(where: string, parity: unknown, problems: Problems): void {
  if (parity === null || parity === undefined) {
    return;
  }
  if (
    !isRecord(parity) ||
    typeof parity.output !== 'string' ||
    typeof parity.ok !== 'boolean' ||
    !isError(parity.max_abs_error) ||
    !isError(parity.relative_error)
  ) {
    problems.add(`${where}: "parity" must be null or {output, max_abs_error, relative_error, ok}`);
  }
}

function checkNode(node: unknown, index: number, values: Data, ids: Set<string>, problems: Problems): void {
  if (!isRecord(node)) {
    problems.add(`node ${index} must be an object`);
    return;
  }
  const where = typeof node.id === 'string' ? `node ${node.id}` : `node ${index}`;
  if (typeof node.id !== 'string' || node.id === '') {
    problems.add(`node ${index}: "id" must be a non-empty string`);
  } else if (ids.has(node.id)) {
    problems.add(`${where}: "id" is used by an earlier node`);
  } else {
    ids.add(node.id);
  }
  for (const key of ['name', 'op', 'domain']) {
    if (typeof node[key] !== 'string') {
      problems.add(`${where}: "${key}" must be a string`);
    }
  }
  if (!(CATEGORIES as readonly unknown[]).includes(node.category)) {
    problems.add(`${where}: "category" must be one of ${CATEGORIES.join(', ')}`);
  }
  if (!isStringArray(node.scope)) {
    problems.add(`${where}: "scope" must be a list of module names`);
  }
  if (!isRecord(node.attributes)) {
    problems.add(`${where}: "attributes" must be an object`);
  }
  checkArguments(where, 'inputs', node.inputs, values, problems);
  checkArguments(where, 'outputs', node.outputs, values, problems);
  if (!isCount(node.parameter_count)) {
    problems.add(`${where}: "parameter_count" must be a non-negative number`);
  }
  checkNodeParity(where, node.parity, problems);
}

function checkGraphParity(parity: unknown, ids: Set<string>, problems: Problems): void {
  if (parity === null || parity === undefined) {
    return;
  }
  if (!isRecord(parity)) {
    problems.add('"parity" must be null or the parity summary object');
    return;
  }
  if (typeof parity.a !== 'string' || typeof parity.b !== 'string') {
    problems.add('"parity": "a" and "b" must name what was compared');
  }
  if (!isError(parity.max_abs_error)) {
    problems.add('"parity": "max_abs_error" must be a number or null');
  }
  const drift = parity.first_drift;
  if (drift !== null && !(typeof drift === 'string' && ids.has(drift))) {
    problems.add('"parity": "first_drift" must be null or the id of a node');
  }
  const tolerance = parity.tolerance;
  if (!(Array.isArray(tolerance) && tolerance.length === 2 && tolerance.every(isCount))) {
    problems.add('"parity": "tolerance" must be [absolute, relative]');
  }
  if (!isCount(parity.unobserved)) {
    problems.add('"parity": "unobserved" must be a non-negative number');
  }
}

function checkTop(data: Data, problems: Problems): void {
  for (const key of ['title', 'framework']) {
    if (typeof data[key] !== 'string') {
      problems.add(`"${key}" must be a string`);
    }
  }
  if (data.source !== 'onnx' && data.source !== 'spec') {
    problems.add('"source" must be "onnx" or "spec"');
  }
  const values = isRecord(data.values) ? data.values : {};
  for (const key of ['inputs', 'outputs']) {
    const names = data[key];
    if (!isStringArray(names)) {
      problems.add(`"${key}" must be a list of value names`);
      continue;
    }
    for (const name of names.filter(name => !(name in values))) {
      problems.add(`graph ${key.slice(0, -1)} "${name}" is missing from "values"`);
    }
  }
  if (!isCount(data.parameter_count)) {
    problems.add('"parameter_count" must be a non-negative number');
  }
}

/** Validate a graph message; the error names every problem (the first few, then a count). */
export function parseGraphMessage(message: unknown): ParseResult<IGraphMessage> {
  const envelope = checkEnvelope(message, 'graph message', GRAPH_MESSAGE_VERSION);
  if (!envelope.ok) {
    return envelope;
  }
  const data = envelope.data;
  const problems = new Problems();
  checkTop(data, problems);
  checkValues(data.values, problems);
  const values = isRecord(data.values) ? data.values : {};
  const ids = new Set<string>();
  if (!Array.isArray(data.nodes)) {
    problems.add('"nodes" must be a list of nodes');
  } else {
    data.nodes.forEach((node, index) => checkNode(node, index, values, ids, problems));
  }
  checkGraphParity(data.parity, ids, problems);
  return problems.result('graph message', () => normalise(data as unknown as IGraphMessage));
}

/** The message with absent optional parts as null, so the rest of the code reads one shape. */
function normalise(message: IGraphMessage): IGraphMessage {
  return {
    ...message,
    parity: message.parity ?? null,
    nodes: message.nodes.map(node => ({ ...node, parity: node.parity ?? null }))
  };
}
