import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors';
import { parseTicketEvent, requestParts, type Ticket } from '../../../lambdas/core/intake/ticket';
import { rejectionComment, validateRequest } from '../../../lambdas/core/intake/validate';
import { loadCatalogFile } from '../../../lambdas/platform/catalog-file';

const catalog = loadCatalogFile('config/catalog.yaml');

const issue = (fields: Record<string, unknown> = {}) => ({
  id: '10001',
  key: 'ACCESS-7',
  fields: {
    summary: 'Access to prod-readonly',
    description: 'Entitlement: okta-prod-readonly\nDuration: 4h\nReason: INC-4411 checkout latency',
    reporter: { accountId: '712020:dana', displayName: 'Dana Reyes' },
    project: { key: 'ACCESS' },
    issuetype: { name: 'Access Request' },
    ...fields,
  },
});

const ticketOf = (payload: unknown): Ticket => {
  const event = parseTicketEvent(payload);
  if (event.kind !== 'issue-created') throw new Error(`not an issue: ${event.kind}`);
  return event.ticket;
};

describe('the three delivery formats', () => {
  it.each([
    ['an admin webhook', { webhookEvent: 'jira:issue_created', timestamp: 1, issue: issue() }],
    ['Automation, Jira format', { issue: issue() }],
    ['Automation, Automation format', { ...issue(), id: 10001 }],
  ])('reads %s', (_, payload) => {
    expect(ticketOf(payload)).toMatchObject({
      id: '10001',
      key: 'ACCESS-7',
      projectKey: 'ACCESS',
      issueType: 'Access Request',
      reporter: { accountId: '712020:dana', displayName: 'Dana Reyes' },
    });
  });

  it('tells other events apart', () => {
    expect(parseTicketEvent({ webhookEvent: 'jira:issue_deleted', issue: issue() })).toEqual({
      kind: 'other',
      name: 'jira:issue_deleted',
    });
    expect(parseTicketEvent({ hello: 'world' })).toEqual({ kind: 'other', name: 'unrecognised payload' });
  });

  it('reads a comment on a ticket, ADF or wiki text, and names the path of a malformed one', () => {
    const adf = {
      type: 'doc',
      version: 1,
      content: [{ type: 'paragraph', content: [{ type: 'text', text: 'revoke done with it' }] }],
    };
    const event = (body: unknown) => ({
      webhookEvent: 'comment_created',
      issue: { id: '10001', key: 'ACCESS-7' },
      comment: { id: 10400, author: { accountId: '712020:dana' }, body },
    });
    for (const body of [adf, 'revoke done with it']) {
      expect(parseTicketEvent(event(body))).toEqual({
        kind: 'comment-created',
        comment: {
          issueKey: 'ACCESS-7',
          id: '10400',
          authorAccountId: '712020:dana',
          text: 'revoke done with it',
        },
      });
    }
    expect(() =>
      parseTicketEvent({ webhookEvent: 'comment_created', issue: { key: 'ACCESS-7' }, comment: {} }),
    ).toThrow(/malformed comment event at comment\.id/);
  });

  it('names the path of a malformed issue', () => {
    const payload = { webhookEvent: 'jira:issue_created', issue: { ...issue(), key: 'not a key' } };
    expect(() => parseTicketEvent(payload)).toThrow(ValidationError);
    expect(() => parseTicketEvent(payload)).toThrow('malformed issue at issue.key: not a Jira issue key');
    expect(() => parseTicketEvent([1, 2])).toThrow('the payload is not a JSON object');
  });
});

describe('request parts', () => {
  it('reads the description lines, from wiki text with bold labels', () => {
    const ticket = ticketOf({
      issue: issue({
        description: '*Entitlement:* aws-logs-read\n*Duration:* 2h\n*Reason:* DATA-812 ingestion bug',
      }),
    });
    expect(requestParts(ticket)).toEqual({
      entitlementId: 'aws-logs-read',
      duration: '2h',
      justification: 'DATA-812 ingestion bug',
    });
  });

  it('reads a line padded with 100,000 spaces at once (no backtracking blow-up) and ignores what is past 2,000 characters', () => {
    const padded = ticketOf({
      issue: issue({ description: `Reason${' '.repeat(100_000)}!\nEntitlement: aws-logs-read` }),
    });
    expect(requestParts(padded)).toEqual({ entitlementId: 'aws-logs-read' });
  });

  it('reads an ADF description', () => {
    const adf = {
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'Entitlement: okta-prod-admin' }] },
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'Reason: ' },
            { type: 'text', text: 'INC-9 rollout' },
          ],
        },
      ],
    };
    expect(requestParts(ticketOf({ issue: issue({ description: adf }) }))).toEqual({
      entitlementId: 'okta-prod-admin',
      justification: 'INC-9 rollout',
    });
  });

  it('prefers configured custom fields (text, select option or ADF) over the description', () => {
    const ticket = ticketOf({
      issue: issue({
        customfield_1: { value: 'aws-billing-read' },
        customfield_2: '1d',
        customfield_3: {
          type: 'doc',
          version: 1,
          content: [{ type: 'paragraph', content: [{ type: 'text', text: 'FIN-2 audit' }] }],
        },
      }),
    });
    expect(
      requestParts(ticket, {
        entitlement: 'customfield_1',
        duration: 'customfield_2',
        justification: 'customfield_3',
      }),
    ).toEqual({ entitlementId: 'aws-billing-read', duration: '1d', justification: 'FIN-2 audit' });
  });
});

