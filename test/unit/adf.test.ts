import { describe, expect, it } from 'vitest';
import { adfToText, bodyText } from '../../lambdas/core/adf';

const text = (t: string) => ({ type: 'text', text: t });

describe('ADF to text', () => {
  it('puts blocks on their own lines and keeps inline text together', () => {
    const doc = {
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [text('Entitlement: '), { type: 'strong', content: [text('x')] }] },
        {
          type: 'bulletList',
          content: [
            { type: 'listItem', content: [text('a')] },
            { type: 'listItem', content: [text('b')] },
          ],
        },
        { type: 'paragraph', content: [text('one'), { type: 'hardBreak' }, text('two')] },
      ],
    };
    expect(adfToText(doc)).toBe('Entitlement: x\na\nb\none\ntwo');
  });

  it('reads a document nested far deeper than the call stack allows', () => {
    let node: { type: string; content: unknown[] } = { type: 'paragraph', content: [text('deep')] };
    for (let i = 0; i < 50_000; i++) node = { type: 'paragraph', content: [node] };
    expect(bodyText({ type: 'doc', version: 1, content: [node] })).toBe('deep');
  });

  it('ignores what is not a node', () => {
    expect(adfToText({ type: 'doc', content: [null, 'x', 3, text('ok')] as never })).toBe('ok');
    expect(bodyText(42)).toBe('');
    expect(bodyText('wiki text')).toBe('wiki text');
  });
});
