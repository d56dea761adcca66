// The output card for `application/vnd.nbunify.netron+json`: title, size, "Open in Netron", and a one-time auto-open.

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { OPEN_NETRON_COMMAND } from './command';
import { formatSize } from './format';
import { autoOpenKey, shouldAutoOpen } from './freshness';
import { INetronMessage, NETRON_MIME_TYPE, parseNetronMessage } from './message';
import { element } from '../dom';

/** Class of the card (browser tests look for it). */
export const CARD_CLASS = 'nbunify-netron-card';

/** Class of the card's button (browser tests look for it). */
export const OPEN_BUTTON_CLASS = 'nbunify-netron-open';

/** Runs an app command; the app's `commands.execute`, kept narrow so the card is easy to reason about. */
export type CommandRunner = (id: string, args: { url: string; title: string }) => Promise<unknown>;

/** Messages that opened a tab by themselves in this page, shared by every card. */
const AUTO_OPENED = new Set<string>();

/** A card describing one served model, with a button that opens it in netron. */
export class NetronCard extends Widget implements IRenderMime.IRenderer {
  constructor(
    private readonly _mimeType: string,
    private readonly _run: CommandRunner
  ) {
    super();
    this.addClass(CARD_CLASS);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.node.replaceChildren();
    const parsed = parseNetronMessage(model.data[this._mimeType]);
    if (!parsed.ok) {
      this.addClass('nbunify-netron-invalid');
      this.node.appendChild(element('div', 'nbunify-netron-error', `nbunify: ${parsed.error}`));
      return;
    }
    this.removeClass('nbunify-netron-invalid');
    this._draw(parsed.message);
    if (shouldAutoOpen(parsed.message, Date.now(), AUTO_OPENED)) {
      AUTO_OPENED.add(autoOpenKey(parsed.message));
      this._open(parsed.message);
    }
  }

  private _draw(message: INetronMessage): void {
    const header = element('div', 'nbunify-netron-card-header');
    header.appendChild(element('span', 'nbunify-netron-card-title', message.title));
    const size = element('span', 'nbunify-netron-card-size', formatSize(message.size));
    size.title = `${message.size.toLocaleString()} bytes`;
    header.appendChild(size);
    const button = element('button', `jp-Button ${OPEN_BUTTON_CLASS}`, 'Open in Netron');
    button.type = 'button';
    button.title = `Open ${message.title} in a netron tab`;
    button.addEventListener('click', () => this._open(message));
    this.node.append(header, button);
    if (message.file) {
      this.node.appendChild(element('div', 'nbunify-netron-card-file', message.file));
    }
  }

  private _open(message: INetronMessage): void {
    // The command reports its own errors; this catch only guards against it being missing.
    this._run(OPEN_NETRON_COMMAND, { url: message.url, title: message.title }).catch(error =>
      console.error(`nbunify: ${OPEN_NETRON_COMMAND} failed`, error)
    );
  }
}

/** The factory to add to a rendermime registry; safe, as the card sets text only. */
export function netronRendererFactory(run: CommandRunner): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [NETRON_MIME_TYPE],
    defaultRank: 0,
    createRenderer: options => new NetronCard(options.mimeType, run)
  };
}
