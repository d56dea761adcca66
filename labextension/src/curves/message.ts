// The curves display message (application/vnd.nbunify.curves+json) sent by nbunify/curves.py: the contract's types.

/** MIME type of the kernel -> Lab message "draw these training curves". */
export const CURVES_MIME_TYPE = 'application/vnd.nbunify.curves+json';

/** Newest message version this extension understands (nbunify.display.MESSAGE_VERSION). */
export const CURVES_MESSAGE_VERSION = 1;

/** One metric of one run: "step" points (per batch) or "epoch" points (per epoch; validation metrics are val_*). */
export interface ICurveSeries {
  kind: 'step' | 'epoch';
  metric: string;
  /** The step (batch number, from 1) of a step series; the epoch number (from 1) of an epoch series. */
  x: number[];
  /** The optimizer step of each point; for an epoch point, the last step of that epoch (to draw it on a step axis). */
  step: number[];
  /** Epoch of each point (an epoch series counts from 1). */
  epoch: number[];
  /** Seconds since the run started, for each point. */
  seconds: number[];
  /** Values; null where the value was not finite (a diverging run shows a gap). */
  y: (number | null)[];
}

export interface ICurveRun {
  id: string;
  name: string;
  /** "torch", "keras", "paddle" (the colour key). */
  framework: string;
  /** "running", "finished", "failed", "interrupted" ... */
  status: string;
  message: string;
  /** Keyed "<kind>/<metric>", e.g. "step/loss", "epoch/val_accuracy". */
  series: Record<string, ICurveSeries>;
}

/** The data of an `application/vnd.nbunify.curves+json` output (also the answer of GET nbunify/api/runs/curves). */
export interface ICurvesMessage {
  version: number;
  title: string;
  /** True in the final message of a training call (no more updates will come). */
  done: boolean;
  /** Metric names present in any run, in first-seen order ("loss", "accuracy", "val_loss" ...). */
  metrics: string[];
  runs: ICurveRun[];
}
