// Layout conversion with the real elkjs (bundled, in node): sizes from labels, every item placed, no two boxes overlap.

import ELK from 'elkjs/lib/elk.bundled.js';

import { boxesOverlap, fromElkGraph, ILayout, itemSize, LAYOUT_OPTIONS, polylinePath, toElkGraph } from '../../graph/layout';
import { buildModel, IVisibleGraph, visibleGraph } from '../../graph/model';
import { defaultExpanded, expandAll } from '../../graph/scopes';
import { densenetMessage, tinyMessage } from './fixtures';

async function layOut(graph: IVisibleGraph): Promise<ILayout> {
  return fromElkGraph(await new ELK().layout(toElkGraph(graph)));
}

function overlaps(layout: ILayout): string[] {
  const boxes = [...layout.boxes.entries()];
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (boxesOverlap(boxes[i][1], boxes[j][1])) {
        found.push(`${boxes[i][0]} / ${boxes[j][0]}`);
      }
    }
  }
  return found;
}

describe('layout', () => {
  it('converts the visible graph to ELK JSON with the fast layered options', () => {
    const model = buildModel(tinyMessage());
    const elk = toElkGraph(visibleGraph(model, expandAll(model)));
    expect(elk.layoutOptions).toBe(LAYOUT_OPTIONS);
    expect(LAYOUT_OPTIONS['elk.layered.nodePlacement.strategy']).toBe('BRANDES_KOEPF');
    expect(elk.children!.map(child => child.id)).toEqual(['input:0', 'n0', 'n1', 'n2', 'output:0']);
    expect(elk.edges![0]).toEqual({ id: 'e0', sources: ['input:0'], targets: ['n0'] });
  });

  it('sizes a box from its longest label', () => {
    const node = tinyMessage().nodes[0];
    const short = itemSize({ id: 'n0', kind: 'node', node: { ...node, op: 'Add', name: '' } });
    const long = itemSize({ id: 'n0', kind: 'node', node: { ...node, op: 'BatchNormalization', name: '/x/some_long_layer_name/Op' } });
    expect(long.width).toBeGreaterThan(short.width);
    expect(long.height).toBeGreaterThan(short.height); // two lines
  });

  it('places every item of a small graph, top to bottom, without overlaps', async () => {
    const model = buildModel(tinyMessage());
    const graph = visibleGraph(model, expandAll(model));
    const layout = await layOut(graph);
    expect([...layout.boxes.keys()]).toEqual(graph.items.map(item => item.id));
    expect(overlaps(layout)).toEqual([]);
    expect(layout.boxes.get('input:0')!.y).toBeLessThan(layout.boxes.get('n0')!.y);
    expect(layout.boxes.get('n2')!.y).toBeLessThan(layout.boxes.get('output:0')!.y);
    expect(layout.edges.size).toBe(graph.edges.length);
    for (const points of layout.edges.values()) {
      expect(polylinePath(points)).toMatch(/^M[\d.-]+,[\d.-]+( L[\d.-]+,[\d.-]+)+$/);
    }
  });

  it('lays the collapsed 1,701-node DenseNet out without overlaps', async () => {
    const model = buildModel(densenetMessage());
    const graph = visibleGraph(model, defaultExpanded(model).expanded);
    const layout = await layOut(graph);
    expect(layout.boxes.size).toBe(graph.items.length);
    expect(overlaps(layout)).toEqual([]);
    expect(layout.width).toBeGreaterThan(0);
    expect(layout.height).toBeGreaterThan(layout.width); // a deep network is tall
  }, 60_000);
});
