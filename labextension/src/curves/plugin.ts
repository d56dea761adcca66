// The JupyterLab plugin that registers the curves output renderer.

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { curvesRendererFactory } from './renderer';

/** Draws `application/vnd.nbunify.curves+json` outputs (live training curves) with uPlot. */
export const curvesRendererPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbunify:curves-renderer',
  description: 'Render nbunify training curves, updated in place while a model trains.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (_app: JupyterFrontEnd, rendermime: IRenderMimeRegistry) => {
    rendermime.addFactory(curvesRendererFactory);
  }
};
