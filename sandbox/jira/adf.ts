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
