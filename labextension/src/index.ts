// Entry point of the nbunify JupyterLab extension: the list of its plugins.

import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { netronCommandPlugin, netronRendererPlugin } from './netron/plugin';

const plugins: JupyterFrontEndPlugin<void>[] = [netronCommandPlugin, netronRendererPlugin];

export default plugins;
