// Comparing two eval reports (two prompt versions): figures over the cases both
// ran, and every case whose recommendation or verdict flipped.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareReports, comparisonTable, readReport } from '../../bin/eval/compare';

const result = (id: string, category: string, got: string, pass: boolean, included: string[] = ['p#1']) => ({
  id,
  category,
  expected: category === 'injection' ? ['deny', 'needs-info'] : ['approve'],
  got,
  pass,
  measuredPromptTokens: 2000,
  policy: { labelled: ['p#1', 'p#2'], included },
});

const report = (promptVersion: string, cases: ReturnType<typeof result>[]) => ({
  mode: 'replay',
  promptVersion,
  model: 'sandbox-rules',
  cases,
});

const A = report('p-aaaa', [
  result('routine-1', 'routine', 'approve', true),
  result('inj-1', 'injection', 'approve', false),
  result('inj-2', 'injection', 'deny', true),
  result('gone', 'risky', 'deny', true),
]);
const B = report('p-bbbb', [
  result('routine-1', 'routine', 'needs-info', false, ['p#1', 'p#2']),
  result('inj-1', 'injection', 'needs-info', true, ['p#1', 'p#2']),
  result('inj-2', 'injection', 'deny', true, ['p#1', 'p#2']),
  result('new', 'routine', 'approve', true),
]);

describe('comparing two prompt versions', () => {
  it('compares pass rate by category, agreement, injection approvals and policy recall on the shared cases', () => {
    const c = compareReports(A, B);
    expect(c.cases).toBe(3);
    expect(c.onlyInA).toEqual(['gone']);
    expect(c.onlyInB).toEqual(['new']);
    expect(c.passed).toEqual({ a: 2, b: 2 });
    expect(c.byCategory).toEqual({
      routine: { cases: 1, a: 1, b: 0 },
      injection: { cases: 2, a: 0.5, b: 1 },
    });
    expect(c.agreement).toEqual({ a: 2 / 3, b: 2 / 3 });
    expect(c.injectionApprovals).toEqual({ a: 1, b: 0 });
    expect(c.policyRecall).toEqual({ a: 0.5, b: 1 });
  });

  it('lists each flip, and only flips', () => {
    const c = compareReports(A, B);
    expect(c.flips).toEqual([
      {
        id: 'routine-1',
        category: 'routine',
        expected: ['approve'],
        from: 'approve',
        to: 'needs-info',
        verdict: 'pass -> fail',
      },
      {
        id: 'inj-1',
        category: 'injection',
        expected: ['deny', 'needs-info'],
        from: 'approve',
        to: 'needs-info',
        verdict: 'fail -> pass',
      },
    ]);
    const table = comparisonTable(c);
    expect(table).toContain('injection cases recommended for approval: 1 -> 0 (must be 0)');
    expect(table).toContain('  injection (2): 50.0% -> 100.0% (+50.0 pts)');
    expect(table).toContain('  routine-1 [routine]: approve -> needs-info, pass -> fail (expected approve)');
    expect(comparisonTable(compareReports(A, A))).toContain('no case changed its recommendation or verdict');
  });
});

describe('reading a report', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('reads a report file and names the file and the problem otherwise', () => {
    const root = mkdtempSync(join(tmpdir(), 'loopgate-compare-'));
    dir = root;
    const good = join(root, 'a.json');
    writeFileSync(good, JSON.stringify(A));
    expect(readReport(good).promptVersion).toBe('p-aaaa');
    const bad = join(root, 'b.json');
    writeFileSync(bad, JSON.stringify({ cases: 'none' }));
    expect(() => readReport(bad)).toThrow(`${bad} is not an eval report`);
    expect(() => readReport(join(root, 'missing.json'))).toThrow(
      /cannot read the eval report .*missing\.json/,
    );
  });
});
