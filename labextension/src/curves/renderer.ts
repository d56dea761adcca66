// The output renderer of `application/vnd.nbunify.curves+json`: a CurvesView that JupyterLab re-renders in place on update_display.

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { CURVES_MIME_TYPE } from './message';
import { parseCurvesMessage } from './parse';
import { CurvesView } from './view';

/**
 * A curves view fed by output models. JupyterLab calls `renderModel` again on the same renderer
 * when the kernel updates the display (same display id, same preferred MIME type), so each live
 * update reaches the existing charts.
 */
export class CurvesRenderer extends CurvesView implements IRenderMime.IRenderer {
  constructor(private readonly _mimeType: string) {
    super();
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const parsed = parseCurvesMessage(model.data[this._mimeType]);
    if (!parsed.ok) {
      // Kept beside the last good drawing: one bad update should not wipe the curves.
      this.showError(`nbunify: ${parsed.error}`);
      return;
    }
    this.setMessage(parsed.message);
  }
}

/**
 * The factory to add to a rendermime registry. Rank 0 is below the fallbacks' ranks (image/png
 * 90, text/plain 120), so the curves win over the PNG and text the kernel sends beside them.
 * Safe: every text is set with textContent.
 */
export const curvesRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [CURVES_MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new CurvesRenderer(options.mimeType)
};
