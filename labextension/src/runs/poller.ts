// The polling state of a Runs view: one pending timer, and a generation that tells a stale answer from the newest.

/** Time between two reads while a run is running, in milliseconds. */
export const POLL_INTERVAL = 2000;

/**
 * Calls `tick` again `interval` ms after `schedule()`; at most one call is pending.
 *
 * `begin()` starts a read: it cancels the pending call and returns a token. An answer whose token
 * is no longer `isCurrent` arrived after a newer read began and must be dropped.
 */
export class Poller {
  constructor(tick: () => void, interval = POLL_INTERVAL) {
    this._tick = tick;
    this._interval = interval;
  }

  /** Whether a call is pending. */
  get pending(): boolean {
    return this._timer !== undefined;
  }

  begin(): number {
    this.stop();
    return ++this._generation;
  }

  isCurrent(token: number): boolean {
    return token === this._generation;
  }

  schedule(): void {
    this.stop();
    this._timer = setTimeout(() => {
      this._timer = undefined;
      this._tick();
    }, this._interval);
  }

  stop(): void {
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  private readonly _tick: () => void;
  private readonly _interval: number;
  private _generation = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined = undefined;
}
