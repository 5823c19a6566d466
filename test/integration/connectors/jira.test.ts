// JiraTracker against the Jira stand-in over real HTTP, through jira.js: users
// as the user API shows them, comments stored as ADF (and read back over v2 as
// the text loopgate wrote), and how Jira's failures turn into UpstreamErrors.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJiraClient, type JiraClientOptions } from '../../../lambdas/connectors/jira/client';
import { JiraTracker, plainTextDocument } from '../../../lambdas/connectors/jira/tracker';
import { UpstreamError, type UpstreamFailure, ValidationError } from '../../../lambdas/core/errors';
import { SandboxClock } from '../../../sandbox/clock';
import { JiraStandIn } from '../../../sandbox/jira/jira-stand-in';
import { loadScenarioFile } from '../../../sandbox/scenario/load';

const credentials = { email: 'loopgate-bot@example.com', apiToken: 'jira-token-1' };
const clock = new SandboxClock({ start: new Date('2026-11-21T09:00:00Z'), frozen: true });
const scenario = loadScenarioFile('sandbox/scenarios/default.yaml', clock.now());

let jira: JiraStandIn;

beforeAll(async () => {
  jira = new JiraStandIn({ scenario, clock, credentials: [credentials] });
  await jira.start();
});

afterEach(() => jira.faults.clear());

afterAll(() => jira.stop());

function tracker(options: Partial<JiraClientOptions> = {}): JiraTracker {
  return new JiraTracker(createJiraClient({ host: jira.url, ...credentials, timeoutMs: 5_000, ...options }));
}

function accountOf(id: string): string {
  const person = scenario.people.find((p) => p.id === id);
  if (!person) throw new Error(`no person ${id} in the scenario`);
  return person.jira.accountId;
}

async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  const upstream = error as UpstreamError;
  expect(upstream.service).toBe('jira');
  expect(upstream.message).not.toContain(credentials.apiToken);
  expect(upstream.message).not.toContain(
    Buffer.from(`${credentials.email}:`).toString('base64').slice(0, 12),
  );
  return upstream;
}

async function failure(promise: Promise<unknown>): Promise<UpstreamFailure> {
  return (await failureOf(promise)).failure;
}

function storedComments(key: string) {
  // The state renders issues as Jira does (loosely typed) with their stored comments.
  const issue = jira.state().issues.find((i) => (i as { key?: unknown }).key === key);
  return issue?.comments ?? [];
}

describe('getUser', () => {
  it('finds dana with her email, as the user API shows it', async () => {
    expect(await tracker().getUser(accountOf('dana'))).toEqual({
      accountId: accountOf('dana'),
      displayName: 'Dana Reyes',
      email: 'dana.reyes@example.com',
      active: true,
    });
  });

  it('returns undefined for an account Jira does not know', async () => {
    expect(await tracker().getUser('712020:no-such-account')).toBeUndefined();
  });

  it('refuses an empty account id without asking Jira', async () => {
    const calls = jira.calls.length;
    await expect(tracker().getUser(' ')).rejects.toBeInstanceOf(ValidationError);
    expect(jira.calls.length).toBe(calls);
  });
});

describe('comment', () => {
  const text = [
    'loopgate: paged the Identity on-call.',
    '',
    'Recommendation: *approve* _for 4h_ {code}rm -rf{code} [~accountid:712020:x] <b>bold</b> [link|https://evil.example]',
    '{"type":"mention","attrs":{"id":"x"}}',
  ].join('\n');

  it('stores the text as ADF paragraphs of plain text, and v2 reads back the same text', async () => {
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });

    await tracker().comment(key, text);

    const [stored] = storedComments(key);
    expect(stored?.authorId).toBe('712020:loopgate-bot');
    expect(stored?.body).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'loopgate: paged the Identity on-call.' }] },
        { type: 'paragraph', content: [] },
        {
          type: 'paragraph',
          content: [
            {
              type: 'text',
              text: 'Recommendation: *approve* _for 4h_ {code}rm -rf{code} [~accountid:712020:x] <b>bold</b> [link|https://evil.example]',
            },
          ],
        },
        { type: 'paragraph', content: [{ type: 'text', text: '{"type":"mention","attrs":{"id":"x"}}' }] },
      ],
    });

    // Jira's v2 API (which jira.js 6 no longer wraps) gives a comment's body as wiki markup text.
    const response = await fetch(`${jira.url}/rest/api/2/issue/${key}/comment`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64')}`,
      },
    });
    const read = (await response.json()) as { comments: { body?: unknown }[] };
    expect(read.comments.map((c) => c.body)).toEqual([text]);
  });

  it('drops control characters and reads CRLF as line breaks', () => {
    expect(plainTextDocument('a\r\nb\u0000\u001b[31m\tc')).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'a' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'b[31m\tc' }] },
      ],
    });
  });

  it('refuses an empty comment and a malformed issue key without asking Jira', async () => {
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    const calls = jira.calls.length;
    await expect(tracker().comment(key, ' \n ')).rejects.toBeInstanceOf(ValidationError);
    await expect(tracker().comment('../../myself', 'hello')).rejects.toBeInstanceOf(ValidationError);
    await expect(tracker().comment('ACCESS-1/comment/1', 'hello')).rejects.toBeInstanceOf(ValidationError);
    expect(jira.calls.length).toBe(calls);
  });

  it('reports an issue that does not exist as a bad response naming it', async () => {
    const error = await failureOf(tracker().comment('ACCESS-9999', 'hello'));
    expect(error.failure).toBe('bad-response');
    expect(error.message).toContain('ACCESS-9999');
  });
});

