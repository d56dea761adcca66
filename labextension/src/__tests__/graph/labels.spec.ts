// Text helpers: labels keep markup as plain text (the view sets them with text nodes), counts, shapes, parity colours.

import { formatCount, formatValue, nodeLabel, nodeTooltip, parityColour, shortName, textWidth } from '../../graph/labels';
import { tinyMessage } from './fixtures';

const XSS = '<img src=x onerror=alert(1)>';

describe('labels', () => {
  it('keep a name made of markup as the same characters, to be set as text', () => {
    expect(nodeLabel({ op: 'Relu', name: XSS })).toEqual({ op: 'Relu', name: XSS });
    const message = tinyMessage();
    const node = { ...message.nodes[1], name: XSS };
    expect(nodeTooltip(node, message).split('\n')[0]).toBe(`Relu  ${XSS}`);
  });

  it('shorten torch-style names to the module that matters', () => {
    expect(shortName({ op: 'Conv', name: '/features/denseblock1/denselayer1/conv1/Conv' })).toBe('conv1');
    expect(shortName({ op: 'Gemm', name: 'dense_1' })).toBe('dense_1');
    expect(shortName({ op: 'Relu', name: '' })).toBe('');
    expect(shortName({ op: 'Add', name: '/m/Add_3' })).toBe('m');
    expect(shortName({ op: 'Add', name: 'x'.repeat(60) })).toHaveLength(28);
  });

  it('format counts and values', () => {
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1234)).toBe('1.23K');
    expect(formatCount(7_978_856)).toBe('7.98M');
    expect(formatCount(138_357_544)).toBe('138M');
    expect(formatValue({ dtype: 'float32', shape: ['N', 3, null], parameter: false, count: 0 })).toBe('float32[N,3,?]');
    expect(formatValue({ dtype: null, shape: null, parameter: false, count: 0 })).toBe('?[?]');
    expect(formatValue(undefined)).toBe('?');
  });

  it('colour parity green within tolerance and redder the further beyond it', () => {
    const tolerance: [number, number] = [1e-4, 1e-3];
    const ok = parityColour({ output: 'y', ok: true, max_abs_error: 0, relative_error: 0 }, tolerance);
    const near = parityColour({ output: 'y', ok: false, max_abs_error: 1, relative_error: 2e-3 }, tolerance);
    const far = parityColour({ output: 'y', ok: false, max_abs_error: 1, relative_error: 1 }, tolerance);
    expect(ok).toMatch(/^hsl\(140,/);
    expect(near).toMatch(/^hsl\(0,/);
    const lightness = (colour: string) => Number(/(\d+)%\)$/.exec(colour)![1]);
    expect(lightness(far)).toBeLessThan(lightness(near));
  });

  it('estimate wider text for longer and bolder labels', () => {
    expect(textWidth('BatchNormalization')).toBeGreaterThan(textWidth('Relu'));
    expect(textWidth('Conv', true)).toBeGreaterThan(textWidth('Conv'));
  });
});
