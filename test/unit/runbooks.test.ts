// docs/runbooks.md tells an operator which functions to restart after changing a secret.
// A row that misses a function leaves it on the old credential: the table must say exactly
// what lib/functions.ts gives each function, with every key the secret holds.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, FUNCTIONS, PROJECT_ROOT } from '../../lib/functions';
import { INTEGRATION_SECRETS, SECRET_IDS, secretKeys } from '../../lib/integration-secrets';

const runbooks = readFileSync(join(PROJECT_ROOT, 'docs/runbooks.md'), 'utf8');

/** The rotation table's row of a secret: [keys cell, functions cell]. */
function rowOf(name: string): [string, string] {
  const row = runbooks.split('\n').find((line) => line.startsWith(`| \`loopgate/<stage>/${name}\``));
  const cells = (row ?? '').split('|').map((cell) => cell.trim());
  return [cells[2] ?? '', cells[3] ?? ''];
}

describe('docs/runbooks.md: rotating the secrets', () => {
  it.each(SECRET_IDS)('%s: lists every key and exactly the functions that read it', (id) => {
    const [keys, functions] = rowOf(INTEGRATION_SECRETS[id].name);
    for (const key of secretKeys(id)) expect(keys).toContain(key);
    const readers = FUNCTION_NAMES.filter((name) => FUNCTIONS[name].secrets.includes(id));
    expect(
      functions
        .split(',')
        .map((f) => f.trim())
        .sort(),
    ).toEqual([...readers].sort());
  });

  it('restarts what takes access away first and the webhooks last', () => {
    const [, order] = rowOf('jira');
    const names = order.split(',').map((f) => f.trim());
    expect(names.slice(0, 2)).toEqual(['revoke', 'sweeper']);
    expect(names.at(-1)).toBe('jira-webhook');
  });
});
