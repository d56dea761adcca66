// Calls to nbunify's server extension (publish a model file so netron can fetch it).

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IModelInfo, parseModelInfo } from './message';
import { MODELS_API_ROUTE } from './url';

/** Read `{"message": ...}` from an error answer, or undefined when it has none. */
async function errorMessage(response: Response): Promise<string | undefined> {
  try {
    const body = await response.json();
    if (body && typeof body.message === 'string' && body.message !== '') {
      return body.message;
    }
  } catch {
    // Not JSON: Jupyter's own HTML error page, e.g. when the route does not exist.
  }
  return undefined;
}

/**
 * Publish the file at `path` (a contents path, as the file browser gives it) into the served
 * models directory, and describe it. Throws an Error whose message a user can act on.
 */
export async function publishModel(
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IModelInfo> {
  const url = URLExt.join(settings.baseUrl, MODELS_API_ROUTE);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { method: 'POST', body: JSON.stringify({ path }) },
      settings
    );
  } catch (error) {
    throw new Error(`Cannot reach the Jupyter server to publish ${path}: ${String(error)}`);
  }
  if (!response.ok) {
    const message = await errorMessage(response);
    if (message !== undefined) {
      throw new Error(message);
    }
    if (response.status === 404) {
      throw new Error(
        `The nbunify server extension does not answer at ${MODELS_API_ROUTE} (HTTP 404). ` +
          'Check that `jupyter server extension list` shows nbunify enabled, then restart Jupyter.'
      );
    }
    throw new Error(`Publishing ${path} failed: HTTP ${response.status} ${response.statusText}`);
  }
  let data: unknown;
  try {
    data = await response.json();
  } catch {
    throw new Error(`Publishing ${path} failed: the server did not answer with JSON.`);
  }
  const parsed = parseModelInfo(data);
  if (!parsed.ok) {
    throw new Error(parsed.error);
  }
  return parsed.message;
}
