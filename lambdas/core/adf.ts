// Atlassian Document Format to plain text: Jira descriptions and comments come
// as wiki-markup strings or as ADF documents, and loopgate reads both.

export interface AdfNode {
  type: string;
  version?: number;
  text?: string;
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
  marks?: { type: string; attrs?: Record<string, unknown> }[];
}

export interface AdfTextOptions {
  /**
   * Say how text was shown on the Jira page: white text, a collapsed section, a panel, a code
   * block and a mention are written between ⟪ and ⟫ with what they were, so a reader of the plain
   * text (the approver, the model) knows what a person looking at the ticket did not see. The
   * brackets in the document's own text become parentheses: only this code writes them.
   */
  provenance?: boolean;
}

/** The marker that opens what the page hid or framed; `⟫` closes it. */
export const HIDDEN_OPEN = '⟪';
export const HIDDEN_CLOSE = '⟫';

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
export function adfToText(root: AdfNode, options: AdfTextOptions = {}): string {
  const done = new Map<AdfNode, string>();
  const stack: { node: AdfNode; expanded: boolean }[] = [{ node: root, expanded: false }];
  while (stack.length) {
    const top = stack[stack.length - 1] as { node: AdfNode; expanded: boolean };
    const { node } = top;
    const children = Array.isArray(node.content) ? node.content.filter(isNode) : [];
    if (node.type === 'text' || node.type === 'hardBreak' || top.expanded || children.length === 0) {
      stack.pop();
      const text = textOf(node, children, done, options.provenance === true);
      done.set(node, options.provenance ? framed(node, text) : text);
      continue;
    }
    top.expanded = true;
    for (const child of children) stack.push({ node: child, expanded: false });
  }
  return done.get(root) ?? '';
}

function textOf(node: AdfNode, children: AdfNode[], done: Map<AdfNode, string>, provenance: boolean): string {
  if (node.type === 'text') {
    const text = typeof node.text === 'string' ? node.text : '';
    return provenance ? withoutMarkers(text) : text;
  }
  if (node.type === 'hardBreak') return '\n';
  const inner = children.map((c) => done.get(c) ?? '');
  return BLOCKS.has(node.type) ? inner.join('\n') : inner.join('');
}

/** Text the requester typed, with the markers only ADF-to-text may write turned into parentheses. */
export function withoutMarkers(text: string): string {
  return text.replaceAll(HIDDEN_OPEN, '(').replaceAll(HIDDEN_CLOSE, ')');
}

/** How the page showed a node, when it hid or framed it; its text wrapped in ⟪what: …⟫. */
function framed(node: AdfNode, text: string): string {
  const attr = (name: string) => {
    const value = node.attrs?.[name];
    return typeof value === 'string' ? withoutMarkers(value) : '';
  };
  const wrap = (what: string) => `${HIDDEN_OPEN}${what}: ${text}${HIDDEN_CLOSE}`;
  switch (node.type) {
    case 'text':
      return node.marks?.some((m) => m.type === 'textColor' && isWhite(m.attrs?.color))
        ? wrap('white text')
        : text;
    case 'expand':
    case 'nestedExpand': {
      const title = attr('title');
      return wrap(`collapsed section${title ? ` "${title}"` : ''}`);
    }
    case 'panel':
      return wrap(`${attr('panelType') || 'info'} panel`);
    case 'codeBlock':
      return wrap('code block');
    case 'mention': {
      const name = attr('text') || attr('id');
      return `${HIDDEN_OPEN}mention ${name}${HIDDEN_CLOSE}`;
    }
    default:
      return text;
  }
}

/** White or nearly: invisible on Jira's white page. */
function isWhite(color: unknown): boolean {
  if (typeof color !== 'string') return false;
  const c = color.trim().toLowerCase();
  if (c === 'white') return true;
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(c)?.[1];
  if (!hex) return false;
  const full = hex.length === 3 ? [...hex].map((d) => d + d).join('') : hex;
  return [0, 2, 4].every((i) => Number.parseInt(full.slice(i, i + 2), 16) >= 0xf0);
}

const isNode = (value: unknown): value is AdfNode => typeof value === 'object' && value !== null;

/** Wiki text as is, ADF as its text, anything else as nothing. */
export function bodyText(body: unknown, options: AdfTextOptions = {}): string {
  if (typeof body === 'string') return body;
  return isAdfDocument(body) ? adfToText(body, options) : '';
}
