// Tests of netron/format: model sizes read as people expect.

import { formatSize } from '../../netron/format';

describe('formatSize', () => {
  it.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [999, '999 bytes'],
    [1000, '1.0 kB'],
    [1234, '1.2 kB'],
    [61_706, '62 kB'],
    [999_499, '999 kB'],
    [999_500, '1.0 MB'],
    [44_700_000, '45 MB'],
    [3_200_000_000, '3.2 GB'],
    [5e15, '5000 TB']
  ])('%d bytes -> %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('says the size is unknown for %d', bytes => {
    expect(formatSize(bytes)).toBe('unknown size');
  });
});
