// Atlassian Document Format to plain text: Jira descriptions and comments come
// as wiki-markup strings or as ADF documents, and loopgate reads both.

export interface AdfNode {
  type: string;
  version?: number;
  text?: string;
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
}

const BLOCKS = new Set([
  'doc',
  'bulletList',
  'orderedList',
  'listItem',
  'blockquote',
  'panel',
  'table',
  'tableRow',
]);

export function isAdfDocument(value: unknown): value is AdfNode {
  const node = value as AdfNode | null;
  return typeof node === 'object' && node !== null && node.type === 'doc' && Array.isArray(node.content);
}

/** The text of a document, one line per block. */
export function adfToText(node: AdfNode): string {
  if (node.type === 'text') return typeof node.text === 'string' ? node.text : '';
  if (node.type === 'hardBreak') return '\n';
  const inner = (Array.isArray(node.content) ? node.content : []).map(adfToText);
  return BLOCKS.has(node.type) ? inner.join('\n') : inner.join('');
}

/** Wiki text as is, ADF as its text, anything else as nothing. */
export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  return isAdfDocument(body) ? adfToText(body) : '';
}
