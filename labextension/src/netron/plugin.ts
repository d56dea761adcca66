// The two JupyterLab plugins of the netron feature: the command (with its menus) and the output renderer.

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { FileBrowser, IDefaultFileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { addOpenNetronCommand, OPEN_NETRON_COMMAND } from './command';
import { MODEL_FILE_EXTENSIONS } from './modelFiles';
import { netronRendererFactory } from './renderer';

/** File type given to model files, so the file browser's context menu can target them. */
export const MODEL_FILE_TYPE = 'nbunify-model';

function selectedPaths(browser: FileBrowser | null | undefined): string[] {
  if (!browser) {
    return [];
  }
  return Array.from(browser.selectedItems())
    .filter(item => item.type !== 'directory')
    .map(item => item.path);
}

/** `nbunify:open-netron`, in the command palette and in the file browser's menu for model files. */
export const netronCommandPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbunify:netron-command',
  description: 'Open model files in netron, inside a JupyterLab tab.',
  autoStart: true,
  optional: [ICommandPalette, IDefaultFileBrowser, IFileBrowserFactory],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    defaultBrowser: IDefaultFileBrowser | null,
    browserFactory: IFileBrowserFactory | null
  ) => {
    // The browser the user last used (there may be several), else the default one.
    const browser = () => browserFactory?.tracker.currentWidget ?? defaultBrowser;
    addOpenNetronCommand(app, () => selectedPaths(browser()));
    app.docRegistry.addFileType({
      name: MODEL_FILE_TYPE,
      displayName: 'Neural network model',
      extensions: [...MODEL_FILE_EXTENSIONS],
      mimeTypes: ['application/octet-stream'],
      contentType: 'file',
      fileFormat: 'base64'
    });
    app.contextMenu.addItem({
      command: OPEN_NETRON_COMMAND,
      selector: `.jp-DirListing-item[data-file-type="${MODEL_FILE_TYPE}"]`,
      rank: 3
    });
    palette?.addItem({ command: OPEN_NETRON_COMMAND, category: 'nbunify' });
  }
};

/** The card for `application/vnd.nbunify.netron+json` outputs; it runs the app's command. */
export const netronRendererPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbunify:netron-renderer',
  description: 'Render nbunify netron messages as a card that opens the model in netron.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (app: JupyterFrontEnd, rendermime: IRenderMimeRegistry) => {
    rendermime.addFactory(netronRendererFactory((id, args) => app.commands.execute(id, args)));
  }
};
