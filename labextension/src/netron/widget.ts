// The main-area tab that shows netron's own UI for one model, in a sandboxed iframe.

import { MainAreaWidget } from '@jupyterlab/apputils';
import { IFrame } from '@jupyterlab/ui-components';

import { netronUrl } from './url';

/** Class of the iframe element (browser tests look for it). */
export const FRAME_CLASS = 'nbunify-netron-frame';

/** Class of the tab's content widget. */
export const PANEL_CLASS = 'nbunify-netron-panel';

/** The id of the tab for a published model name; one tab per model. */
export function netronWidgetId(name: string): string {
  return `nbunify-netron-${name}`;
}

/** What a netron tab needs to know about its model. */
export interface INetronTarget {
  name: string;
  title: string;
  /** Base-relative URL of the served model, `nbunify/models/<name>`. */
  url: string;
}

/**
 * A closable tab showing netron for `target`.
 *
 * netron needs scripts, and same-origin access to fetch the model with the page's Jupyter
 * cookies; nothing else (no popups, no top navigation, no forms).
 */
export function createNetronWidget(baseUrl: string, target: INetronTarget): MainAreaWidget<IFrame> {
  const content = new IFrame({ sandbox: ['allow-scripts', 'allow-same-origin'] });
  content.addClass(PANEL_CLASS);
  content.url = netronUrl(baseUrl, target.url, target.title);
  content.node.querySelector('iframe')?.classList.add(FRAME_CLASS);
  const widget = new MainAreaWidget({ content });
  widget.id = netronWidgetId(target.name);
  widget.title.label = `Netron: ${target.title}`;
  widget.title.caption = `${target.title} in netron (${target.url})`;
  widget.title.closable = true;
  return widget;
}
