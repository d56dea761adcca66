// Build the URLs of netron's UI and of served models under a Jupyter base URL (pure: no JupyterLab imports).

/** Route of netron's UI, relative to the Jupyter base URL. */
export const NETRON_ROUTE = 'nbunify/netron/index.html';

/** Route of the model-publishing API, relative to the Jupyter base URL. */
export const MODELS_API_ROUTE = 'nbunify/api/models';

// Only used to parse a base given as a bare path; never requested.
const PLACEHOLDER_ORIGIN = 'http://nbunify.invalid';

/**
 * The base URL with exactly one trailing slash, keeping its origin if it has one.
 *
 * `PageConfig.getBaseUrl()` gives `http://host:8888/` or `http://host/user/abc/`; tests and
 * configurations may give `/user/abc` or ''. Special characters are percent-encoded once
 * (an already-encoded `%20` stays as is).
 */
export function normalizeBaseUrl(baseUrl: string): string {
  const parsed = new URL(baseUrl || '/', PLACEHOLDER_ORIGIN);
  const path = parsed.pathname.replace(/\/*$/, '/');
  const hasOrigin = /^[a-z][a-z0-9+.-]*:/i.test(baseUrl);
  return hasOrigin ? `${parsed.origin}${path}` : path;
}

/** The path part of the base URL: starts and ends with '/', e.g. `/user/abc/`. */
export function basePath(baseUrl: string): string {
  return new URL(normalizeBaseUrl(baseUrl), PLACEHOLDER_ORIGIN).pathname;
}

/**
 * Join a base URL and a base-relative path, whatever slashes either side has.
 *
 * `relative` is an unencoded path such as `nbunify/models/a b.onnx`; each segment is
 * percent-encoded, so `?`, `#` and spaces in a name cannot end the path early.
 */
export function joinBaseUrl(baseUrl: string, relative: string): string {
  const segments = relative
    .split('/')
    .filter(segment => segment !== '')
    .map(segment => encodeURIComponent(segment));
  return normalizeBaseUrl(baseUrl) + segments.join('/');
}

/**
 * The src of the netron iframe for a model served at `modelUrl` (relative to the base).
 *
 * netron fetches `url` itself from the page's origin, so it gets the model's absolute path
 * including the base (`/user/abc/nbunify/models/x.onnx`), not a base-relative one.
 */
export function netronUrl(baseUrl: string, modelUrl: string, title: string): string {
  const modelPath = joinBaseUrl(basePath(baseUrl), modelUrl);
  const query = `url=${encodeURIComponent(modelPath)}&identifier=${encodeURIComponent(title)}`;
  return `${joinBaseUrl(baseUrl, NETRON_ROUTE)}?${query}`;
}
