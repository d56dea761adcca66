// The JupyterLab plugin of the graph renderer: registers the factory and starts ELK's worker early.

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { warmUpElk } from './elk';
import { GRAPH_RENDERER_RANK, graphRendererFactory } from './renderer';

/** Draws `application/vnd.nbunify.graph+json` outputs (nu.show, %unify show) as an interactive graph. */
export const graphRendererPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbunify:graph-renderer',
  description: 'Render nbunify graph messages as an interactive, searchable model graph.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (app: JupyterFrontEnd, rendermime: IRenderMimeRegistry) => {
    rendermime.addFactory(graphRendererFactory, GRAPH_RENDERER_RANK);
    // Load elk into its worker once the page has settled, so that the first graph does not wait for it.
    void app.restored.then(() => warmUpElk()).catch(error => console.warn('nbunify: ELK did not start', error));
  }
};
