// The netron display message sent by the kernel, and its validation (pure: no JupyterLab imports).

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

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

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

type Problems = string[];

function isRecord(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

function checkString(data: Record<string, unknown>, key: string, problems: Problems): void {
  if (!(key in data)) {
    problems.push(`missing "${key}"`);
  } else if (typeof data[key] !== 'string' || data[key] === '') {
    problems.push(`"${key}" must be a non-empty string`);
  }
}

function checkModelFields(data: Record<string, unknown>, problems: Problems): void {
  checkString(data, 'name', problems);
  checkString(data, 'title', problems);
  checkString(data, 'url', problems);
  if (typeof data.name === 'string' && data.name !== '' && !isModelName(data.name)) {
    problems.push(`"name" must use only letters, digits, ".", "_" and "-"`);
  }
  if (typeof data.url === 'string' && data.url !== '' && !isModelUrl(data.url)) {
    problems.push(`"url" must be "nbunify/models/<name>", relative to the Jupyter base URL`);
  }
  if (!('size' in data)) {
    problems.push('missing "size"');
  } else if (typeof data.size !== 'number' || !Number.isFinite(data.size) || data.size < 0) {
    problems.push('"size" must be a non-negative number of bytes');
  }
  if ('file' in data && typeof data.file !== 'string') {
    problems.push('"file" must be a string');
  }
}

function result<T>(what: string, data: Record<string, unknown>, problems: Problems): ParseResult<T> {
  if (problems.length > 0) {
    return { ok: false, error: `Invalid ${what}: ${problems.join('; ')}.` };
  }
  return { ok: true, message: data as unknown as T };
}

/** Validate the server's description of a published model. */
export function parseModelInfo(data: unknown): ParseResult<IModelInfo> {
  if (!isRecord(data)) {
    return { ok: false, error: 'Invalid model description: expected a JSON object.' };
  }
  const problems: Problems = [];
  checkModelFields(data, problems);
  return result<IModelInfo>('model description', data, problems);
}

/**
 * Validate a netron message; every problem is named at once, in words a user can act on.
 *
 * A message of a newer version is refused as a whole: its fields may mean something else.
 */
export function parseNetronMessage(data: unknown): ParseResult<INetronMessage> {
  if (!isRecord(data)) {
    return { ok: false, error: 'Invalid netron message: expected a JSON object.' };
  }
  const version = data.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { ok: false, error: 'Invalid netron message: "version" must be a positive integer.' };
  }
  if (version > MESSAGE_VERSION) {
    return {
      ok: false,
      error:
        `This netron message has version ${version}, newer than this nbunify JupyterLab ` +
        `extension understands (${MESSAGE_VERSION}). Upgrade the nbunify package and reload the page.`
    };
  }
  const problems: Problems = [];
  checkModelFields(data, problems);
  if (!('created' in data)) {
    problems.push('missing "created"');
  } else if (typeof data.created !== 'number' || !Number.isFinite(data.created)) {
    problems.push('"created" must be a time in milliseconds since the epoch');
  }
  if (!('open' in data)) {
    problems.push('missing "open"');
  } else if (typeof data.open !== 'boolean') {
    problems.push('"open" must be true or false');
  }
  return result<INetronMessage>('netron message', data, problems);
}
