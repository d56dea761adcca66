// Which module scopes are expanded (pure): the large-graph default depth, expand all, expand around matches, collapse.

import { collapsedScopeOf, groupId, IGraphModel, IScope, scopeKey } from './model';

/** A message with more nodes than this starts collapsed. */
export const COLLAPSE_ABOVE_NODES = 400;

/** A collapsed start shows at most this many items (nodes, groups, inputs and outputs) when it can. */
export const MAX_START_ITEMS = 300;

/** Every scope of depth <= `depth` expanded. */
export function expandedToDepth(model: IGraphModel, depth: number): Set<string> {
  const expanded = new Set<string>();
  for (const scope of model.scopes.values()) {
    if (scope.path.length <= depth) {
      expanded.add(scope.key);
    }
  }
  return expanded;
}

/** Every scope expanded: the whole graph. */
export function expandAll(model: IGraphModel): Set<string> {
  return expandedToDepth(model, model.maxDepth);
}

/** How many items the visible graph has for these expanded scopes (without building its edges). */
export function visibleItemCount(model: IGraphModel, expanded: ReadonlySet<string>): number {
  const shown = new Set<string>();
  for (const node of model.message.nodes) {
    const scope = collapsedScopeOf(model, node, expanded);
    shown.add(scope === null ? node.id : groupId(scope.key));
  }
  return shown.size + model.message.inputs.length + model.message.outputs.length;
}

/**
 * The expanded scopes a message starts with: all of them up to COLLAPSE_ABOVE_NODES nodes; above, the deepest
 * depth whose visible graph has at most MAX_START_ITEMS items (depth 0, everything collapsed, when none has).
 */
export function defaultExpanded(
  model: IGraphModel,
  collapseAbove: number = COLLAPSE_ABOVE_NODES,
  maxItems: number = MAX_START_ITEMS
): { expanded: Set<string>; depth: number } {
  if (model.message.nodes.length <= collapseAbove) {
    return { expanded: expandAll(model), depth: model.maxDepth };
  }
  for (let depth = model.maxDepth; depth > 0; depth--) {
    const expanded = expandedToDepth(model, depth);
    if (visibleItemCount(model, expanded) <= maxItems) {
      return { expanded, depth };
    }
  }
  return { expanded: new Set(), depth: 0 };
}

/** The expanded scopes plus every scope around these nodes, so that each is shown itself. */
export function expandAround(model: IGraphModel, expanded: ReadonlySet<string>, nodeIds: Iterable<string>): Set<string> {
  const result = new Set(expanded);
  for (const id of nodeIds) {
    const node = model.nodes.get(id);
    for (let depth = 1; node && depth <= node.scope.length; depth++) {
      result.add(scopeKey(node.scope.slice(0, depth)));
    }
  }
  return result;
}

/** The expanded scopes with this scope expanded (and its parents, so it shows). */
export function expandScope(expanded: ReadonlySet<string>, scope: IScope): Set<string> {
  const result = new Set(expanded);
  for (let depth = 1; depth <= scope.path.length; depth++) {
    result.add(scopeKey(scope.path.slice(0, depth)));
  }
  return result;
}

/** The expanded scopes with this scope and every scope inside it collapsed. */
export function collapseScope(expanded: ReadonlySet<string>, key: string): Set<string> {
  return new Set([...expanded].filter(item => item !== key && !item.startsWith(`${key}/`)));
}

/** Node ids whose name or op contains the query (case-insensitive), in graph order; none for a blank query. */
export function searchNodes(model: IGraphModel, query: string): string[] {
  const needle = query.trim().toLowerCase();
  if (needle === '') {
    return [];
  }
  return model.message.nodes
    .filter(node => node.name.toLowerCase().includes(needle) || node.op.toLowerCase().includes(needle))
    .map(node => node.id);
}