describe('failures', () => {
  it('reports a wrong token as unauthorized', async () => {
    const intruder = tracker({ apiToken: 'wrong-token' });
    expect(await failure(intruder.getUser(accountOf('dana')))).toBe('unauthorized');
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    expect(await failure(intruder.comment(key, 'hello'))).toBe('unauthorized');
    expect(storedComments(key)).toEqual([]);
  });

  it('maps 500 to unavailable, 403 to forbidden and 429 to rate-limited', async () => {
    const route = 'GET /rest/api/:version/user';
    jira.faults.set(route, { failNext: 1, status: 500 });
    expect(await failure(tracker().getUser(accountOf('dana')))).toBe('unavailable');
    jira.faults.set(route, { failNext: 1, status: 403 });
    expect(await failure(tracker().getUser(accountOf('dana')))).toBe('forbidden');
    jira.faults.set(route, { failNext: 1, status: 429 });
    expect(await failure(tracker().getUser(accountOf('dana')))).toBe('rate-limited');
  });

  it('reports a slow answer as a timeout', async () => {
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    jira.faults.set('POST /rest/api/:version/issue/:key/comment', { delayMs: 1_000 });
    expect(await failure(tracker({ timeoutMs: 100 }).comment(key, 'hello'))).toBe('timeout');
  });

  it('reports a server that cannot be reached as unavailable', async () => {
    const other = new JiraStandIn({ scenario, clock, credentials: [credentials] });
    const url = await other.start();
    await other.stop();
    expect(await failure(tracker({ host: url }).getUser(accountOf('dana')))).toBe('unavailable');
  });
});

describe('moving a ticket when Jira answers 409', () => {
  const transitionRoute = 'POST /rest/api/:version/issue/:key/transitions';
  const posts = () => jira.calls.filter((c) => c.routeKey === transitionRoute);

  it('tries a conflicting transition again, pausing longer each time, and moves the ticket', async () => {
    // Atlassian's OpenAPI: "409 Returned if the issue could not be updated due to a conflicting update."
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    jira.faults.set(transitionRoute, { failNext: 2, status: 409 });
    const before = posts().length;
    const started = Date.now();
    await expect(
      tracker({ conflictRetries: { attempts: 3, firstDelayMs: 50 } }).moveTo(key, 'Done'),
    ).resolves.toBe('moved');
    expect(posts().length - before).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50 + 100);
    const issue = jira.state().issues.find((i) => (i as { key?: unknown }).key === key) as unknown as {
      fields: { status: { name: string } };
    };
    expect(issue.fields.status.name).toBe('Done');
  });

  it('gives up after the bounded retries with an UpstreamError naming the 409, and never retries other 4xx', async () => {
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    jira.faults.set(transitionRoute, { failNext: 10, status: 409 });
    const before = posts().length;
    const error = await failureOf(
      tracker({ conflictRetries: { attempts: 2, firstDelayMs: 1 } }).moveTo(key, 'Done'),
    );
    expect(error.message).toContain('answered 409');
    expect(posts().length - before).toBe(3);

    jira.faults.set(transitionRoute, { failNext: 1, status: 400 });
    const beforeBad = posts().length;
    await failureOf(tracker({ conflictRetries: { attempts: 2, firstDelayMs: 1 } }).moveTo(key, 'Done'));
    expect(posts().length - beforeBad).toBe(1);
  });

  it('refuses an unbounded retry setting', () => {
    expect(() => tracker({ conflictRetries: { attempts: 100, firstDelayMs: 1 } })).toThrow(
      'Jira conflict retries must be 0 to 10 attempts',
    );
  });
});

describe('own account', () => {
  it('is the API token’s account, asked once', async () => {
    const t = tracker();
    const before = jira.calls.filter((c) => c.routeKey === 'GET /rest/api/:version/myself').length;
    const first = await t.ownAccountId();
    expect(await t.ownAccountId()).toBe(first);
    expect(first).toBe('712020:loopgate-bot');
    expect(jira.calls.filter((c) => c.routeKey === 'GET /rest/api/:version/myself').length - before).toBe(1);
  });
});
