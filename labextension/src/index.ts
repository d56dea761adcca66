// Entry point of the nbunify JupyterLab extension: the list of its plugins.

import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { curvesRendererPlugin } from './curves/plugin';
import { graphRendererPlugin } from './graph/plugin';
import { netronCommandPlugin, netronRendererPlugin } from './netron/plugin';
import { runsSidebarPlugin } from './runs/plugin';

const plugins: JupyterFrontEndPlugin<any>[] = [
  netronCommandPlugin,
  netronRendererPlugin,
  graphRendererPlugin,
  curvesRendererPlugin,
  runsSidebarPlugin
];

export default plugins;
