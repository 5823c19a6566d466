// The catalog's onCall.levels: which escalation levels of the owners' policy count
// as on call for an entitlement. Absent means [1]; anything else is refused with
// the path and the reason.

import { describe, expect, it } from 'vitest';
import { CatalogError } from '../../lambdas/core/catalog';
import { onCallLevels } from '../../lambdas/core/on-call';
import { loadCatalogFile, parseCatalogYaml } from '../../lambdas/platform/catalog-file';

const entitlement = (extra: string, approvers = '{ onCall: true }', mode = 'approval') => `version: 1
entitlements:
  - id: okta-prod-readonly
    description: Read-only production access
    riskTier: low
    action: { kind: okta-group, groupId: 00g1prodreadonly0001 }
    duration: { default: 4h, max: 7d }
    owners: { escalationPolicy: PSREPOL, service: PSRESVC }
    approvers: ${approvers}
    mode: ${mode}
${extra}`;

function problemsOf(yaml: string) {
  try {
    parseCatalogYaml(yaml, 'catalog.yaml');
  } catch (error) {
    if (error instanceof CatalogError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('the catalog was accepted');
}

describe('onCall.levels in the catalog', () => {
  it('is level 1 when absent, and takes the levels given', () => {
    const [absent] = parseCatalogYaml(entitlement(''), 'catalog.yaml').entitlements;
    expect(absent && onCallLevels(absent)).toEqual([1]);
    const [two] = parseCatalogYaml(
      entitlement('    onCall: { levels: [1, 2] }'),
      'catalog.yaml',
    ).entitlements;
    expect(two && onCallLevels(two)).toEqual([1, 2]);
  });

  it('counts level 1 only for the shipped on-call-auto entitlement', () => {
    const shipped = loadCatalogFile('config/catalog.yaml').entitlements;
    for (const e of shipped.filter((e) => e.mode === 'on-call-auto')) expect(onCallLevels(e)).toEqual([1]);
  });

  it.each([
    [
      'no levels',
      '    onCall: { levels: [] }',
      'entitlements[0].onCall.levels: list at least one level, as in [1]',
    ],
    [
      'level 0',
      '    onCall: { levels: [0] }',
      "entitlements[0].onCall.levels[0]: levels start at 1, the escalation policy's first rule",
    ],
    [
      'a fraction',
      '    onCall: { levels: [1.5] }',
      'entitlements[0].onCall.levels[0]: a level is a whole number',
    ],
    [
      'a word',
      '    onCall: { levels: [first] }',
      'entitlements[0].onCall.levels[0]: a level is a whole number',
    ],
    ['a repeat', '    onCall: { levels: [1, 1] }', 'entitlements[0].onCall.levels: a level is listed twice'],
    ['a bare list', '    onCall: [1]', expect.stringMatching(/^entitlements\[0\]\.onCall: /)],
    [
      'an unknown key',
      '    onCall: { levels: [1], permanent: true }',
      'entitlements[0].onCall.permanent: unknown key "permanent"',
    ],
  ])('refuses %s, naming where', (_, extra, problem) => {
    expect(problemsOf(entitlement(extra))).toEqual([problem]);
  });

  it('refuses levels on an entitlement where nothing is decided by on-call', () => {
    const yaml = entitlement('    onCall: { levels: [2] }', '{ emails: [ana.lima@example.com] }');
    expect(problemsOf(yaml)).toEqual([
      'entitlements[0].onCall: onCall.levels has no effect here: it applies to mode on-call-auto, approvers.onCall: true and break-glass reviewers',
    ]);
  });

  it('names the file, line and column', () => {
    expect(() => parseCatalogYaml(entitlement('    onCall: { levels: [0] }'), 'config/catalog.yaml')).toThrow(
      /config\/catalog\.yaml:11:\d+ entitlements\[0\]\.onCall\.levels\[0\]: levels start at 1/,
    );
  });
});

describe('onCall.endWithShift in the catalog', () => {
  it('takes it in approval mode, where it alone makes onCall.levels count', () => {
    const [e] = parseCatalogYaml(
      entitlement('    onCall: { levels: [1], endWithShift: true }', '{ emails: [ana.lima@example.com] }'),
      'catalog.yaml',
    ).entitlements;
    expect(e?.onCall?.endWithShift).toBe(true);
  });

  it('refuses it on an audit-only entitlement, which never looks at who is on call', () => {
    expect(
      problemsOf(
        entitlement('    onCall: { levels: [1], endWithShift: true }', '{ onCall: true }', 'audit-only'),
      ),
    ).toContain(
      'entitlements[0].onCall.endWithShift: endWithShift needs mode approval or on-call-auto: an audit-only grant does not look at who is on call',
    );
  });
});
