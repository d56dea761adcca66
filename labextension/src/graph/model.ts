// The graph behind a message (pure): edges from values, module scopes, and the visible graph for a set of expanded scopes.

import { IGraphMessage, IGraphNode } from './message';

/** A value flowing from one node (or graph input) to another node (or graph output). */
export interface IEdge {
  source: string;
  target: string;
  value: string;
}

/** A module scope ("features/denseblock1") and the nodes inside it, at any depth. */
export interface IScope {
  key: string;
  path: string[];
  nodes: string[];
  parameterCount: number;
}

export interface IGraphModel {
  message: IGraphMessage;
  nodes: Map<string, IGraphNode>;
  edges: IEdge[];
  /** Every scope that holds a node, by key. */
  scopes: Map<string, IScope>;
  /** Deepest scope depth (0 when no node has a scope). */
  maxDepth: number;
}

export type ItemKind = 'node' | 'group' | 'input' | 'output';

/** One box of the visible graph: a message node, a collapsed scope, or a graph input/output. */
export interface IVisibleItem {
  id: string;
  kind: ItemKind;
  /** The message node (kind "node"). */
  node?: IGraphNode;
  /** The collapsed scope (kind "group"). */
  scope?: IScope;
  /** The value name (kinds "input" and "output"). */
  value?: string;
}

/** An edge of the visible graph: every value between the same two items, once. */
export interface IVisibleEdge {
  id: string;
  source: string;
  target: string;
  values: string[];
}

export interface IVisibleGraph {
  items: IVisibleItem[];
  edges: IVisibleEdge[];
  /** Where each message node is shown: its own id, or the id of the group that holds it. */
  shownAs: Map<string, string>;
}

/** Key of a scope path, also its `data-scope` in the drawing. */
export function scopeKey(path: string[]): string {
  return path.join('/');
}

export function inputId(index: number): string {
  return `input:${index}`;
}

export function outputId(index: number): string {
  return `output:${index}`;
}

export function groupId(key: string): string {
  return `group:${key}`;
}

/** Edges of the message: an input value made by a node's output or by a graph input; parameters never. */
export function buildEdges(message: IGraphMessage): IEdge[] {
  const producer = new Map<string, string>();
  message.inputs.forEach((value, index) => producer.set(value, inputId(index)));
  for (const node of message.nodes) {
    for (const argument of node.outputs) {
      for (const value of argument.values) {
        if (value !== '') {
          producer.set(value, node.id);
        }
      }
    }
  }
  const edges: IEdge[] = [];
  const seen = new Set<string>();
  const add = (source: string | undefined, target: string, value: string) => {
    const key = `${source}\u0000${target}\u0000${value}`;
    if (source !== undefined && !message.values[value]?.parameter && !seen.has(key)) {
      seen.add(key);
      edges.push({ source, target, value });
    }
  };
  for (const node of message.nodes) {
    for (const argument of node.inputs) {
      for (const value of argument.values) {
        if (value !== '') {
          add(producer.get(value), node.id, value);
        }
      }
    }
  }
  message.outputs.forEach((value, index) => add(producer.get(value), outputId(index), value));
  return edges;
}

/** Scopes of the message's nodes, each with its nodes at any depth and their parameters. */
export function buildScopes(nodes: IGraphNode[]): Map<string, IScope> {
  const scopes = new Map<string, IScope>();
  for (const node of nodes) {
    for (let depth = 1; depth <= node.scope.length; depth++) {
      const path = node.scope.slice(0, depth);
      const key = scopeKey(path);
      let scope = scopes.get(key);
      if (!scope) {
        scope = { key, path, nodes: [], parameterCount: 0 };
        scopes.set(key, scope);
      }
      scope.nodes.push(node.id);
      scope.parameterCount += node.parameter_count;
    }
  }
  return scopes;
}

export function buildModel(message: IGraphMessage): IGraphModel {
  const scopes = buildScopes(message.nodes);
  let maxDepth = 0;
  for (const scope of scopes.values()) {
    maxDepth = Math.max(maxDepth, scope.path.length);
  }
  return {
    message,
    nodes: new Map(message.nodes.map(node => [node.id, node])),
    edges: buildEdges(message),
    scopes,
    maxDepth
  };
}

/**
 * The collapsed scope a node is shown in, or null when it is shown itself: its outermost scope that is not
 * expanded. A scope holding a single node never collapses (a box for one box helps no one).
 */
export function collapsedScopeOf(model: IGraphModel, node: IGraphNode, expanded: ReadonlySet<string>): IScope | null {
  for (let depth = 1; depth <= node.scope.length; depth++) {
    const scope = model.scopes.get(scopeKey(node.scope.slice(0, depth)));
    if (scope && !expanded.has(scope.key) && scope.nodes.length > 1) {
      return scope;
    }
  }
  return null;
}

/** What is drawn for a set of expanded scopes: items in graph order, aggregated edges without self-loops or duplicates. */
export function visibleGraph(model: IGraphModel, expanded: ReadonlySet<string>): IVisibleGraph {
  const { message } = model;
  const items: IVisibleItem[] = message.inputs.map((value, index) => ({ id: inputId(index), kind: 'input', value }));
  const shownAs = new Map<string, string>();
  const groups = new Set<string>();
  for (const node of message.nodes) {
    const scope = collapsedScopeOf(model, node, expanded);
    if (scope === null) {
      items.push({ id: node.id, kind: 'node', node });
      shownAs.set(node.id, node.id);
    } else {
      const id = groupId(scope.key);
      if (!groups.has(id)) {
        groups.add(id);
        items.push({ id, kind: 'group', scope });
      }
      shownAs.set(node.id, id);
    }
  }
  message.outputs.forEach((value, index) => items.push({ id: outputId(index), kind: 'output', value }));
  const edges = new Map<string, IVisibleEdge>();
  for (const edge of model.edges) {
    const source = shownAs.get(edge.source) ?? edge.source;
    const target = shownAs.get(edge.target) ?? edge.target;
    if (source === target) {
      continue;
    }
    const key = `${source}\u0000${target}`;
    const existing = edges.get(key);
    if (existing) {
      if (!existing.values.includes(edge.value)) {
        existing.values.push(edge.value);
      }
    } else {
      edges.set(key, { id: `e${edges.size}`, source, target, values: [edge.value] });
    }
  }
  return { items, edges: [...edges.values()], shownAs };
}

/** Whether two messages draw the same graph (same nodes, scopes and edges), e.g. a live update that only adds parity. */
export function sameGraph(a: IGraphMessage, b: IGraphMessage): boolean {
  if (a.nodes.length !== b.nodes.length || a.inputs.join('\u0000') !== b.inputs.join('\u0000')) {
    return false;
  }
  const signature = (node: IGraphNode) =>
    [node.id, node.op, node.scope.join('/'), ...node.inputs.flatMap(argument => argument.values)].join('\u0000');
  return a.nodes.every((node, index) => signature(node) === signature(b.nodes[index]));
}
