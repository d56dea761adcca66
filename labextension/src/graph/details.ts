// The details panel of a clicked node: name, op, scope, attributes, inputs/outputs, parameters and parity, as text.

import { AttributeValue, IGraphMessage, IGraphNode, INodeArgument } from './message';
import { formatCount, formatError, formatValue } from './labels';
import { scopeKey } from './model';
import { element } from '../dom';

export const DETAILS_CLASS = 'nbunify-graph-details';

export interface IDetailsActions {
  /** Collapse this scope (a key of the model's scopes) back into its group. */
  collapse(key: string): void;
  close(): void;
}

function section(title: string): HTMLElement {
  const part = element('section', 'nbunify-graph-details-section');
  part.appendChild(element('h4', undefined, title));
  return part;
}

function row(table: HTMLElement, key: string, value: string): void {
  const line = element('div', 'nbunify-graph-details-row');
  line.append(element('span', 'nbunify-graph-details-key', key), element('span', 'nbunify-graph-details-value', value));
  table.appendChild(line);
}

function attributeText(value: AttributeValue): string {
  return Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
}

function argumentsSection(title: string, args: INodeArgument[], message: IGraphMessage): HTMLElement | null {
  const part = section(title);
  let any = false;
  for (const argument of args) {
    for (const value of argument.values) {
      if (value !== '' && !message.values[value]?.parameter) {
        row(part, argument.name, `${value}  ${formatValue(message.values[value])}`);
        any = true;
      }
    }
  }
  return any ? part : null;
}

function parametersSection(node: IGraphNode, message: IGraphMessage): HTMLElement | null {
  const part = section(`Parameters (${node.parameter_count.toLocaleString('en-US')})`);
  let any = false;
  for (const argument of node.inputs) {
    for (const value of argument.values) {
      const info = message.values[value];
      if (info?.parameter) {
        row(part, argument.name, `${value}  ${formatValue(info)}  ${formatCount(info.count)}`);
        any = true;
      }
    }
  }
  return any ? part : null;
}

function scopeSection(node: IGraphNode, actions: IDetailsActions): HTMLElement | null {
  if (node.scope.length === 0) {
    return null;
  }
  const part = section('Scope');
  const path = element('div', 'nbunify-graph-details-scope');
  node.scope.forEach((name, index) => {
    const key = scopeKey(node.scope.slice(0, index + 1));
    const button = element('button', 'nbunify-graph-collapse', name);
    button.type = 'button';
    button.dataset.scope = key;
    button.title = `Collapse ${key}`;
    button.addEventListener('click', () => actions.collapse(key));
    path.append(button, element('span', 'nbunify-graph-details-separator', index < node.scope.length - 1 ? '/' : ''));
  });
  part.appendChild(path);
  return part;
}

function paritySection(node: IGraphNode, message: IGraphMessage): HTMLElement | null {
  if (!node.parity || !message.parity) {
    return null;
  }
  const part = section(`Parity: ${message.parity.a} vs ${message.parity.b}`);
  row(part, 'output', node.parity.output);
  row(part, 'max abs error', formatError(node.parity.max_abs_error));
  row(part, 'relative error', formatError(node.parity.relative_error));
  row(part, 'within tolerance', node.parity.ok ? 'yes' : 'no');
  if (message.parity.first_drift === node.id) {
    row(part, 'first drift', 'this is the first node beyond tolerance');
  }
  return part;
}

/** The panel's content for one node. */
export function renderDetails(node: IGraphNode, message: IGraphMessage, actions: IDetailsActions): HTMLElement {
  const root = element('div', 'nbunify-graph-details-content');
  const header = element('div', 'nbunify-graph-details-header');
  header.appendChild(element('span', 'nbunify-graph-details-op', node.op));
  const close = element('button', 'nbunify-graph-details-close', '×');
  close.type = 'button';
  close.title = 'Close';
  close.addEventListener('click', () => actions.close());
  header.appendChild(close);
  root.appendChild(header);
  const summary = section('Node');
  row(summary, 'name', node.name || '(none)');
  row(summary, 'op', node.op);
  row(summary, 'domain', node.domain || 'ai.onnx (default)');
  row(summary, 'category', node.category);
  row(summary, 'id', node.id);
  root.appendChild(summary);
  const attributes = Object.entries(node.attributes);
  const attributePart = attributes.length > 0 ? section('Attributes') : null;
  for (const [key, value] of attributes) {
    row(attributePart!, key, attributeText(value));
  }
  const parts = [
    scopeSection(node, actions),
    attributePart,
    argumentsSection('Inputs', node.inputs, message),
    argumentsSection('Outputs', node.outputs, message),
    parametersSection(node, message),
    paritySection(node, message)
  ];
  for (const part of parts) {
    if (part) {
      root.appendChild(part);
    }
  }
  return root;
}
