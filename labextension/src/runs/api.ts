// Calls to nbunify's runs API (GET nbunify/api/runs and nbunify/api/runs/curves) through the Jupyter server.

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ICurvesMessage } from '../curves/message';
import { IRunList } from './format';

export const RUNS_API_ROUTE = 'nbunify/api/runs';
export const CURVES_API_ROUTE = 'nbunify/api/runs/curves';

/** GET `route?query` and parse its JSON; throws an Error whose message says what went wrong and what to do. */
async function getJson(
  route: string,
  query: Record<string, string>,
  what: string,
  settings: ServerConnection.ISettings
): Promise<unknown> {
  const url = URLExt.join(settings.baseUrl, route) + URLExt.objectToQueryString(query);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, { method: 'GET', cache: 'no-store' }, settings);
  } catch (error) {
    throw new Error(`Cannot reach the Jupyter server to read ${what}: ${String(error)}`);
  }
  let body: any = undefined;
  try {
    body = await response.json();
  } catch {
    // Not JSON: Jupyter's own HTML error page, e.g. when the route does not exist.
  }
  if (!response.ok) {
    if (body && typeof body.message === 'string' && body.message !== '') {
      throw new Error(body.message);
    }
    if (response.status === 404) {
      throw new Error(
        `The nbunify server extension does not answer at ${route} (HTTP 404). Check that ` +
          '`jupyter server extension list` shows nbunify enabled, then restart Jupyter.'
      );
    }
    if (response.status === 401 || response.status === 403) {
      throw new Error(`Reading ${what} was refused (HTTP ${response.status}): log in to Jupyter again.`);
    }
    throw new Error(`Reading ${what} failed: HTTP ${response.status} ${response.statusText}`);
  }
  if (body === undefined) {
    throw new Error(`Reading ${what} failed: the server did not answer with JSON.`);
  }
  return body;
}

function folderName(path: string): string {
  return path ? `'${path}'` : 'the root folder';
}

/** The runs of `<path>/nbunify-runs/runs.sqlite` (`path` relative to the server root; "" is the root), newest first. */
export async function fetchRuns(
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IRunList> {
  const what = `the runs of ${folderName(path)}`;
  const body = (await getJson(RUNS_API_ROUTE, { path }, what, settings)) as IRunList;
  if (!body || !Array.isArray(body.runs)) {
    throw new Error(`Reading ${what} failed: the answer has no "runs" list (is the server's nbunify older?).`);
  }
  return body;
}

/** The curves message of runs `ids` of the store in `path`; a 404 names the runs that are gone. */
export async function fetchCurves(
  path: string,
  ids: string[],
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<ICurvesMessage> {
  const what = `the curves of ${ids.join(', ')} in ${folderName(path)}`;
  const body = (await getJson(CURVES_API_ROUTE, { path, ids: ids.join(',') }, what, settings)) as ICurvesMessage;
  if (!body || !Array.isArray(body.runs) || !Array.isArray(body.metrics)) {
    throw new Error(`Reading ${what} failed: the answer is not a curves message.`);
  }
  return body;
}
