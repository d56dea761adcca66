// The Runs sidebar plugin: the panel in the left area, following the file browser's folder, and its curves tabs.

import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';

import { fetchCurves, fetchRuns } from './api';
import { RunsCurvesWidget } from './curves';
import { curvesWidgetId, IRunSummary } from './format';
import { RUNS_PANEL_ID, RunsPanel } from './panel';

/** Rank of the panel among the left sidebar's tabs (the file browser is 100, the table of contents 400). */
const SIDEBAR_RANK = 600;

/** The sidebar listing the runs of the file browser's folder; "Open curves" opens one tab per set of runs. */
export const runsSidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbunify:runs-sidebar',
  description: "A sidebar listing the training runs of the file browser's folder, with their live curves.",
  autoStart: true,
  optional: [IDefaultFileBrowser, ILayoutRestorer],
  activate: (app: JupyterFrontEnd, browser: IDefaultFileBrowser | null, restorer: ILayoutRestorer | null) => {
    const settings = app.serviceManager.serverSettings;
    const tabs = new Map<string, RunsCurvesWidget>();

    const openCurves = (path: string, runs: IRunSummary[]): void => {
      const id = curvesWidgetId(path, runs.map(run => run.id));
      const open = tabs.get(id);
      if (open && !open.isDisposed) {
        app.shell.activateById(id);
        void open.refresh(); // activating an already current tab shows nothing new
        return;
      }
      const tab = new RunsCurvesWidget({ path, runs, fetchCurves: (folder, ids) => fetchCurves(folder, ids, settings) });
      tabs.set(id, tab);
      tab.disposed.connect(() => tabs.delete(id));
      app.shell.add(tab, 'main');
      app.shell.activateById(id);
    };

    const panel = new RunsPanel({
      fetchRuns: path => fetchRuns(path, settings),
      openCurves,
      othersRunning: () => [...tabs.values()].some(tab => tab.running && tab.isVisible)
    });
    app.shell.add(panel, 'left', { rank: SIDEBAR_RANK });
    restorer?.add(panel, RUNS_PANEL_ID);

    if (browser) {
      // The contents path may carry a drive prefix ("Drive:folder"); the server API wants the local path.
      const follow = () => {
        panel.path = app.serviceManager.contents.localPath(browser.model.path);
      };
      browser.model.pathChanged.connect(follow);
      follow();
    }
  }
};
