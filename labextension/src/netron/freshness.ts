// Decide whether a netron message opens a tab by itself (pure: no JupyterLab imports).

import { INetronMessage } from './message';

/** How old a message may be and still open a tab by itself. */
export const FRESH_FOR_MS = 60_000;

/** How far in the future `created` may be, to tolerate clocks of kernel and browser that differ. */
export const CLOCK_SKEW_MS = 60_000;

/** The key under which a message is remembered once it has opened a tab. */
export function autoOpenKey(message: Pick<INetronMessage, 'name' | 'created'>): string {
  return `${message.name}@${message.created}`;
}

/**
 * Whether the renderer should open the netron tab without a click.
 *
 * Only a message the kernel has just sent opens a tab, and only once per page: reopening a
 * saved notebook, re-rendering an output or showing it in a second view opens nothing.
 * The caller adds `autoOpenKey(message)` to `seen` when it opens the tab.
 */
export function shouldAutoOpen(
  message: Pick<INetronMessage, 'name' | 'created' | 'open'>,
  now: number,
  seen: ReadonlySet<string>
): boolean {
  if (!message.open || seen.has(autoOpenKey(message))) {
    return false;
  }
  const age = now - message.created;
  return age < FRESH_FOR_MS && age >= -CLOCK_SKEW_MS;
}
