// Tests of netron/url: base joins and netron iframe URLs under root and non-root base URLs.

import { basePath, joinBaseUrl, netronUrl, normalizeBaseUrl } from '../../netron/url';

const MODEL = 'nbunify/models/lenet-3f2a9c1d0b2e.onnx';

function query(url: string): URLSearchParams {
  return new URL(url, 'http://localhost:8888').searchParams;
}

describe('normalizeBaseUrl', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['/user/abc', '/user/abc/'],
    ['/user/abc/', '/user/abc/'],
    ['/user/abc///', '/user/abc/'],
    ['http://localhost:8888', 'http://localhost:8888/'],
    ['http://localhost:8888/', 'http://localhost:8888/'],
    ['https://hub.example.org/user/abc', 'https://hub.example.org/user/abc/']
  ])('%j -> %j', (base, expected) => {
    expect(normalizeBaseUrl(base)).toBe(expected);
  });

  it('encodes special characters once', () => {
    expect(normalizeBaseUrl('/user/a b/')).toBe('/user/a%20b/');
    expect(normalizeBaseUrl('/user/a%20b/')).toBe('/user/a%20b/');
  });
});

describe('basePath', () => {
  it('drops the origin', () => {
    expect(basePath('http://localhost:8888/user/abc/')).toBe('/user/abc/');
    expect(basePath('http://localhost:8888')).toBe('/');
    expect(basePath('/user/abc')).toBe('/user/abc/');
  });
});

describe('joinBaseUrl', () => {
  it('joins whatever slashes either side has', () => {
    expect(joinBaseUrl('/user/abc', MODEL)).toBe(`/user/abc/${MODEL}`);
    expect(joinBaseUrl('/user/abc/', `/${MODEL}`)).toBe(`/user/abc/${MODEL}`);
    expect(joinBaseUrl('http://h:1/', MODEL)).toBe(`http://h:1/${MODEL}`);
  });

  it('encodes each path segment so ? # and spaces stay in the path', () => {
    expect(joinBaseUrl('/', 'nbunify/models/a b?#.onnx')).toBe('/nbunify/models/a%20b%3F%23.onnx');
  });
});

describe('netronUrl', () => {
  it('points at netron under a root base, with the model path absolute', () => {
    const url = netronUrl('http://localhost:8888/', MODEL, 'lenet.onnx');
    expect(url).toBe(
      'http://localhost:8888/nbunify/netron/index.html' +
        '?url=%2Fnbunify%2Fmodels%2Flenet-3f2a9c1d0b2e.onnx&identifier=lenet.onnx'
    );
    expect(query(url).get('url')).toBe(`/${MODEL}`);
  });

  it.each(['/user/abc/', '/user/abc', 'https://hub.example.org/user/abc/'])(
    'keeps a non-root base %j in both the page and the model path',
    base => {
      const url = netronUrl(base, MODEL, 'lenet.onnx');
      expect(new URL(url, 'http://x').pathname).toBe('/user/abc/nbunify/netron/index.html');
      expect(query(url).get('url')).toBe(`/user/abc/${MODEL}`);
      expect(query(url).get('identifier')).toBe('lenet.onnx');
    }
  );

  it('keeps an encoded base encoded once inside the model path', () => {
    const url = netronUrl('/user/a%20b/', MODEL, 't');
    expect(query(url).get('url')).toBe(`/user/a%20b/${MODEL}`);
  });

  it.each([
    '<img src=x onerror=alert(1)>',
    'a&url=https://evil.example/x.onnx',
    'x#fragment?q=1',
    '"quoted" \'single\' `tick`',
    'modèle 模型 🧠.onnx',
    '%41%2F..%2F'
  ])('carries a hostile or unusual title %j verbatim as one parameter', title => {
    const url = netronUrl('/user/abc/', MODEL, title);
    const params = query(url);
    expect(params.get('identifier')).toBe(title);
    expect(params.getAll('url')).toEqual([`/user/abc/${MODEL}`]);
    expect(url).not.toMatch(/[<>"` #]/);
  });
});
