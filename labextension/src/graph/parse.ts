// Validation of a graph message (pure): every problem named at once, newer versions refused as a whole.

import { CATEGORIES, GRAPH_MESSAGE_VERSION, IGraphMessage } from './message';

export type GraphParseResult = { ok: true; message: IGraphMessage } | { ok: false; error: string };

/** Problems listed in an error before the rest are only counted (a broken 1,700-node message stays readable). */
const MAX_LISTED = 12;

type Problems = string[];
type Data = Record<string, unknown>;

function isRecord(data: unknown): data is Data {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

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
    problems.push('"values" must be an object of value name -> {dtype, shape, parameter, count}');
    return;
  }
  for (const [name, info] of Object.entries(values)) {
    const where = `value "${name}"`;
    if (!isRecord(info)) {
      problems.push(`${where} must be an object`);
      continue;
    }
    if (info.dtype !== null && typeof info.dtype !== 'string') {
      problems.push(`${where}: "dtype" must be a string or null`);
    }
    const shape = info.shape;
    const dimension = (d: unknown) => d === null || typeof d === 'string' || (typeof d === 'number' && Number.isFinite(d));
    if (shape !== null && !(Array.isArray(shape) && shape.every(dimension))) {
      problems.push(`${where}: "shape" must be a list of sizes, names or nulls, or null`);
    }
    if (typeof info.parameter !== 'boolean') {
      problems.push(`${where}: "parameter" must be true or false`);
    }
    if (!isCount(info.count)) {
      problems.push(`${where}: "count" must be a non-negative number`);
    }
  }
}

function checkArguments(where: string, key: string, data: unknown, values: Data, problems: Problems): void {
  if (!Array.isArray(data)) {
    problems.push(`${where}: "${key}" must be a list of {name, values}`);
    return;
  }
  for (const argument of data) {
    if (!isRecord(argument) || typeof argument.name !== 'string' || !isStringArray(argument.values)) {
      problems.push(`${where}: each of "${key}" must be {name: string, values: [value names]}`);
      continue;
    }
    for (const value of argument.values) {
      if (value !== '' && !(value in values)) {
        problems.push(`${where}: ${key} "${argument.name}" names value "${value}", missing from "values"`);
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
    problems.push(`${where}: "parity" must be null or {output, max_abs_error, relative_error, ok}`);
  }
}

function checkNode(node: unknown, index: number, values: Data, ids: Set<string>, problems: Problems): void {
  if (!isRecord(node)) {
    problems.push(`node ${index} must be an object`);
    return;
  }
  const where = typeof node.id === 'string' ? `node ${node.id}` : `node ${index}`;
  if (typeof node.id !== 'string' || node.id === '') {
    problems.push(`node ${index}: "id" must be a non-empty string`);
  } else if (ids.has(node.id)) {
    problems.push(`${where}: "id" is used by an earlier node`);
  } else {
    ids.add(node.id);
  }
  for (const key of ['name', 'op', 'domain']) {
    if (typeof node[key] !== 'string') {
      problems.push(`${where}: "${key}" must be a string`);
    }
  }
  if (!(CATEGORIES as readonly unknown[]).includes(node.category)) {
    problems.push(`${where}: "category" must be one of ${CATEGORIES.join(', ')}`);
  }
  if (!isStringArray(node.scope)) {
    problems.push(`${where}: "scope" must be a list of module names`);
  }
  if (!isRecord(node.attributes)) {
    problems.push(`${where}: "attributes" must be an object`);
  }
  checkArguments(where, 'inputs', node.inputs, values, problems);
  checkArguments(where, 'outputs', node.outputs, values, problems);
  if (!isCount(node.parameter_count)) {
    problems.push(`${where}: "parameter_count" must be a non-negative number`);
  }
  checkNodeParity(where, node.parity, problems);
}

function checkGraphParity(parity: unknown, ids: Set<string>, problems: Problems): void {
  if (parity === null || parity === undefined) {
    return;
  }
  if (!isRecord(parity)) {
    problems.push('"parity" must be null or the parity summary object');
    return;
  }
  if (typeof parity.a !== 'string' || typeof parity.b !== 'string') {
    problems.push('"parity": "a" and "b" must name what was compared');
  }
  if (!isError(parity.max_abs_error)) {
    problems.push('"parity": "max_abs_error" must be a number or null');
  }
  const drift = parity.first_drift;
  if (drift !== null && !(typeof drift === 'string' && ids.has(drift))) {
    problems.push('"parity": "first_drift" must be null or the id of a node');
  }
  const tolerance = parity.tolerance;
  if (!(Array.isArray(tolerance) && tolerance.length === 2 && tolerance.every(isCount))) {
    problems.push('"parity": "tolerance" must be [absolute, relative]');
  }
  if (!isCount(parity.unobserved)) {
    problems.push('"parity": "unobserved" must be a non-negative number');
  }
}

function checkTop(data: Data, problems: Problems): void {
  for (const key of ['title', 'framework']) {
    if (typeof data[key] !== 'string') {
      problems.push(`"${key}" must be a string`);
    }
  }
  if (data.source !== 'onnx' && data.source !== 'spec') {
    problems.push('"source" must be "onnx" or "spec"');
  }
  const values = isRecord(data.values) ? data.values : {};
  for (const key of ['inputs', 'outputs']) {
    const names = data[key];
    if (!isStringArray(names)) {
      problems.push(`"${key}" must be a list of value names`);
      continue;
    }
    for (const name of names.filter(name => !(name in values))) {
      problems.push(`graph ${key.slice(0, -1)} "${name}" is missing from "values"`);
    }
  }
  if (!isCount(data.parameter_count)) {
    problems.push('"parameter_count" must be a non-negative number');
  }
}

/**
 * Validate a graph message; the error names every problem (the first few, then a count).
 *
 * A message of a newer version is refused as a whole: its fields may mean something else.
 */
export function parseGraphMessage(data: unknown): GraphParseResult {
  if (!isRecord(data)) {
    return { ok: false, error: 'Invalid graph message: expected a JSON object.' };
  }
  const version = data.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { ok: false, error: 'Invalid graph message: "version" must be a positive integer.' };
  }
  if (version > GRAPH_MESSAGE_VERSION) {
    return {
      ok: false,
      error:
        `This graph message has version ${version}, newer than this nbunify JupyterLab extension ` +
        `understands (${GRAPH_MESSAGE_VERSION}). Upgrade the nbunify package and reload the page.`
    };
  }
  const problems: Problems = [];
  checkTop(data, problems);
  checkValues(data.values, problems);
  const values = isRecord(data.values) ? data.values : {};
  const ids = new Set<string>();
  if (!Array.isArray(data.nodes)) {
    problems.push('"nodes" must be a list of nodes');
  } else {
    data.nodes.forEach((node, index) => checkNode(node, index, values, ids, problems));
  }
  checkGraphParity(data.parity, ids, problems);
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED).join('; ');
    const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more problems` : '';
    return { ok: false, error: `Invalid graph message: ${listed}${more}.` };
  }
  return { ok: true, message: normalise(data as unknown as IGraphMessage) };
}

/** The message with absent optional parts as null, so the rest of the code reads one shape. */
function normalise(message: IGraphMessage): IGraphMessage {
  return {
    ...message,
    parity: message.parity ?? null,
    nodes: message.nodes.map(node => ({ ...node, parity: node.parity ?? null }))
  };
}
