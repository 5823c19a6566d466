// A deploy that removes entitlements from the catalog (or renames them, or
// rolls back a commit that added them), end to end in the sandbox: the
// functions restart with the new catalog, and the grants made before are still
// revoked from what each recorded, at its expiry or at once when the stage says
// so, with the trail saying why. Nothing new is granted without the catalog.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Grant } from '../../lambdas/core/model';
import type { SweepReport } from '../../lambdas/core/provision/sweep';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

const REMOVED = ['okta-prod-readonly', 'aws-logs-read'];
const GROUP = '00g1prodreadonly0001';
const CATALOG = 'config/catalog.yaml';

let folder: string;
let withoutThem: string;
let sandbox: Sandbox;
const { filed, note, inState, passExpiry, oktaMembers, lastNote } = flow(() => sandbox);

/** The shipped catalog without `ids` (and without them as anyone's narrower alternative). */
function catalogWithout(ids: string[]): string {
  const catalog = parse(readFileSync(CATALOG, 'utf8')) as {
    entitlements: { id: string; narrowerAlternatives?: string[] }[];
  };
  catalog.entitlements = catalog.entitlements.filter((e) => !ids.includes(e.id));
  for (const e of catalog.entitlements) {
    if (e.narrowerAlternatives)
      e.narrowerAlternatives = e.narrowerAlternatives.filter((a) => !ids.includes(a));
  }
  const file = join(folder, 'catalog-without.yaml');
  writeFileSync(file, stringify(catalog));
  return file;
}

async function sweep(): Promise<SweepReport> {
  const outcome = await flow(() => sandbox).sweep();
  if (outcome.outcome !== 'success') throw new Error(`the sweep failed: ${outcome.error}`);
  return outcome.result as SweepReport;
}

const oktaIdOf = (email: string) => sandbox.okta.state().users.find((u) => u.login === email)?.id ?? '';
const trailOf = (id: string) => sandbox.store.listAuditEvents(id);

async function granted(person: string, entitlement: string, approver: string, duration: string) {
  const request = await filed(person, entitlement, { duration });
  await note(request, approver, 'approve');
  return inState(request.id, 'GRANTED');
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'loopgate-catalog-change-'));
  withoutThem = catalogWithout(REMOVED);
  sandbox = await Sandbox.start({ log: () => {} });
});

// Every test grants with the shipped catalog, then deploys the smaller one.
afterEach(() => {
  sandbox.redeploy({ LOOPGATE_CATALOG_FILE: CATALOG, LOOPGATE_REVOKE_UNCATALOGED: undefined });
});

afterAll(async () => {
  await sandbox?.stop();
  rmSync(folder, { recursive: true, force: true });
});

describe('a live grant whose entitlement a deploy removed', () => {
  it('is listed by the sweeper, then revoked at its recorded expiry, and the trail says why and what', async () => {
    const request = await granted('chloe', 'okta-prod-readonly', 'priya', '2h');
    expect(await oktaMembers(GROUP)).toContain('chloe.martin@example.com');

    sandbox.redeploy({ LOOPGATE_CATALOG_FILE: withoutThem });
    // Before its expiry the stage's default leaves it: it is listed, not revoked.
    const early = await sweep();
    expect(early.uncataloged).toContain(request.id);
    expect(early.revoked).not.toContain(request.id);
    expect((await sandbox.store.get(request.id))?.state).toBe('GRANTED');

    await passExpiry(request);
    await inState(request.id, 'REVOKED');
    expect(await oktaMembers(GROUP)).not.toContain('chloe.martin@example.com');
    const last = (await trailOf(request.id)).at(-1);
    const principal = oktaIdOf('chloe.martin@example.com');
    expect(last).toMatchObject({
      from: 'GRANTED',
      to: 'REVOKED',
      evidence: {
        revoked: { action: 'okta-group', principal, target: GROUP },
        verifiedGone: true,
        entitlementInCatalog: false,
      },
    });
    expect(last?.reason).toMatch(
      new RegExp(
        `^expired at .+; okta-prod-readonly is no longer in the catalog: revoked okta-group ${GROUP} of ${principal} as recorded when it was granted$`,
      ),
    );
    await until('the revoke note', async () =>
      lastNote(request.incidentId ?? '').includes('okta-prod-readonly is no longer in the catalog')
        ? true
        : undefined,
    );
    expect((await sweep()).uncataloged).not.toContain(request.id);
  });

  it('removes an IAM inline policy it wrote the same way', async () => {
    const request = await granted('tomas', 'aws-logs-read', 'ana', '4h');
    const inline = () =>
      Object.keys(
        (sandbox.iam.principalPolicies('user', 'tomas.silva')?.inline as Record<string, unknown>) ?? {},
      );
    expect(inline()).toContain(`loopgate-${request.id}`);

    sandbox.redeploy({ LOOPGATE_CATALOG_FILE: withoutThem });
    await passExpiry(request);
    await inState(request.id, 'REVOKED');
    expect(inline()).not.toContain(`loopgate-${request.id}`);
    expect((await trailOf(request.id)).at(-1)?.reason).toContain(
      `aws-logs-read is no longer in the catalog: revoked aws-iam-policy loopgate-${request.id} of arn:aws:iam::`,
    );
  });

  it('is revoked by the next sweep when the stage revokes such grants at once', async () => {
    const request = await granted('kenji', 'okta-prod-readonly', 'priya', '4h');

    sandbox.redeploy({ LOOPGATE_CATALOG_FILE: withoutThem, LOOPGATE_REVOKE_UNCATALOGED: 'at-once' });
    const report = await sweep();
    expect(report.uncataloged).toContain(request.id);
    expect(report.revoked).toContain(request.id);

    const revoked = await inState(request.id, 'REVOKED');
    expect(Date.parse(revoked.updatedAt)).toBeLessThan(Date.parse(request.grant?.expiresAt ?? ''));
    expect(await oktaMembers(GROUP)).not.toContain('kenji.watanabe@example.com');
    expect((await trailOf(request.id)).at(-1)?.reason).toMatch(
      /^revoked at once by the sweeper \(LOOPGATE_REVOKE_UNCATALOGED=at-once\); okta-prod-readonly is no longer in the catalog: revoked okta-group /,
    );
  });
});

