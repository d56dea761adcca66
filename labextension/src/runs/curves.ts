// The main-area tab with the curves of runs chosen in the Runs sidebar, refreshed while one of them is running.

import { MainAreaWidget } from '@jupyterlab/apputils';
import { refreshIcon, ToolbarButton } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ICurvesMessage } from '../curves/message';
import { CurvesView } from '../curves/view';
import { curvesLabel, curvesWidgetId, IRunSummary } from './format';
import { runsIcon } from './panel';
import { Poller } from './poller';

export interface IRunsCurvesOptions {
  /** The folder of the run store, relative to the server root. */
  path: string;
  runs: IRunSummary[];
  fetchCurves: (path: string, ids: string[]) => Promise<ICurvesMessage>;
  interval?: number;
}

/** A closable tab drawing the curves of some runs of one store; polls while visible and not done. */
export class RunsCurvesWidget extends MainAreaWidget<CurvesView> {
  constructor(options: IRunsCurvesOptions) {
    super({ content: new CurvesView() });
    this._options = options;
    this._poller = new Poller(() => void this.refresh(), options.interval);
    this._ids = options.runs.map(run => run.id);
    this.id = curvesWidgetId(options.path, this._ids);
    this.addClass('nbunify-runs-curves');
    this.title.label = curvesLabel(options.runs.map(run => run.name));
    this.title.caption = `Curves of ${options.runs.map(run => `${run.name} (${run.id})`).join(', ')} in /${options.path}`;
    this.title.icon = runsIcon;
    this.title.closable = true;
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({ icon: refreshIcon, tooltip: 'Read the curves again', onClick: () => void this.refresh() })
    );
    this._status.addClass('nbunify-runs-curves-status');
    this.toolbar.addItem('status', this._status);
  }

  /** The run ids drawn, in the order chosen. */
  get ids(): string[] {
    return this._ids;
  }

  /** True until a message says every run has ended (or the runs cannot be read any more). */
  get running(): boolean {
    return this._running;
  }

  /** Read the curves again (when visible), then keep polling while a run is running. */
  async refresh(): Promise<void> {
    const generation = this._poller.begin();
    if (this.isDisposed || !this.isVisible) {
      return;
    }
    try {
      const message = await this._options.fetchCurves(this._options.path, this._ids);
      if (!this._poller.isCurrent(generation) || this.isDisposed) {
        return;
      }
      this.content.setMessage(message);
      this._running = !message.done;
      this._setStatus(this._running ? 'live: updates every 2 s while a run is running' : 'all runs ended', false);
    } catch (error) {
      if (!this._poller.isCurrent(generation) || this.isDisposed) {
        return;
      }
      this._running = false; // runs deleted, or the server is gone: polling would only repeat the error
      this._setStatus(error instanceof Error ? error.message : String(error), true);
    }
    if (this._running && this.isVisible) {
      this._poller.schedule();
    }
  }

  dispose(): void {
    this._poller.stop();
    super.dispose();
  }

  protected onAfterShow(message: Message): void {
    super.onAfterShow(message);
    void this.refresh();
  }

  protected onAfterHide(message: Message): void {
    super.onAfterHide(message);
    this._poller.stop();
  }

  private _setStatus(text: string, isError: boolean): void {
    this._status.node.textContent = text;
    this._status.toggleClass('nbunify-runs-error', isError);
  }

  private readonly _poller: Poller;
  private _options: IRunsCurvesOptions;
  private _ids: string[];
  private _running = true;
  private _status = new Widget();
}
