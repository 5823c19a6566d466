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

/**
 * The text of a document, one line per block. Walked with an explicit stack, not recursion: a
 * signed but hostile document thousands of levels deep must not exhaust the call stack.
 */
export function adfToText(root: AdfNode): string {
  const done = new Map<AdfNode, string>();
  const stack: { node: AdfNode; expanded: boolean }[] = [{ node: root, expanded: false }];
  while (stack.length) {
    const top = stack[stack.length - 1] as { node: AdfNode; expanded: boolean };
    const { node } = top;
    const children = Array.isArray(node.content) ? node.content.filter(isNode) : [];
    if (node.type === 'text' || node.type === 'hardBreak' || top.expanded || children.length === 0) {
      stack.pop();
      done.set(node, textOf(node, children, done));
      continue;
    }
    top.expanded = true;
    for (const child of children) stack.push({ node: child, expanded: false });
  }
  return done.get(root) ?? '';
}

function textOf(node: AdfNode, children: AdfNode[], done: Map<AdfNode, string>): string {
  if (node.type === 'text') return typeof node.text === 'string' ? node.text : '';
  if (node.type === 'hardBreak') return '\n';
  const inner = children.map((c) => done.get(c) ?? '');
  return BLOCKS.has(node.type) ? inner.join('\n') : inner.join('');
}

const isNode = (value: unknown): value is AdfNode => typeof value === 'object' && value !== null;

/** Wiki text as is, ADF as its text, anything else as nothing. */
export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  return isAdfDocument(body) ? adfToText(body) : '';
}
