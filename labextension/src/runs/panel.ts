// The Runs sidebar: the training runs of the file browser's folder, live while one is running, and "Open curves".

import { LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { anyRunning, folderLabel, IRunList, IRunSummary, runRow } from './format';
import { Poller } from './poller';

/** The sidebar's icon: three rising curves. */
export const runsIcon = new LabIcon({
  name: 'nbunify:runs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M3 3h2v16h16v2H3z"/>' +
    '<path d="M7 16.6l4.2-5.4 3 2.5 5.3-7.1 1.6 1.2-6.5 8.7-3-2.5-3 3.9z"/>' +
    '</g></svg>'
});

export const RUNS_PANEL_ID = 'nbunify-runs-panel';

export interface IRunsPanelOptions {
  /** Read the runs of a folder (relative to the server root). */
  fetchRuns: (path: string) => Promise<IRunList>;
  /** Open the curves of `runs` of the folder `path` in a main-area tab. */
  openCurves: (path: string, runs: IRunSummary[]) => void;
  /** Whether an opened curves tab still follows a running run (the list then keeps polling too). */
  othersRunning?: () => boolean;
  interval?: number;
}

/** The sidebar widget. Set `path` to follow a folder; it refreshes itself while visible and a run is running. */
export class RunsPanel extends Widget {
  constructor(options: IRunsPanelOptions) {
    super();
    this._options = options;
    this._poller = new Poller(() => void this.refresh(), options.interval);
    this.id = RUNS_PANEL_ID;
    this.addClass('nbunify-runs');
    this.title.icon = runsIcon;
    this.title.caption = 'Runs';

    const header = this._element('div', 'nbunify-runs-header', this.node);
    this._element('span', 'nbunify-runs-title', header).textContent = 'Runs';
    this._folder = this._element('span', 'nbunify-runs-folder', header);
    const refresh = this._element('button', 'nbunify-runs-refresh jp-Button', header) as HTMLButtonElement;
    refresh.title = 'Refresh the list of runs';
    refresh.setAttribute('aria-label', 'Refresh');
    refreshIcon.element({ container: refresh, elementPosition: 'center', height: '16px', width: '16px' });
    refresh.addEventListener('click', () => void this.refresh());

    this._notice = this._element('div', 'nbunify-runs-notice', this.node);
    this._list = this._element('ul', 'nbunify-runs-list', this.node);
    const footer = this._element('div', 'nbunify-runs-footer', this.node);
    this._open = this._element('button', 'nbunify-runs-open', footer) as HTMLButtonElement;
    this._open.textContent = 'Open curves';
    this._open.title = 'Open the curves of the checked runs in a tab';
    this._open.addEventListener('click', () => this._openSelected());
    this._selection = this._element('span', 'nbunify-runs-selection', footer);
    this._render();
  }

  /** The folder whose runs are listed, relative to the server root ("" is the root). */
  get path(): string {
    return this._path;
  }
  set path(path: string) {
    if (path === this._path) {
      return;
    }
    this._path = path;
    this._runs = [];
    this._store = null;
    this._selected.clear();
    this._error = '';
    this._loaded = false;
    this._render();
    void this.refresh();
  }

  /** The runs listed now, newest first. */
  get runs(): IRunSummary[] {
    return this._runs;
  }

  /** Read the folder's runs again (when visible), then keep polling while one is running. */
  async refresh(): Promise<void> {
    const generation = this._poller.begin();
    if (this.isDisposed || !this.isVisible) {
      return;
    }
    const path = this._path;
    try {
      const list = await this._options.fetchRuns(path);
      if (!this._poller.isCurrent(generation) || this.isDisposed) {
        return; // a newer refresh (or another folder) took over
      }
      this._runs = list.runs;
      this._store = list.store;
      this._error = '';
      const known = new Set(list.runs.map(run => run.id));
      for (const id of [...this._selected]) {
        if (!known.has(id)) {
          this._selected.delete(id); // the run was deleted from the store
        }
      }
    } catch (error) {
      if (!this._poller.isCurrent(generation) || this.isDisposed) {
        return;
      }
      this._error = error instanceof Error ? error.message : String(error);
    }
    this._loaded = true;
    this._render();
    this._schedule();
  }

  dispose(): void {
    this._poller.stop();
    super.dispose();
  }

  protected onAfterShow(message: Message): void {
    super.onAfterShow(message);
    void this.refresh();
  }

  protected onAfterAttach(message: Message): void {
    super.onAfterAttach(message);
    if (this.isVisible) {
      void this.refresh();
    }
  }

  protected onAfterHide(message: Message): void {
    super.onAfterHide(message);
    this._poller.stop();
  }

  private _schedule(): void {
    if (this.isDisposed || !this.isVisible) {
      return;
    }
    if (anyRunning(this._runs) || (this._options.othersRunning?.() ?? false)) {
      this._poller.schedule();
    }
  }

  private _openSelected(): void {
    const chosen = this._runs.filter(run => this._selected.has(run.id));
    if (chosen.length > 0) {
      this._options.openCurves(this._path, chosen);
    }
  }

  private _render(): void {
    this._folder.textContent = folderLabel(this._path);
    this._folder.title = this._store ?? `${folderLabel(this._path)} has no nbunify-runs/ folder`;
    this._notice.textContent = this._noticeText();
    this._notice.classList.toggle('nbunify-runs-error', this._error !== '');
    const now = Date.now();
    this._list.replaceChildren(...this._runs.map(run => this._row(run, now)));
    this._open.disabled = this._selected.size === 0;
    this._selection.textContent = this._selected.size ? `${this._selected.size} selected` : '';
  }

  private _noticeText(): string {
    if (this._error) {
      return this._error;
    }
    if (!this._loaded) {
      return 'Loading…';
    }
    if (this._runs.length === 0) {
      return `No runs in ${folderLabel(this._path)}. nu.fit(...) in a notebook of this folder records them in nbunify-runs/.`;
    }
    return '';
  }

  private _row(run: IRunSummary, now: number): HTMLElement {
    const row = runRow(run, now);
    const item = document.createElement('li');
    item.className = `nbunify-runs-row ${row.statusClass}`;
    item.dataset.runId = row.id;
    item.title = row.tooltip;
    const label = this._element('label', 'nbunify-runs-label', item);
    const check = this._element('input', 'nbunify-runs-check', label) as HTMLInputElement;
    check.type = 'checkbox';
    check.checked = this._selected.has(row.id);
    check.addEventListener('change', () => {
      if (check.checked) {
        this._selected.add(row.id);
      } else {
        this._selected.delete(row.id);
      }
      this._open.disabled = this._selected.size === 0;
      this._selection.textContent = this._selected.size ? `${this._selected.size} selected` : '';
    });
    const dot = this._element('span', 'nbunify-runs-dot', label);
    dot.style.backgroundColor = row.colour;
    const body = this._element('span', 'nbunify-runs-body', label);
    const line = this._element('span', 'nbunify-runs-line', body);
    this._element('span', 'nbunify-runs-name', line).textContent = row.name;
    this._element('span', 'nbunify-runs-framework', line).textContent = row.framework;
    this._element('span', `nbunify-runs-status ${row.statusClass}`, line).textContent = row.statusText;
    this._element('span', 'nbunify-runs-progress', body).textContent = row.progress;
    if (row.metrics) {
      this._element('span', 'nbunify-runs-metrics', body).textContent = row.metrics;
    }
    return item;
  }

  private _element(tag: string, className: string, parent: HTMLElement): HTMLElement {
    const element = document.createElement(tag);
    element.className = className;
    parent.appendChild(element);
    return element;
  }

  private readonly _poller: Poller;
  private _options: IRunsPanelOptions;
  private _path = '';
  private _runs: IRunSummary[] = [];
  private _store: string | null = null;
  private _selected = new Set<string>();
  private _error = '';
  private _loaded = false;
  private _folder: HTMLElement;
  private _notice: HTMLElement;
  private _list: HTMLElement;
  private _open: HTMLButtonElement;
  private _selection: HTMLElement;
}
