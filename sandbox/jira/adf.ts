// Atlassian Document Format, as far as the Jira stand-in needs it: REST v3
// speaks ADF, REST v2 and classic webhooks speak wiki-markup strings.

import type { AdfNode } from '../../lambdas/core/adf';

export { adfToText, isAdfDocument } from '../../lambdas/core/adf';
export type { AdfNode };

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

/**
 * ADF as Jira's REST v2 renders it: wiki markup. Enough of it for what tickets hold: paragraphs,
 * headings (`h2. `), lists (`* `, `# `), code blocks, hard breaks, and bold / italic / code marks
 * (`*b*`, `_i_`, `{{c}}`). Anything else keeps its text. Iterative, as the reader is: a deep document
 * must not exhaust the stack.
 */
export function adfToWiki(root: AdfNode): string {
  const lines: string[] = [];
  const stack: { node: AdfNode; prefix: string }[] = [{ node: root, prefix: '' }];
  while (stack.length) {
    const { node, prefix } = stack.pop() as { node: AdfNode; prefix: string };
    const children = Array.isArray(node.content) ? node.content : [];
    if (node.type === 'paragraph' || node.type === 'heading' || node.type === 'codeBlock') {
      const text = children.map(inlineWiki).join('');
      const level = typeof node.attrs?.level === 'number' ? node.attrs.level : 1;
      lines.push(
        node.type === 'heading'
          ? `h${level}. ${text}`
          : node.type === 'codeBlock'
            ? `{code}\n${text}\n{code}`
            : `${prefix}${text}`,
      );
      continue;
    }
    const marker = node.type === 'bulletList' ? '*' : node.type === 'orderedList' ? '#' : undefined;
    // A list item's first paragraph carries the marker (`* `, `** ` when nested).
    const childPrefix = marker ? `${prefix.trim()}${marker} ` : prefix;
    for (const child of [...children].reverse()) stack.push({ node: child, prefix: childPrefix });
  }
  return lines.join('\n');
}

function inlineWiki(node: AdfNode): string {
  if (node.type === 'hardBreak') return '\n';
  if (node.type !== 'text' || typeof node.text !== 'string') return '';
  const marks = (node as AdfNode & { marks?: { type: string }[] }).marks ?? [];
  let text = node.text;
  for (const mark of marks) {
    if (mark.type === 'strong') text = `*${text}*`;
    else if (mark.type === 'em') text = `_${text}_`;
    else if (mark.type === 'code') text = `{{${text}}}`;
  }
  return text;
}
