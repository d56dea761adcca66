// The renderer factory of `application/vnd.nbunify.graph+json`: rank 0, ahead of the bundle's text/html, image/png and text/plain fallbacks.

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { GRAPH_MIME_TYPE } from './message';
import { GraphView } from './view';

/** Rank of the factory: lower wins; JupyterLab's own html/image/text renderers rank 50 and above. */
export const GRAPH_RENDERER_RANK = 0;

/** The factory to add to a rendermime registry; safe, as the view sets text only (labels are never HTML). */
export const graphRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [GRAPH_MIME_TYPE],
  defaultRank: GRAPH_RENDERER_RANK,
  createRenderer: options => new GraphView(options.mimeType)
};
