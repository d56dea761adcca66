// DOM helpers shared by the views: elements whose text is set through textContent only, never as HTML.

/**
 * A new element with an optional class and text. Text goes through textContent, never innerHTML:
 * titles, node names, run names and metric names come from files, kernels and user code.
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}
