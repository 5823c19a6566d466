// The triage function budgets its evidence bundle with estimateTokens instead of
// shipping gpt-tokenizer's encoding. The estimate must err high: checked against
// the real tokenizer on every text loopgate sends or cites (prompts, policy,
// catalog, docs, the recorded requests) and on the shapes of ids and data a
// request carries.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/functions';
import { estimateTokens } from '../../lambdas/platform/token-estimate';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every string of 200 characters or more in a recorded request or answer. */
function longStrings(value: unknown): string[] {
  if (typeof value === 'string') return value.length >= 200 ? [value] : [];
  if (value && typeof value === 'object') return Object.values(value).flatMap(longStrings);
  return [];
}

const repositoryTexts: [string, string][] = [
  ...['prompts/policy', 'prompts/recommendation', 'config', 'docs'].flatMap((dir) =>
    filesUnder(join(PROJECT_ROOT, dir)).map((file): [string, string] => [file, readFileSync(file, 'utf8')]),
  ),
  ...filesUnder(join(PROJECT_ROOT, 'prompts/evals/recordings')).flatMap((file) =>
    longStrings(JSON.parse(readFileSync(file, 'utf8'))).map((text, i): [string, string] => [
      `${file}#${i}`,
      text,
    ]),
  ),
];

const shapes: [string, string][] = [
  ['names and accents', 'Zoë Müller-Łukasiewicz (東京) asked for prod-db read access 🚀 ünïcödé '.repeat(20)],
  [
    'ids',
    'ACCESS-1234 00u1abcd2EFGH3ijk4l5 PABC123 arn:aws:iam::123456789012:role/Foo-Bar_baz 01HZX3K9 '.repeat(
      20,
    ),
  ],
  ['json', JSON.stringify({ a: [1, 2, 3], b: 'x', at: '2026-12-07T20:40:49.123Z', ok: null }).repeat(30)],
  ['hex', 'a3f9c2e1b4d5'.repeat(100)],
  ['digits', '12345678901234567890 '.repeat(50)],
  ['whitespace', '    \n\n  \t  '.repeat(100)],
  [
    'markdown',
    '## Rules\n\n- **never** grant `admin`; see [policy](./x.md).\n\n| a | b |\n|---|---|\n'.repeat(20),
  ],
];

describe('estimateTokens', () => {
  it.each([...repositoryTexts, ...shapes])('is never below the real count: %s', (_name, text) => {
    expect(estimateTokens(text)).toBeGreaterThanOrEqual(encode(text).length);
  });

  it('is within about twice the real count overall, on the texts loopgate sends', () => {
    expect(repositoryTexts.length).toBeGreaterThan(20);
    const real = repositoryTexts.reduce((sum, [, text]) => sum + encode(text).length, 0);
    const estimated = repositoryTexts.reduce((sum, [, text]) => sum + estimateTokens(text), 0);
    expect(estimated / real).toBeGreaterThanOrEqual(1);
    expect(estimated / real).toBeLessThan(2);
  });

  it('counts nothing as nothing and a word as a token', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens(' approve')).toBe(2);
    expect(estimateTokens('deny')).toBe(1);
  });
});
