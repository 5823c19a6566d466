// `npm start` runs `loopgate demo`: four tickets through the real handlers in a
// fresh sandbox. These tests run it in-process with a captured, non-terminal
// output and check what really happened to each ticket (read back from the
// store and the stand-ins by the demo), that the output is plain text, and that
// an interrupt stops the sandbox it started.

import { describe, expect, it } from 'vitest';
import { runDemo, type DemoIo } from '../../bin/demo/run';

function capture(interrupted: (out: () => string) => Promise<void> = () => new Promise(() => {})) {
  const chunks: string[] = [];
  const errors: string[] = [];
  const out = () => chunks.join('');
  const io: DemoIo = {
    out: (text) => chunks.push(text),
    err: (text) => errors.push(text),
    interrupted: () => interrupted(out),
  };
  return { io, out, err: () => errors.join('') };
}

/** The closing table's rows: the lines after its rule, up to the first line that is not a ticket. */
function summaryRows(output: string): string[] {
  const lines = output.split('\n');
  const header = lines.findIndex((l) => /^ {2}REQUEST\s+DECISION\s+APPROVERS\s+GRANTED\s+REVOKED/.test(l));
  if (header < 0) return [];
  const rows: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!/^ {2}ACCESS-\d+ /.test(line)) break;
    rows.push(line);
  }
  return rows;
}

describe('loopgate demo', () => {
  it('takes four tickets to their real ends and prints them in plain text, with a summary and an audit trail', async () => {
    const { io, out, err } = capture();

    const result = await runDemo(io, { color: false });

    const output = out();
    expect(result.code, `${err()}\n${output.slice(-4000)}`).toBe(0);
    const [routine, risky, quorum, breakGlass] = result.outcomes;
    expect(result.outcomes).toHaveLength(4);

    // 1: the on-call owner approved; assigned in Identity Center, gone again after expiry.
    expect(routine).toMatchObject({
      entitlement: 'aws-prod-readonly-sso',
      finalState: 'REVOKED',
      decision: 'approved 1 of 1',
      heldAfterGrant: true,
      heldAfterRevoke: false,
    });
    expect(routine?.approvers).toHaveLength(1);
    expect(output).toMatch(
      /Identity Center permission set ProdReadOnly on account 111122223333: sam\.okafor@example\.com IS assigned/,
    );
    expect(output).toContain('a session issued before the revoke keeps working up to 1h after it');

    // 2: the risky one was denied with a reason; nothing was granted.
    expect(risky).toMatchObject({ entitlement: 'aws-logs-read', finalState: 'DENIED', decision: 'denied' });
    expect(risky?.grantedAt).toBeUndefined();
    expect(output).toContain('[high] new-country-sign-in');
    expect(output).toContain('no-mfa: the requester has no active MFA factor');
    expect(output).toMatch(/Denied by Ana Lima <ana\.lima@example\.com>: no MFA/);

    // 3: one approval left it pending; two different people made it APPROVED.
    expect(quorum).toMatchObject({
      entitlement: 'okta-prod-admin',
      finalState: 'REVOKED',
      decision: 'approved 2 of 2',
      heldAfterGrant: true,
      heldAfterRevoke: false,
    });
    expect(new Set(quorum?.approvers).size).toBe(2);
    expect(output).toContain('still PENDING: 1 of 2 approvals recorded');

    // 4: break-glass granted by the rule at once, reviewed after by the security on-call, revoked at expiry.
    expect(breakGlass).toMatchObject({
      entitlement: 'aws-prod-db-connect',
      finalState: 'REVOKED',
      grantFrom: 'filing',
      heldAfterGrant: true,
      heldAfterRevoke: false,
    });
    expect(breakGlass?.decision).toMatch(/break-glass.*review: kept/);
    expect(breakGlass?.review).toMatch(/^kept by \S+@example\.com$/);

    // Each ticket shows its page as PagerDuty holds it, and its Jira thread.
    expect(output.match(/== HOW TO ANSWER \(a note on this incident\) ==/g)).toHaveLength(4);
    expect(output.match(/^ {2}Jira ACCESS-\d+: status /gm)).toHaveLength(4);

    expect(output).not.toContain('\u001b[');
    const rows = summaryRows(output);
    expect(rows).toHaveLength(4);
    expect(rows[1]).toContain('denied');

    expect(result.auditedRequestId).toBe(quorum?.requestId);
    expect(output).toMatch(/The audit trail of ACCESS-\d+ \(okta-prod-admin\): \d+ events/);
    const trail = output.slice(output.indexOf('The audit trail of'));
    for (const step of [
      '∅ → RECEIVED',
      'PENDING → PENDING',
      'PENDING → APPROVED',
      'APPROVED → GRANTED',
      'GRANTED → REVOKED',
    ]) {
      expect(trail).toContain(step);
    }
  }, 180_000);

  it('stops the sandbox it started when interrupted, and says so', async () => {
    // Interrupt once the first page is shown: the sandbox is up and a ticket is in flight.
    const { io, out, err } = capture(
      (output) =>
        new Promise((resolve) => {
          const timer = setInterval(() => {
            if (/^ {2}Paged in /m.test(output())) {
              clearInterval(timer);
              resolve();
            }
          }, 20);
        }),
    );

    const result = await runDemo(io, { color: false });

    expect(result.code).toBe(130);
    expect(err()).toContain('interrupted');
    // The Jira stand-in's address is on the page; after the demo it answers no more.
    const jira = /ticket: (http:\/\/127\.0\.0\.1:\d+)\/browse\//.exec(out())?.[1];
    expect(jira).toBeDefined();
    await expect(fetch(`${jira}/rest/api/3/myself`)).rejects.toThrow();
  }, 120_000);
});
