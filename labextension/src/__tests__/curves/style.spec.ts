// Run looks: one colour per framework (as the Python PNG fallback), a different dash per run of one framework.

import { ICurveRun } from '../../curves/message';
import { FRAMEWORK_COLOURS, OTHER_COLOURS, RUN_DASHES, runStyles, withAlpha } from '../../curves/style';

const run = (id: string, framework: string): ICurveRun => ({
  id, name: id, framework, status: 'finished', message: '', series: {}
});

describe('runStyles', () => {
  it('gives each framework its colour and each run of one framework its own dash', () => {
    const styles = runStyles([run('t1', 'torch'), run('k1', 'keras'), run('t2', 'torch'), run('p1', 'paddle'),
      run('t3', 'torch')]);
    expect(FRAMEWORK_COLOURS).toEqual({ torch: '#ee4c2c', keras: '#d00000', paddle: '#2932e1' });
    expect(styles.get('t1')).toEqual({ colour: '#ee4c2c', dash: [] });
    expect(styles.get('t2')).toEqual({ colour: '#ee4c2c', dash: [...RUN_DASHES[1]] });
    expect(styles.get('t3')).toEqual({ colour: '#ee4c2c', dash: [...RUN_DASHES[2]] });
    expect(styles.get('k1')).toEqual({ colour: '#d00000', dash: [] });
    expect(styles.get('p1')).toEqual({ colour: '#2932e1', dash: [] });
    expect(new Set(RUN_DASHES.map(dash => dash.join(','))).size).toBe(RUN_DASHES.length);
  });

  it('gives unknown frameworks distinct fallback colours', () => {
    const styles = runStyles([run('a', 'jax'), run('b', 'mxnet'), run('c', 'jax')]);
    expect(styles.get('a')?.colour).toBe(OTHER_COLOURS[0]);
    expect(styles.get('b')?.colour).toBe(OTHER_COLOURS[1]);
    expect(styles.get('c')).toEqual({ colour: OTHER_COLOURS[0], dash: [...RUN_DASHES[1]] });
  });

  it('makes faint colours for raw lines', () => {
    expect(withAlpha('#ee4c2c', 0.25)).toBe('rgba(238, 76, 44, 0.25)');
    expect(withAlpha('red', 0.25)).toBe('red');
  });
});
