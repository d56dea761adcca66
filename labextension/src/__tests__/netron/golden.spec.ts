// The netron message pytest writes to tests/golden/ (from nbunify.netron.prepare) passes this extension's validator.

import golden from '../../../../tests/golden/netron-message.json';
import { autoOpenKey, shouldAutoOpen } from '../../netron/freshness';
import { MESSAGE_VERSION, parseNetronMessage } from '../../netron/message';

describe('golden netron message from the Python side', () => {
  it('parses with every field intact', () => {
    const result = parseNetronMessage(golden);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.message).toEqual(golden);
      expect(result.message.version).toBe(MESSAGE_VERSION);
      expect(result.message.url).toBe(`nbunify/models/${result.message.name}`);
    }
  });

  it('auto-opens when fresh and only once', () => {
    const result = parseNetronMessage(golden);
    expect(result.ok).toBe(true);
    if (result.ok) {
      const seen = new Set<string>();
      expect(shouldAutoOpen(result.message, golden.created + 1000, seen)).toBe(true);
      seen.add(autoOpenKey(result.message)); // as the renderer does when it opens the tab
      expect(shouldAutoOpen(result.message, golden.created + 1000, seen)).toBe(false);
      expect(shouldAutoOpen(result.message, golden.created + 3_600_000, new Set())).toBe(false);
    }
  });

  it('is refused when a field the Python side sends goes missing', () => {
    const { url, ...withoutUrl } = golden;
    expect(url).toContain('nbunify/models/');
    const result = parseNetronMessage(withoutUrl);
    expect(result.ok).toBe(false);
  });
});
