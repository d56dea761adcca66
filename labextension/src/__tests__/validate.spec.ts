import { checkEnvelope, isRecord, Problems } from '../validate';

describe('checkEnvelope', () => {
  it('accepts an object of a known version and hands it back', () => {
    const data = { version: 2, title: 't' };
    expect(checkEnvelope(data, 'thing message', 2)).toEqual({ ok: true, data });
  });

  it('names what is wrong with the envelope', () => {
    expect(checkEnvelope('text', 'thing message', 1)).toEqual({
      ok: false,
      error: 'Invalid thing message: expected a JSON object.'
    });
    for (const version of [0, -1, 1.5, '1', null, undefined]) {
      const result = checkEnvelope({ version }, 'thing message', 1);
      expect(result.ok || result.error).toBe('Invalid thing message: "version" must be a positive integer.');
    }
  });

  it('refuses a newer version as a whole and says how to fix it', () => {
    const result = checkEnvelope({ version: 3 }, 'thing message', 2);
    expect(result.ok).toBe(false);
    expect(result.ok || result.error).toBe(
      'This thing message has version 3, newer than this nbunify JupyterLab extension understands (2). ' +
        'Upgrade the nbunify package and reload the page.'
    );
  });
});

describe('Problems', () => {
  it('hands back the message when there is no problem', () => {
    expect(new Problems().result('thing', () => 42)).toEqual({ ok: true, message: 42 });
  });

  it('lists the first twelve problems and counts the rest', () => {
    const problems = new Problems();
    for (let index = 0; index < 13; index++) {
      problems.add(`problem ${index}`);
    }
    const result = problems.result('thing', () => 0);
    expect(result.ok || result.error).toMatch(/^Invalid thing: problem 0; problem 1; .*; problem 11; and 1 more problem\.$/);
    problems.add('another');
    expect(problems.count).toBe(14);
    expect(problems.listed).toHaveLength(12);
    expect(problems.describe()).toMatch(/; and 2 more problems$/);
  });

  it('does not build the message when there are problems', () => {
    const problems = new Problems();
    problems.add('bad');
    const build = jest.fn(() => 1);
    expect(problems.result('thing', build)).toEqual({ ok: false, error: 'Invalid thing: bad.' });
    expect(build).not.toHaveBeenCalled();
  });
});

describe('isRecord', () => {
  it('is true for plain objects only', () => {
    expect(isRecord({})).toBe(true);
    expect([null, [], 'a', 1, undefined].map(isRecord)).toEqual([false, false, false, false, false]);
  });
});
