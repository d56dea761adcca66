// Tests of netron/message: the kernel's netron message and the server's model description are validated.

import { isModelUrl, parseModelInfo, parseNetronMessage } from '../../netron/message';

const VALID = {
  version: 1,
  name: 'lenet-3f2a9c1d0b2e.onnx',
  title: 'lenet.onnx',
  url: 'nbunify/models/lenet-3f2a9c1d0b2e.onnx',
  file: '/home/user/.local/share/nbunify/models/lenet-3f2a9c1d0b2e.onnx',
  size: 1234,
  created: 1_700_000_000_000,
  open: true
};

function errorOf(data: unknown): string {
  const result = parseNetronMessage(data);
  if (result.ok) {
    throw new Error('expected the message to be refused');
  }
  return result.error;
}

describe('parseNetronMessage', () => {
  it('accepts the message the kernel sends', () => {
    expect(parseNetronMessage(VALID)).toEqual({ ok: true, message: VALID });
  });

  it('accepts a message without the informational "file"', () => {
    const { file, ...rest } = VALID;
    expect(file).toBeDefined();
    expect(parseNetronMessage(rest).ok).toBe(true);
  });

  it('keeps a hostile title as plain text (escaping is the renderer\'s job)', () => {
    const title = '<img src=x onerror=alert(1)>';
    const result = parseNetronMessage({ ...VALID, title });
    expect(result.ok && result.message.title).toBe(title);
  });

  it.each([null, undefined, 'text', 42, [VALID]])('refuses a non-object %j', data => {
    expect(errorOf(data)).toMatch(/expected a JSON object/);
  });

  it('refuses a newer version with an upgrade hint', () => {
    expect(errorOf({ ...VALID, version: 2 })).toMatch(/version 2.*Upgrade/);
  });

  it.each([0, -1, 1.5, '1', null])('refuses version %j', version => {
    expect(errorOf({ ...VALID, version })).toMatch(/"version" must be a positive integer/);
  });

  it('names every missing field at once', () => {
    const error = errorOf({ version: 1 });
    for (const key of ['name', 'title', 'url', 'size', 'created', 'open']) {
      expect(error).toContain(`missing "${key}"`);
    }
  });

  it.each([
    ['name', 7, /"name" must be a non-empty string/],
    ['title', '', /"title" must be a non-empty string/],
    ['size', '1234', /"size" must be a non-negative number/],
    ['size', -1, /"size" must be a non-negative number/],
    ['size', Number.NaN, /"size" must be a non-negative number/],
    ['created', '2024-01-01', /"created" must be a time/],
    ['created', Number.POSITIVE_INFINITY, /"created" must be a time/],
    ['open', 'yes', /"open" must be true or false/],
    ['file', 3, /"file" must be a string/],
    ['name', '<img src=x>', /"name" must use only letters/],
    ['name', '..', /"name" must use only letters/]
  ])('refuses %s = %j', (key, value, pattern) => {
    expect(errorOf({ ...VALID, [key]: value })).toMatch(pattern);
  });

  it.each([
    'https://evil.example/model.onnx',
    '//evil.example/model.onnx',
    'javascript:alert(1)',
    'nbunify/models/../../etc/passwd',
    'nbunify/models/..',
    'nbunify/models/',
    'nbunify/netron/index.html',
    '/nbunify/models/lenet.onnx',
    'nbunify/models/a/b.onnx',
    'nbunify/models/a b.onnx'
  ])('refuses a url outside the models route: %j', url => {
    expect(errorOf({ ...VALID, url })).toMatch(/"url" must be "nbunify\/models\/<name>"/);
  });
});

describe('isModelUrl', () => {
  it('accepts served model urls', () => {
    expect(isModelUrl('nbunify/models/lenet-3f2a9c1d0b2e.onnx')).toBe(true);
    expect(isModelUrl('nbunify/models/model_1.v2-abc.tflite')).toBe(true);
  });
});

describe('parseModelInfo', () => {
  it('accepts the answer of POST nbunify/api/models', () => {
    const info = { name: VALID.name, title: VALID.title, url: VALID.url, file: VALID.file, size: 1 };
    expect(parseModelInfo(info)).toEqual({ ok: true, message: info });
  });

  it('refuses an answer without a url', () => {
    const result = parseModelInfo({ name: VALID.name, title: 't', size: 1 });
    expect(result).toEqual({ ok: false, error: 'Invalid model description: missing "url".' });
  });
});
