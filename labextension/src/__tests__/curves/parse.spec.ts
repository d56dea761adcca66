// The curves validator: the golden message pytest writes parses intact; problems are all named; newer versions refused.

import golden from '../../../../tests/golden/curves-message.json';
import { CURVES_MESSAGE_VERSION } from '../../curves/message';
import { parseCurvesMessage } from '../../curves/parse';

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe('parseCurvesMessage', () => {
  it('accepts the golden message from the Python side with every field intact', () => {
    const result = parseCurvesMessage(golden);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.message).toEqual(golden);
      expect(result.message.version).toBe(CURVES_MESSAGE_VERSION);
      expect(result.message.runs.map(run => run.framework)).toEqual(['torch', 'keras']);
      // the keras step loss has a non-finite value, sent as null
      expect(result.message.runs[1].series['step/loss'].y[4]).toBeNull();
    }
  });

  it('names every problem at once, with where it is', () => {
    const broken = copy(golden) as any;
    delete broken.title;
    broken.runs[0].framework = 3;
    broken.runs[0].series['step/loss'].y[2] = 'NaN';
    broken.runs[1].series['epoch/loss'].step = [3];
    broken.runs[1].series['step/accuracy'].kind = 'batch';
    const result = parseCurvesMessage(broken);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toContain('"title" must be a string');
      expect(result.error).toContain('runs[0] ("mlp-torch").framework must be a string');
      expect(result.error).toContain(
        'runs[0] ("mlp-torch").series["step/loss"].y must hold finite numbers or null: 1 do not (first at index 2: "NaN")'
      );
      expect(result.error).toContain('runs[1] ("mlp-keras").series["epoch/loss"].step has 1 values but y has 2');
      expect(result.error).toContain('series["step/accuracy"].kind must be "step" or "epoch"');
    }
  });

  it('counts problems beyond the first dozen instead of listing them', () => {
    const broken = copy(golden) as any;
    for (const run of broken.runs) {
      for (const series of Object.values(run.series) as any[]) {
        series.x = 'none';
        series.seconds = null;
      }
    }
    const result = parseCurvesMessage(broken);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatch(/; and 8 more problems\.$/);
    }
  });

  it('refuses a repeated run id, a missing runs list and non-objects', () => {
    const twice = copy(golden) as any;
    twice.runs[1].id = twice.runs[0].id;
    const repeated = parseCurvesMessage(twice);
    expect(repeated.ok || repeated.error).toContain('run ids must be unique: "torch-0001" repeat');
    const { runs, ...withoutRuns } = golden;
    expect(runs.length).toBe(2);
    const missing = parseCurvesMessage(withoutRuns);
    expect(missing.ok || missing.error).toContain('"runs" must be an array');
    expect(parseCurvesMessage([1, 2])).toEqual({ ok: false, error: 'Invalid curves message: expected a JSON object.' });
  });

  it('refuses a newer version as a whole, saying to upgrade', () => {
    const result = parseCurvesMessage({ ...golden, version: CURVES_MESSAGE_VERSION + 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toContain(`version ${CURVES_MESSAGE_VERSION + 1}, newer than`);
      expect(result.error).toContain('Upgrade the nbunify package');
    }
    const bad = parseCurvesMessage({ ...golden, version: '1' });
    expect(bad.ok || bad.error).toContain('"version" must be a positive integer');
  });
});
