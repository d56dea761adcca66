// Tests of netron/freshness: only a fresh, unseen message asking to open does open a tab.

import { autoOpenKey, CLOCK_SKEW_MS, FRESH_FOR_MS, shouldAutoOpen } from '../../netron/freshness';

const NOW = 1_700_000_000_000;
const message = { name: 'lenet-3f2a9c1d0b2e.onnx', created: NOW - 1000, open: true };

describe('shouldAutoOpen', () => {
  it('opens a message the kernel has just sent', () => {
    expect(shouldAutoOpen(message, NOW, new Set())).toBe(true);
  });

  it('does not open when the kernel did not ask to', () => {
    expect(shouldAutoOpen({ ...message, open: false }, NOW, new Set())).toBe(false);
  });

  it('does not open a message from a saved notebook', () => {
    expect(shouldAutoOpen({ ...message, created: NOW - FRESH_FOR_MS }, NOW, new Set())).toBe(false);
    expect(shouldAutoOpen({ ...message, created: NOW - 86_400_000 }, NOW, new Set())).toBe(false);
    expect(shouldAutoOpen({ ...message, created: NOW - FRESH_FOR_MS + 1 }, NOW, new Set())).toBe(true);
  });

  it('tolerates a kernel clock up to a minute ahead, not more', () => {
    expect(shouldAutoOpen({ ...message, created: NOW + 30_000 }, NOW, new Set())).toBe(true);
    expect(shouldAutoOpen({ ...message, created: NOW + CLOCK_SKEW_MS }, NOW, new Set())).toBe(true);
    expect(shouldAutoOpen({ ...message, created: NOW + CLOCK_SKEW_MS + 1 }, NOW, new Set())).toBe(false);
  });

  it('opens once per (name, created) in a page', () => {
    const seen = new Set([autoOpenKey(message)]);
    expect(shouldAutoOpen(message, NOW, seen)).toBe(false);
    // The same model shown again by a later cell is a new request.
    expect(shouldAutoOpen({ ...message, created: NOW }, NOW, seen)).toBe(true);
  });

  it('does not change the set it is given', () => {
    const seen = new Set<string>();
    shouldAutoOpen(message, NOW, seen);
    expect(seen.size).toBe(0);
  });
});

describe('autoOpenKey', () => {
  it('tells apart names and times', () => {
    const keys = new Set([
      autoOpenKey({ name: 'a.onnx', created: 1 }),
      autoOpenKey({ name: 'a.onnx', created: 2 }),
      autoOpenKey({ name: 'b.onnx', created: 1 })
    ]);
    expect(keys.size).toBe(3);
  });
});
