// The netron display message sent by the kernel, and its validation (pure: no JupyterLab imports).

import { checkEnvelope, isRecord, ParseResult, Problems } from '../validate';

/** MIME type of the kernel -> Lab message "open this served model in netron". */
export const NETRON_MIME_TYPE = 'application/vnd.nbunify.netron+json';

/** Newest message version this extension understands (nbunify.display.MESSAGE_VERSION). */
export const MESSAGE_VERSION = 1;

/** A model the server publishes under `nbunify/models/` (the answer of POST nbunify/api/models). */
export interface IModelInfo {
  /** Stored file name, `<stem>-<sha256[:12]><suffix>`; also the key of the netron tab. */
  name: string;
  /** What the user calls the model, usually its original file name; any text. */
  title: string;
  /** Where the model is served, relative to the Jupyter base URL: `nbunify/models/<name>`. */
  url: string;
  /** Size in bytes. */
  size: number;
  /** Absolute path of the stored file on the server (informational). */
  file?: string;
}

/** The data of an `application/vnd.nbunify.netron+json` output. */
export interface INetronMessage extends IModelInfo {
  version: number;
  /** When the kernel sent it, in milliseconds since the epoch. */
  created: number;
  /** Whether the kernel asked to open a netron tab right away. */
  open: boolean;
}

// Published names are made of these characters only (nbunify.model_files.publish); anything
// else in a url could leave the models route or the Jupyter origin.
const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;
const MODEL_ROUTE = /^nbunify\/models\/([^/]*)$/;

/** Whether `name` is a published model name (safe in a DOM id and in a URL path). */
export function isModelName(name: string): boolean {
  return MODEL_NAME.test(name) && !/^\.+$/.test(name);
}

/** Whether `url` is a base-relative URL of a served model, `nbunify/models/<name>`. */
export function isModelUrl(url: string): boolean {
  const match = MODEL_ROUTE.exec(url);
  return match !== null && isModelName(match[1]);
}

function checkString(data: Record<string, unknown>, key: string, problems: Problems): void {
  if (!(key in data)) {
    problems.add(`missing "${key}"`);
  } else if (typeof data[key] !== 'string' || data[key] === '') {
    problems.add(`"${key}" must be a non-empty string`);
  }
}

function checkModelFields(data: Record<string, unknown>, problems: Problems): void {
  checkString(data, 'name', problems);
  checkString(data, 'title', problems);
  checkString(data, 'url', problems);
  if (typeof data.name === 'string' && data.name !== '' && !isModelName(data.name)) {
    problems.add(`"name" must use only letters, digits, ".", "_" and "-"`);
  }
  if (typeof data.url === 'string' && data.url !== '' && !isModelUrl(data.url)) {
    problems.add(`"url" must be "nbunify/models/<name>", relative to the Jupyter base URL`);
  }
  if (!('size' in data)) {
    problems.add('missing "size"');
  } else if (typeof data.size !== 'number' || !Number.isFinite(data.size) || data.size < 0) {
    problems.add('"size" must be a non-negative number of bytes');
  }
  if ('file' in data && typeof data.file !== 'string') {
    problems.add('"file" must be a string');
  }
}

/** Validate the server's description of a published model. */
export function parseModelInfo(data: unknown): ParseResult<IModelInfo> {
  if (!isRecord(data)) {
    return { ok: false, error: 'Invalid model description: expected a JSON object.' };
  }
  const problems = new Problems();
  checkModelFields(data, problems);
  return problems.result('model description', () => data as unknown as IModelInfo);
}

/** Validate a netron message; every problem is named at once, in words a user can act on. */
export function parseNetronMessage(message: unknown): ParseResult<INetronMessage> {
  const envelope = checkEnvelope(message, 'netron message', MESSAGE_VERSION);
  if (!envelope.ok) {
    return envelope;
  }
  const data = envelope.data;
  const problems = new Problems();
  checkModelFields(data, problems);
  if (!('created' in data)) {
    problems.add('missing "created"');
  } else if (typeof data.created !== 'number' || !Number.isFinite(data.created)) {
    problems.add('"created" must be a time in milliseconds since the epoch');
  }
  if (!('open' in data)) {
    problems.add('missing "open"');
  } else if (typeof data.open !== 'boolean') {
    problems.add('"open" must be true or false');
  }
  return problems.result('netron message', () => data as unknown as INetronMessage);
}
