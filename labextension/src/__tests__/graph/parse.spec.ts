// parseGraphMessage: a good message passes whole; each problem is named; a newer version is refused.

import { GRAPH_MESSAGE_VERSION } from '../../graph/message';
import { parseGraphMessage } from '../../graph/parse';
import { tinyMessage } from './fixtures';

function errorOf(data: unknown): string {
  const result = parseGraphMessage(data);
  expect(result.ok).toBe(false);
  return result.ok ? '' : result.error;
}

describe('parseGraphMessage', () => {
  it('accepts a good message unchanged', () => {
    const message = tinyMessage();
    const result = parseGraphMessage(message);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.message).toEqual(message);
    }
  });

  it('refuses what is not an object', () => {
    expect(errorOf(null)).toBe('Invalid graph message: expected a JSON object.');
    expect(errorOf([1])).toBe('Invalid graph message: expected a JSON object.');
  });

  it('refuses a newer version and says what to do', () => {
    const error = errorOf({ ...tinyMessage(), version: GRAPH_MESSAGE_VERSION + 1 });
    expect(error).toContain(`version ${GRAPH_MESSAGE_VERSION + 1}`);
    expect(error).toContain('Upgrade the nbunify package');
    expect(errorOf({ ...tinyMessage(), version: 0 })).toContain('"version" must be a positive integer');
  });

  it('names every problem at once', () => {
    const message = tinyMessage() as any;
    message.title = 3;
    message.source = 'tflite';
    message.outputs = ['nowhere'];
    message.values.input.parameter = 'no';
    message.nodes[1].category = 'mystery';
    message.nodes[1].inputs[0].values = ['ghost'];
    message.nodes[2].id = 'n0';
    message.nodes[0].scope = 'a/conv';
    const error = errorOf(message);
    expect(error).toContain('"title" must be a string');
    expect(error).toContain('"source" must be "onnx" or "spec"');
    expect(error).toContain('graph output "nowhere" is missing from "values"');
    expect(error).toContain('value "input": "parameter" must be true or false');
    expect(error).toContain('node n1: "category" must be one of layer, activation');
    expect(error).toContain('node n1: inputs "X" names value "ghost", missing from "values"');
    expect(error).toContain('node n0: "id" is used by an earlier node');
    expect(error).toContain('node n0: "scope" must be a list of module names');
  });

  it('checks the parity summary and its first drift', () => {
    const message = tinyMessage() as any;
    message.parity = { a: 'keras', b: 'onnxruntime', max_abs_error: 1, first_drift: 'n99', tolerance: [1e-4], unobserved: 0 };
    message.nodes[0].parity = { output: 'x', ok: 'yes', max_abs_error: 0, relative_error: 0 };
    const error = errorOf(message);
    expect(error).toContain('"first_drift" must be null or the id of a node');
    expect(error).toContain('"tolerance" must be [absolute, relative]');
    expect(error).toContain('node n0: "parity" must be null or {output, max_abs_error, relative_error, ok}');
  });

  it('accepts unmeasurable errors (null) and absent parities', () => {
    const message = tinyMessage() as any;
    message.parity = { a: 'keras', b: 'onnxruntime', max_abs_error: null, first_drift: 'n1', tolerance: [1e-4, 1e-3], unobserved: 0 };
    message.nodes[1].parity = { output: 'x', ok: false, max_abs_error: null, relative_error: null };
    delete message.nodes[0].parity;
    const result = parseGraphMessage(message);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.message.nodes[0].parity).toBeNull();
    }
  });

  it('lists the first problems of a badly broken message and counts the rest', () => {
    const message = tinyMessage() as any;
    message.nodes = Array.from({ length: 30 }, (_, index) => ({ id: `n${index}` }));
    const error = errorOf(message);
    expect(error).toMatch(/; and \d+ more problems\.$/);
  });
});
