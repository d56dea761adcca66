// How runs look in the curves view: a colour per framework, a dash per run of that framework (pure: no DOM).

import { ICurveRun } from './message';

/** The colour of each framework, as nbunify/curves.py COLOURS (the PNG fallback uses the same). */
export const FRAMEWORK_COLOURS: Readonly<Record<string, string>> = {
  torch: '#ee4c2c',
  keras: '#d00000',
  paddle: '#2932e1'
};

/** Colours of frameworks nbunify does not know (any other name a run may carry), in turn. */
export const OTHER_COLOURS: readonly string[] = ['#2ca02c', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

/** Line dashes of the 1st, 2nd, 3rd ... run of one framework (canvas setLineDash patterns). */
export const RUN_DASHES: readonly (readonly number[])[] = [[], [8, 4], [2, 3], [10, 3, 2, 3]];

/** Opacity of the raw line drawn under a smoothed one. */
export const RAW_ALPHA = 0.25;

/** The colour and dash of each run: same framework, same colour; its n-th run, the n-th dash. */
export interface IRunStyle {
  colour: string;
  dash: number[];
}

/** The style of every run of a message, by run id (order of the message's runs). */
export function runStyles(runs: readonly ICurveRun[]): Map<string, IRunStyle> {
  const styles = new Map<string, IRunStyle>();
  const perFramework = new Map<string, number>();
  const others: string[] = [];
  for (const run of runs) {
    const count = perFramework.get(run.framework) ?? 0;
    perFramework.set(run.framework, count + 1);
    let colour = FRAMEWORK_COLOURS[run.framework];
    if (colour === undefined) {
      let index = others.indexOf(run.framework);
      if (index < 0) {
        index = others.push(run.framework) - 1;
      }
      colour = OTHER_COLOURS[index % OTHER_COLOURS.length];
    }
    styles.set(run.id, { colour, dash: [...RUN_DASHES[count % RUN_DASHES.length]] });
  }
  return styles;
}

/** `#rrggbb` with an opacity, as `rgba(r, g, b, a)`; other colour strings are returned as they are. */
export function withAlpha(colour: string, alpha: number): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!match) {
    return colour;
  }
  const [red, green, blue] = match.slice(1).map(part => parseInt(part, 16));
  return `rgba(${red}, ${green}, ${blue}, ${alpha})`;
}
