// The `nbunify:open-netron` command: publish a model if needed, then open or re-activate its netron tab.

import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, showErrorMessage } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IFrame } from '@jupyterlab/ui-components';

import { publishModel } from './api';
import { isModelUrl } from './message';
import { isModelFile, MODEL_FILE_EXTENSIONS } from './modelFiles';
import { createNetronWidget, INetronTarget, netronWidgetId } from './widget';

/** Id of the command; the renderer's button and the file browser's context menu run it. */
export const OPEN_NETRON_COMMAND = 'nbunify:open-netron';

const LABEL = 'Open in Netron';

/** Arguments of the command; with none, it opens the file browser's selected model files. */
export interface IOpenNetronArgs {
  /** Contents path of a model file (relative to the Jupyter root); it is published first. */
  path?: string;
  /** Base-relative URL of an already published model, `nbunify/models/<name>`. */
  url?: string;
  /** Tab title; defaults to the published title or the file name. */
  title?: string;
}

const ARGS_SCHEMA = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'Contents path of a model file to publish and open' },
    url: { type: 'string', description: 'Base-relative URL of a published model (nbunify/models/<name>)' },
    title: { type: 'string', description: 'Title of the netron tab' }
  }
};

/** Where the command finds the files the user selected (file browser item paths). */
export type SelectionProvider = () => string[];

function readArgs(args: Record<string, unknown>): IOpenNetronArgs {
  for (const key of ['path', 'url', 'title']) {
    if (args[key] !== undefined && typeof args[key] !== 'string') {
      throw new Error(`The "${key}" argument of ${OPEN_NETRON_COMMAND} must be a string.`);
    }
  }
  return args as IOpenNetronArgs;
}

async function targetFromPath(path: string, title?: string): Promise<INetronTarget> {
  const info = await publishModel(path);
  return { name: info.name, title: title || info.title, url: info.url };
}

function targetFromUrl(url: string, title?: string): INetronTarget {
  if (!isModelUrl(url)) {
    throw new Error(`Cannot open ${JSON.stringify(url)}: netron opens models served at nbunify/models/<name>.`);
  }
  const name = url.slice(url.lastIndexOf('/') + 1);
  return { name, title: title || name, url };
}

function selectedModelPaths(selection: SelectionProvider): string[] {
  const paths = selection();
  if (paths.length === 0) {
    throw new Error(`Select a model file (${MODEL_FILE_EXTENSIONS.join(', ')}) in the file browser first.`);
  }
  const others = paths.filter(path => !isModelFile(path));
  if (others.length > 0) {
    throw new Error(
      `${others.join(', ')}: not a model file netron opens here; choose one of ${MODEL_FILE_EXTENSIONS.join(', ')}.`
    );
  }
  return paths;
}

/** Register the command. Its errors are shown in a dialog; its promise never rejects. */
export function addOpenNetronCommand(app: JupyterFrontEnd, selection: SelectionProvider): void {
  const tabs = new Map<string, MainAreaWidget<IFrame>>();

  const show = (target: INetronTarget): MainAreaWidget<IFrame> => {
    const id = netronWidgetId(target.name);
    let widget = tabs.get(id);
    if (!widget || widget.isDisposed) {
      widget = createNetronWidget(PageConfig.getBaseUrl(), target);
      tabs.set(id, widget);
      widget.disposed.connect(() => tabs.delete(id));
      app.shell.add(widget, 'main');
    }
    app.shell.activateById(id);
    return widget;
  };

  const open = async (args: IOpenNetronArgs): Promise<MainAreaWidget<IFrame> | undefined> => {
    if (args.url) {
      return show(targetFromUrl(args.url, args.title));
    }
    if (args.path) {
      return show(await targetFromPath(args.path, args.title));
    }
    let last: MainAreaWidget<IFrame> | undefined;
    for (const path of selectedModelPaths(selection)) {
      last = show(await targetFromPath(path, args.title));
    }
    return last;
  };

  app.commands.addCommand(OPEN_NETRON_COMMAND, {
    label: LABEL,
    caption: 'Show the model graph in netron, in a JupyterLab tab',
    describedBy: { args: ARGS_SCHEMA },
    execute: async args => {
      try {
        return await open(readArgs(args));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await showErrorMessage(LABEL, message);
        return undefined;
      }
    }
  });
}