describe('an approved request whose entitlement a deploy removed before it was granted', () => {
  it('is not granted: it ends FAILED, said on the incident, and the sweeper counts it for the alarm', async () => {
    const request = await filed('omar', 'okta-prod-readonly', { duration: '1h' });
    // Hold the provision queue, so the approval waits there while the deploy happens.
    await sandbox.host.sqs.stopPolling();
    try {
      await note(request, 'priya', 'approve');
      await inState(request.id, 'APPROVED');
      sandbox.redeploy({ LOOPGATE_CATALOG_FILE: withoutThem });
    } finally {
      sandbox.host.sqs.startPolling();
    }

    const failed = await inState(request.id, 'FAILED');
    expect(failed.grant).toBeUndefined();
    expect(await oktaMembers(GROUP)).not.toContain('omar.haddad@example.com');
    expect((await trailOf(request.id)).at(-1)).toMatchObject({
      from: 'APPROVED',
      to: 'FAILED',
      reason:
        'provisioning failed, and no retry can fix it: okta-prod-readonly is no longer in the catalog: nothing is granted for it',
    });
    await until('the incident note', async () =>
      lastNote(failed.incidentId ?? '').startsWith('FAILED: provisioning of okta-prod-readonly')
        ? true
        : undefined,
    );
    expect((await sweep()).failed).toContain(request.id);
  });
});

describe('a grant record that does not say what it granted', () => {
  it('goes FAILED at expiry when its entitlement is gone too, and is revoked once the entitlement is back', async () => {
    const request = await granted('ivan', 'okta-prod-readonly', 'priya', '1h');
    // The record as a writer that kept only the times would have left it.
    const { action: _action, principal: _principal, target: _target, ...times } = request.grant as Grant;
    const stripped = await sandbox.store.transition({
      requestId: request.id,
      from: 'GRANTED',
      to: 'GRANTED',
      expectedVersion: request.version,
      audit: { actor: { kind: 'system', id: 'test' }, reason: 'the grant record loses its access' },
      changes: { grant: times as Grant, dueAt: times.expiresAt },
    });

    sandbox.redeploy({ LOOPGATE_CATALOG_FILE: withoutThem });
    await passExpiry(stripped);
    const failed = await inState(request.id, 'FAILED');
    expect((await trailOf(request.id)).at(-1)).toMatchObject({ from: 'GRANTED', to: 'FAILED' });
    expect((await trailOf(request.id)).at(-1)?.reason).toBe(
      'revocation failed, and no retry can fix it: the grant record does not say what was granted (action, principal and target), and okta-prod-readonly is no longer in the catalog to look it up',
    );
    await until('the incident note', async () =>
      lastNote(failed.incidentId ?? '').endsWith(
        'A person must remove the access by hand, or put okta-prod-readonly back in the catalog and deploy: the sweeper then removes it.',
      )
        ? true
        : undefined,
    );
    // Nothing could say what to remove: the membership is still there, and a person is paged.
    expect(await oktaMembers(GROUP)).toContain('ivan.petrov@example.com');
    const swept = await sweep();
    expect(swept.failed).toContain(request.id);
    expect(swept.revoked).not.toContain(request.id);

    // With the entitlement back, the grant is found through the catalog as it was granted.
    sandbox.redeploy({ LOOPGATE_CATALOG_FILE: CATALOG });
    expect((await sweep()).revoked).toContain(request.id);
    await inState(request.id, 'REVOKED');
    expect(await oktaMembers(GROUP)).not.toContain('ivan.petrov@example.com');
  });
});
