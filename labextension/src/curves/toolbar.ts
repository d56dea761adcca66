// The curves view's controls: metric groups, x mode, log scale and smoothing; text set through textContent only.

import { ICurvesOptions, IMetricGroup, X_LABELS, X_MODES, XMode } from './series';
import { element } from '../dom';

/** What the toolbar reports: the groups ticked and the drawing options. */
export interface IToolbarState {
  groups: string[];
  options: ICurvesOptions;
}

/** The row of controls above the charts; `changed` runs after any user change. */
export class CurvesToolbar {
  readonly node = element('div', 'nbunify-curves-toolbar');
  private readonly _metrics = element('span', 'nbunify-curves-metrics');
  private readonly _xMode = element('select', 'nbunify-curves-xmode-select');
  private readonly _log = element('input', 'nbunify-curves-log-input');
  private readonly _smoothing = element('input', 'nbunify-curves-smoothing-input');
  private readonly _smoothingValue = element('span', 'nbunify-curves-smoothing-value');
  private _groupsKey = '';

  constructor(
    options: ICurvesOptions,
    private readonly _changed: () => void
  ) {
    const xLabel = element('label', 'nbunify-curves-xmode', 'x axis ');
    for (const mode of X_MODES) {
      const option = element('option', '', X_LABELS[mode]);
      option.value = mode;
      this._xMode.appendChild(option);
    }
    this._xMode.value = options.xMode;
    this._xMode.title = 'What the x axis counts: optimizer steps, epochs or training seconds';
    this._xMode.addEventListener('change', this._changed);
    xLabel.appendChild(this._xMode);

    const logLabel = element('label', 'nbunify-curves-log');
    this._log.type = 'checkbox';
    this._log.checked = options.logScale;
    this._log.addEventListener('change', this._changed);
    logLabel.append(this._log, document.createTextNode(' log scale'));

    const smoothingLabel = element('label', 'nbunify-curves-smoothing', 'smoothing ');
    smoothingLabel.title = 'Exponential moving average of the step lines, as TensorBoard (the raw line stays faint)';
    Object.assign(this._smoothing, { type: 'range', min: '0', max: '0.99', step: '0.01' });
    this._smoothing.value = String(options.smoothing);
    this._smoothing.addEventListener('input', () => {
      this._showSmoothing();
      this._changed();
    });
    this._showSmoothing();
    smoothingLabel.append(this._smoothing, this._smoothingValue);

    this.node.append(this._metrics, xLabel, logLabel, smoothingLabel);
  }

  /** Show one checkbox per metric group; rebuilt only when the groups change, so a focused control stays. */
  setGroups(groups: readonly IMetricGroup[], selected: readonly string[]): void {
    const key = JSON.stringify(groups.map(group => [group.name, group.metrics]));
    if (key !== this._groupsKey) {
      this._groupsKey = key;
      this._metrics.replaceChildren();
      for (const group of groups) {
        const label = element('label', 'nbunify-curves-metric');
        label.title = group.metrics.join(' and ');
        const box = element('input', 'nbunify-curves-metric-input');
        box.type = 'checkbox';
        box.value = group.name;
        box.addEventListener('change', this._changed);
        label.append(box, document.createTextNode(` ${group.name}`));
        this._metrics.appendChild(label);
      }
    }
    for (const box of this._metrics.querySelectorAll('input')) {
      box.checked = selected.includes(box.value);
    }
  }

  /** The controls' current values. */
  read(): IToolbarState {
    const groups = Array.from(this._metrics.querySelectorAll('input'))
      .filter(box => box.checked)
      .map(box => box.value);
    return {
      groups,
      options: {
        xMode: this._xMode.value as XMode,
        logScale: this._log.checked,
        smoothing: Number(this._smoothing.value)
      }
    };
  }

  private _showSmoothing(): void {
    this._smoothingValue.textContent = ` ${Number(this._smoothing.value).toFixed(2)}`;
  }
}
