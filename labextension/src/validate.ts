// Validation helpers shared by the message parsers (pure: no DOM): problems named at once, newer versions refused.

/** What a parser returns: the message, or one error naming every problem. */
export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

export type Data = Record<string, unknown>;

/** More problems than this are counted, not listed: a broken 1,700-node message stays readable. */
const MAX_LISTED = 12;

export function isRecord(data: unknown): data is Data {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

/** The problems found in a message: the first few kept in words, the rest counted. */
export class Problems {
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

  /** The message when no problem was found, else the error naming them, e.g. "Invalid graph message: ...". */
  result<T>(what: string, message: () => T): ParseResult<T> {
    if (this.count > 0) {
      return { ok: false, error: `Invalid ${what}: ${this.describe()}.` };
    }
    return { ok: true, message: message() };
  }
}

/**
 * Check that `data` is an object with a version this extension understands (1 .. `newest`).
 *
 * A message of a newer version is refused as a whole: its fields may mean something else.
 */
export function checkEnvelope(
  data: unknown,
  what: string,
  newest: number
): { ok: true; data: Data } | { ok: false; error: string } {
  if (!isRecord(data)) {
    return { ok: false, error: `Invalid ${what}: expected a JSON object.` };
  }
  const version = data.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { ok: false, error: `Invalid ${what}: "version" must be a positive integer.` };
  }
  if (version > newest) {
    return {
      ok: false,
      error:
        `This ${what} has version ${version}, newer than this nbunify JupyterLab extension ` +
        `understands (${newest}). Upgrade the nbunify package and reload the page.`
    };
  }
  return { ok: true, data };
}
