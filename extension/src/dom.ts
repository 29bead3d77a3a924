/** Builds DOM nodes from text only (never HTML strings): everything shown comes from the DNS and is hostile. */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string | null | undefined>): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}