describe('validation against the catalog', () => {
  it('accepts a valid request, defaulting the duration', () => {
    const result = validateRequest({ entitlementId: 'okta-prod-readonly', justification: 'INC-1' }, catalog);
    expect(result).toMatchObject({ ok: true, value: { durationSeconds: 8 * 3600, justification: 'INC-1' } });
  });

  it('lists the valid ids for an unknown entitlement', () => {
    const result = validateRequest({ entitlementId: 'prod-god-mode', justification: 'x' }, catalog);
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : (result.problems[0]?.message ?? '');
    expect(message).toContain('"prod-god-mode" is not an entitlement loopgate knows');
    for (const e of catalog.entitlements) expect(message).toContain(e.id);
  });

  it('quotes the requester’s text back on one short line', () => {
    const result = validateRequest(
      { entitlementId: `access granted\n${'x'.repeat(500)}`, justification: 'y' },
      catalog,
    );
    const message = result.ok ? '' : (result.problems[0]?.message ?? '');
    expect(message).toMatch(/^"access granted x+…" is not an entitlement/);
    expect(message.indexOf(' is not')).toBeLessThanOrEqual(82);
    expect(message).not.toContain('\n');
  });

  it('explains a duration over the maximum and a bad duration', () => {
    const over = validateRequest(
      { entitlementId: 'okta-prod-admin', duration: '8h', justification: 'x' },
      catalog,
    );
    const bad = validateRequest(
      { entitlementId: 'okta-prod-admin', duration: 'a week', justification: 'x' },
      catalog,
    );
    expect(over.ok ? [] : over.problems).toEqual([
      {
        field: 'duration',
        message: '8h is longer than the 4h maximum for okta-prod-admin; ask for 4h or less.',
      },
    ]);
    expect(bad.ok ? [] : bad.problems.map((p) => p.field)).toEqual(['duration']);
  });

  it('asks for a justification', () => {
    const result = validateRequest({ entitlementId: 'okta-prod-readonly', justification: '  ' }, catalog);
    expect(result.ok ? [] : result.problems.map((p) => p.field)).toEqual(['justification']);
  });

  it('writes a comment that lists every problem', () => {
    const result = validateRequest({ duration: 'a week' }, catalog);
    const comment = rejectionComment(result.ok ? [] : result.problems);
    expect(comment.split('\n')).toHaveLength(5);
    expect(comment).toMatch(/^loopgate could not accept this access request:\n- Name the access/);
  });
});

describe('status changes (jira:issue_updated)', () => {
  const update = (statusNow: { id: string; key: string }, items: unknown[]) => ({
    webhookEvent: 'jira:issue_updated',
    user: { accountId: 'acc-1' },
    issue: {
      id: '10001',
      key: 'ACCESS-7',
      fields: {
        project: { key: 'ACCESS' },
        issuetype: { name: 'Access Request' },
        status: { id: statusNow.id, name: 'x', statusCategory: { key: statusNow.key } },
        description: 'Entitlement: okta-prod-admin',
      },
    },
    changelog: { id: '30001', items },
  });
  const status = {
    field: 'status',
    fieldtype: 'jira',
    fieldId: 'status',
    from: '10000',
    fromString: 'Open',
    to: '10005',
    toString: 'Cancelled',
  };

  it('reads the change from the changelog, and the category from the issue while it still stands there', () => {
    expect(parseTicketEvent(update({ id: '10005', key: 'done' }, [status]))).toEqual({
      kind: 'status-changed',
      change: {
        issueKey: 'ACCESS-7',
        projectKey: 'ACCESS',
        issueType: 'Access Request',
        changelogId: '30001',
        actorAccountId: 'acc-1',
        from: { id: '10000', name: 'Open' },
        to: { id: '10005', name: 'Cancelled', categoryKey: 'done' },
      },
    });
    // The issue moved on since (a later change): this payload does not say the category of "Cancelled".
    const moved = parseTicketEvent(update({ id: '10000', key: 'new' }, [status]));
    expect(moved.kind === 'status-changed' && moved.change.to.categoryKey).toBeUndefined();
  });

  it('ignores updates that change other fields: an edit never changes what was asked', () => {
    expect(
      parseTicketEvent(
        update({ id: '10000', key: 'new' }, [{ field: 'description', fieldId: 'description' }]),
      ),
    ).toEqual({ kind: 'other', name: 'jira:issue_updated without a status change' });
  });

  it('refuses a status change it cannot read, naming where', () => {
    const noId = { ...update({ id: '10005', key: 'done' }, [status]), changelog: { items: [status] } };
    expect(() => parseTicketEvent(noId)).toThrow(/changelog\.id/);
    expect(() => parseTicketEvent(update({ id: '10005', key: 'done' }, [{ ...status, to: null }]))).toThrow(
      'names no status',
    );
  });
});
