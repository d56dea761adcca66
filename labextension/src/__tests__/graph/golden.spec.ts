// The graph messages pytest writes to tests/golden/ (from nbunify.graph) parse, group and lay out here.

import ELK from 'elkjs/lib/elk.bundled.js';

import categories from '../../../../tests/golden/graph-categories.json';
import parity from '../../../../tests/golden/graph-parity.json';
import scoped from '../../../../tests/golden/graph-scoped.json';
import spec from '../../../../tests/golden/graph-spec.json';
import tiny from '../../../../tests/golden/graph-tiny.json';
import { boxesOverlap, fromElkGraph, toElkGraph } from '../../graph/layout';
import { CATEGORIES, CATEGORY_COLOURS, IGraphMessage } from '../../graph/message';
import { buildModel, visibleGraph } from '../../graph/model';
import { parseGraphMessage } from '../../graph/parse';
import { defaultExpanded, expandAll } from '../../graph/scopes';

function parsed(data: unknown): IGraphMessage {
  const result = parseGraphMessage(data);
  if (!result.ok) {
    throw new Error(result.error);
  }
  return result.message;
}

describe('golden graph messages from the Python side', () => {
  it('parse with every field intact', () => {
    for (const golden of [tiny, spec, parity, scoped]) {
      expect(parsed(golden)).toEqual(golden);
    }
  });

  it('tiny: 4 nodes in a chain, parameters are no edges, the markup name is kept as text', () => {
    const model = buildModel(parsed(tiny));
    expect(model.message.nodes).toHaveLength(4);
    expect(model.edges.map(edge => `${edge.source}>${edge.target}`)).toEqual([
      'input:0>n0', 'n0>n1', 'n1>n2', 'n2>n3', 'n3>output:0'
    ]);
    expect(model.message.nodes[1].name).toBe('<img src=x onerror=window.__xss=1>');
  });

  it('spec: block scopes group their layers', () => {
    const model = buildModel(parsed(spec));
    expect(model.message.nodes).toHaveLength(8);
    expect(model.scopes.get('res')!.nodes).toEqual(['n1', 'n2', 'n3']);
    const collapsed = visibleGraph(model, new Set());
    expect(collapsed.items.filter(item => item.kind === 'group').map(item => item.scope!.key)).toEqual(['res', 'mix']);
    expect(collapsed.edges.every(edge => edge.source !== edge.target)).toBe(true);
  });

  it('scoped: a small DenseNet starts whole and lays out without overlaps', async () => {
    const model = buildModel(parsed(scoped));
    expect(model.message.nodes).toHaveLength(41);
    expect(model.maxDepth).toBe(4);
    const start = defaultExpanded(model);
    expect(start.expanded).toEqual(expandAll(model));
    const graph = visibleGraph(model, start.expanded);
    const layout = fromElkGraph(await new ELK().layout(toElkGraph(graph)));
    const boxes = [...layout.boxes.values()];
    expect(boxes).toHaveLength(41 + 2);
    expect(boxes.some((a, i) => boxes.slice(i + 1).some(b => boxesOverlap(a, b)))).toBe(false);
  });

  it('parity: the first drift names a node beyond tolerance', () => {
    const message = parsed(parity);
    const drift = message.nodes.find(node => node.id === message.parity!.first_drift)!;
    expect(drift.parity!.ok).toBe(false);
    expect(message.nodes.filter(node => node.parity !== null).length).toBeGreaterThan(1);
  });

  it('categories: both sides colour every category alike', () => {
    expect(categories.colours).toEqual(CATEGORY_COLOURS);
    const used = new Set(Object.values(categories.ops));
    for (const category of used) {
      expect(CATEGORIES).toContain(category);
    }
  });
});
