// Atlassian Document Format, as far as the Jira stand-in needs it: REST v3
// speaks ADF, REST v2 and classic webhooks speak wiki-markup strings.

export interface AdfNode {
  type: string;
  version?: number;
  text?: string;
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
}

export function isAdfDocument(value: unknown): value is AdfNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as AdfNode).type === 'doc' &&
    (value as AdfNode).version === 1 &&
    Array.isArray((value as AdfNode).content)
  );
}

/** One paragraph per line, as Jira renders a plain text description in ADF. */
export function textToAdf(text: string): AdfNode {
  return {
    type: 'doc',
    version: 1,
    content: text.split('\n').map((line) => ({
      type: 'paragraph',
      content: line ? [{ type: 'text', text: line }] : [],
    })),
  };
}

/** The text of a document, one line per block: what REST v2 shows for an ADF field. */
export function adfToText(node: AdfNode): string {
  if (node.type === 'text') return node.text ?? '';
  if (node.type === 'hardBreak') return '\n';
  const inner = (node.content ?? []).map(adfToText);
  const blocks = ['doc', 'bulletList', 'orderedList', 'listItem', 'blockquote', 'panel', 'table', 'tableRow'];
  return blocks.includes(node.type) ? inner.join('\n') : inner.join('');
}
