// Edges from values, scopes, collapsed groups with aggregated edges, search, and the large-graph starting depth.

import { buildEdges, buildModel, groupId, sameGraph, visibleGraph } from '../../graph/model';
import {
  collapseScope,
  defaultExpanded,
  expandAll,
  expandAround,
  expandScope,
  MAX_START_ITEMS,
  searchNodes,
  visibleItemCount
} from '../../graph/scopes';
import { densenetMessage, MessageBuilder, tinyMessage } from './fixtures';

describe('edges', () => {
  it('join producers to consumers and graph inputs/outputs, never through parameters', () => {
    const edges = buildEdges(tinyMessage());
    expect(edges).toEqual([
      { source: 'input:0', target: 'n0', value: 'input' },
      { source: 'n0', target: 'n1', value: '/a/conv/Conv_out' },
      { source: 'n1', target: 'n2', value: '/a/relu/Relu_out' },
      { source: 'input:0', target: 'n2', value: 'input' },
      { source: 'n2', target: 'output:0', value: '/b/Add_out' }
    ]);
    expect(edges.some(edge => edge.value.includes('.p'))).toBe(false);
  });

  it('skip omitted optional inputs and list a value used twice by one node once', () => {
    const builder = new MessageBuilder();
    const a = builder.add('Relu', 'a', ['input']);
    builder.add('Add', 'b', [a, a, '']);
    const edges = buildEdges(builder.message(['b_out']));
    expect(edges.filter(edge => edge.target === 'n1')).toEqual([{ source: 'n0', target: 'n1', value: 'a_out' }]);
  });
});

describe('scopes and the visible graph', () => {
  it('group nodes by every prefix of their scope, with parameter totals', () => {
    const model = buildModel(tinyMessage());
    expect([...model.scopes.keys()].sort()).toEqual(['a', 'a/conv', 'a/relu', 'b']);
    expect(model.scopes.get('a')).toMatchObject({ nodes: ['n0', 'n1'], parameterCount: 30 });
    expect(model.maxDepth).toBe(2);
  });

  it('show everything when every scope is expanded', () => {
    const model = buildModel(tinyMessage());
    const graph = visibleGraph(model, expandAll(model));
    expect(graph.items.map(item => item.id)).toEqual(['input:0', 'n0', 'n1', 'n2', 'output:0']);
    expect(graph.edges).toHaveLength(5);
  });

  it('draw a collapsed scope as one group with aggregated edges and no self-loop', () => {
    const model = buildModel(tinyMessage());
    const graph = visibleGraph(model, new Set(['b']));
    expect(graph.items.map(item => `${item.kind}:${item.id}`)).toEqual([
      'input:input:0', 'group:group:a', 'node:n2', 'output:output:0'
    ]);
    expect(graph.shownAs.get('n0')).toBe(groupId('a'));
    // input -> a (once, though it feeds n0), a -> n2 (the n0 -> n1 edge inside a is gone), input -> n2, n2 -> out
    expect(graph.edges.map(edge => `${edge.source}>${edge.target}`)).toEqual([
      'input:0>group:a', 'group:a>n2', 'input:0>n2', 'n2>output:0'
    ]);
  });

  it('aggregate several values between the same two items into one edge', () => {
    const builder = new MessageBuilder();
    const a = builder.add('Relu', '/m/a/Relu', ['input']);
    const b = builder.add('Relu', '/m/b/Relu', ['input']);
    builder.add('Add', '/n/Add', [a, b]);
    const model = buildModel(builder.message(['/n/Add_out']));
    const graph = visibleGraph(model, new Set(['n']));
    const edge = graph.edges.find(item => item.source === groupId('m'))!;
    expect(edge.values).toEqual(['/m/a/Relu_out', '/m/b/Relu_out']);
    expect(graph.edges.filter(item => item.source === 'input:0')).toHaveLength(1);
  });

  it('never collapse a scope that holds a single node', () => {
    const model = buildModel(tinyMessage());
    const graph = visibleGraph(model, new Set());
    expect(graph.items.map(item => item.id)).toContain('n2'); // scope "b" holds only n2
    expect(visibleItemCount(model, new Set())).toBe(graph.items.length);
  });

  it('expand around matches, expand a scope with its parents, collapse a scope with its children', () => {
    const model = buildModel(densenetMessage([2, 2]));
    expect(searchNodes(model, 'CONV2')).toEqual(
      model.message.nodes.filter(node => node.name.includes('conv2')).map(node => node.id)
    );
    expect(searchNodes(model, '  ')).toEqual([]);
    const around = expandAround(model, new Set(), ['n9']); // /features/denseblock1/denselayer1/conv2/Conv
    expect([...around].sort()).toEqual(['features', 'features/denseblock1', 'features/denseblock1/denselayer1', 'features/denseblock1/denselayer1/conv2']);
    expect(visibleGraph(model, around).shownAs.get('n9')).toBe('n9');
    const scope = model.scopes.get('features/denseblock2')!;
    expect([...expandScope(new Set(), scope)].sort()).toEqual(['features', 'features/denseblock2']);
    expect([...collapseScope(around, 'features/denseblock1')]).toEqual(['features']);
  });
});

describe('updates in place', () => {
  it('recognise the same graph with new annotations, and a changed one', () => {
    const before = tinyMessage();
    const annotated = { ...tinyMessage(), title: 'with parity' };
    annotated.nodes[0].parity = { output: '/a/conv/Conv_out', max_abs_error: 0, relative_error: 0, ok: true };
    expect(sameGraph(before, annotated)).toBe(true);
    const rewired = tinyMessage();
    rewired.nodes[2].inputs[0].values = ['/a/conv/Conv_out', 'input'];
    expect(sameGraph(before, rewired)).toBe(false);
    expect(sameGraph(before, densenetMessage([1]))).toBe(false);
  });
});

describe('the starting view of a large graph', () => {
  it('shows a graph of up to 400 nodes whole', () => {
    const model = buildModel(densenetMessage([6, 12, 24]));
    expect(model.message.nodes.length).toBeGreaterThan(MAX_START_ITEMS);
    expect(model.message.nodes.length).toBeLessThanOrEqual(400);
    const start = defaultExpanded(model);
    expect(start.depth).toBe(model.maxDepth);
    expect(visibleItemCount(model, start.expanded)).toBe(model.message.nodes.length + 2);
  });

  it('collapses a 1,701-node DenseNet at the deepest depth with at most 300 items', () => {
    const message = densenetMessage();
    expect(message.nodes).toHaveLength(1701);
    const model = buildModel(message);
    const start = defaultExpanded(model);
    const items = visibleItemCount(model, start.expanded);
    expect(start.depth).toBe(2);
    expect(items).toBeLessThanOrEqual(MAX_START_ITEMS);
    expect(items).toBeGreaterThan(250); // ~260: the 240 dense layers as groups, plus the rest
    expect(visibleItemCount(model, expandedDepth(model, start.depth + 1))).toBeGreaterThan(MAX_START_ITEMS);
    const graph = visibleGraph(model, start.expanded);
    expect(graph.items.filter(item => item.kind === 'group')).toHaveLength(240);
    expect(graph.items.find(item => item.id === groupId('features/denseblock3/denselayer12'))).toBeDefined();
    expect(graph.edges.every(edge => edge.source !== edge.target)).toBe(true);
    const pairs = graph.edges.map(edge => `${edge.source}>${edge.target}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });
});

function expandedDepth(model: ReturnType<typeof buildModel>, depth: number): Set<string> {
  return new Set([...model.scopes.values()].filter(scope => scope.path.length <= depth).map(scope => scope.key));
}
