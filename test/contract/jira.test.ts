import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCloudClient } from 'jira.js';
import type { CloudClient } from 'jira.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { JiraStandIn } from '../../sandbox/jira/jira-stand-in';
import { loadScenarioFile, type Scenario } from '../../sandbox/scenario/load';

const credentials = { email: 'loopgate-bot@example.com', apiToken: 'jira-token-1' };
const secret = 'jira-webhook-secret';
const clock = new SandboxClock({ start: new Date('2026-11-21T09:00:00Z'), frozen: true });
const scenario = loadScenarioFile('sandbox/scenarios/default.yaml', clock.now());
const dana = scenario.people.find((p) => p.id === 'dana');

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

/** A webhook receiver answering each delivery with the next status of `statuses` (then 200). */
class Receiver {
  readonly received: Received[] = [];
  statuses: number[] = [];
  private server: Server | undefined;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(this.statuses.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/jira`;
  }

  stop() {
    return new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

let jira: JiraStandIn;
let receiver: Receiver;
let v3: CloudClient;

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  jira = new JiraStandIn({
    scenario,
    clock,
    credentials: [credentials],
    webhook: { url: receiver.url, secret },
  });
  const host = await jira.start();
  v3 = cloudClient(host);
});

afterAll(async () => {
  await jira.stop();
  await receiver.stop();
});

afterEach(() => {
  receiver.received.length = 0;
  receiver.statuses = [];
  jira.faults.clear();
});

/**
 * jira.js 6's cloud client, generated from Jira's v3 OpenAPI. `throw` makes it check every answer
 * against that schema, so a stand-in that drifts from Jira's published shapes fails here.
 */
function cloudClient(host: string, apiToken = credentials.apiToken): CloudClient {
  return createCloudClient({
    host,
    auth: { type: 'basic', email: credentials.email, apiToken },
    onSchemaMismatch: 'throw',
  });
}

/** The status and body of a failed jira.js call (its ApiError keeps Jira's parsed body in `body`). */
async function rejection(promise: Promise<unknown>): Promise<{ status?: number; body?: unknown }> {
  try {
    await promise;
  } catch (error) {
    const { status, body } = error as { status?: number; body?: unknown };
    return { status, body };
  }
  throw new Error('expected the call to fail');
}

const basicAuth = () =>
  `Basic ${Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64')}`;

/** A call to Jira's v2 platform API, which jira.js 6 no longer wraps (v2 carries rich text as wiki markup). */
async function v2(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${jira.url}/rest/api/2${path}`, {
    method,
    headers: {
      authorization: basicAuth(),
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('issues through jira.js', () => {
  it('creates an issue over v3 with ADF and reads it back over v3 and v2', async () => {
    const created = await v3.issues.createIssue({
      fields: {
        project: { key: 'ACCESS' },
        issuetype: { name: 'Access Request' },
        summary: 'Access to prod-readonly',
        description: {
          type: 'doc',
          version: 1,
          content: [
            { type: 'paragraph', content: [{ type: 'text', text: 'Entitlement: okta-prod-readonly' }] },
          ],
        },
        reporter: { accountId: dana?.jira.accountId ?? '' },
        customfield_10051: '4h',
      },
    });
    expect(created.key).toMatch(/^ACCESS-\d+$/);

    const issue = await v3.issues.getIssue({ issueIdOrKey: created.key });
    expect(issue.fields?.summary).toBe('Access to prod-readonly');
    expect(issue.fields?.reporter?.accountId).toBe(dana?.jira.accountId);
    expect(issue.fields?.status?.name).toBe('Open');
    expect(issue.fields?.description).toMatchObject({ type: 'doc', version: 1 });
    expect((issue.fields as Record<string, unknown>).customfield_10051).toBe('4h');

    const asV2 = await v2('GET', `/issue/${created.key}`);
    expect((asV2.body as { fields: { description: unknown } }).fields.description).toBe(
      'Entitlement: okta-prod-readonly',
    );
  });

  it('refuses a v3 create with a string description, naming the field, as Jira does', async () => {
    // jira.js wraps strings in ADF itself, so this is what a hand-written client would send.
    const response = await fetch(`${jira.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: basicAuth(), 'content-type': 'application/json' },
      body: JSON.stringify({
        fields: {
          project: { key: 'ACCESS' },
          issuetype: { name: 'Access Request' },
          summary: 'x',
          description: 'text',
        },
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      errors: { description: expect.stringContaining('Atlassian Document') },
    });
  });

  it('answers malformed JSON with a 400', async () => {
    const response = await fetch(`${jira.url}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: basicAuth(), 'content-type': 'application/json' },
      body: '{"fields": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errorMessages: [expect.any(String)] });
  });

  it('reports every invalid field of a create at once', async () => {
    const error = await v2('POST', '/issue', {
      fields: {
        project: { key: 'NOPE' },
        issuetype: { name: 'Task' },
        summary: '',
        customfield_99999: 'x',
      },
    });
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({
      errorMessages: [],
      errors: {
        project: 'Specify a valid project ID or key',
        summary: 'You must specify a summary of the issue.',
        customfield_99999: expect.stringContaining("Field 'customfield_99999' cannot be set"),
      },
    });
  });

  it('answers 404 with Jira’s error collection for an unknown issue', async () => {
    const error = await rejection(v3.issues.getIssue({ issueIdOrKey: 'ACCESS-9999' }));
    expect(error.status).toBe(404);
    expect(error.body).toEqual({
      errorMessages: ['Issue does not exist or you do not have permission to see it.'],
      errors: {},
    });
  });

  it('comments (a string becomes ADF) and lists comments with startAt/maxResults paging', async () => {
    const { key } = jira.fileTicket({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      duration: '4h',
      justification: 'INC-4411',
    });
    const comment = await v3.issueComments.addComment({
      issueIdOrKey: key,
      body: 'loopgate received this request',
    });
    await v3.issueComments.addComment({ issueIdOrKey: key, body: 'second' });
    await v3.issueComments.addComment({ issueIdOrKey: key, body: 'third' });
    expect(comment.author?.displayName).toBe('loopgate');
    expect(comment.body).toMatchObject({ type: 'doc' });

    const first = await v3.issueComments.getComments({ issueIdOrKey: key, startAt: 0, maxResults: 2 });
    const second = await v3.issueComments.getComments({ issueIdOrKey: key, startAt: 2, maxResults: 2 });
    expect(first.total).toBe(3);
    expect(first.comments).toHaveLength(2);
    expect(second.comments).toHaveLength(1);
    const asText = await v2('GET', `/issue/${key}/comment`);
    expect((asText.body as { comments: { body?: unknown }[] }).comments.map((c) => c.body)).toEqual([
      'loopgate received this request',
      'second',
      'third',
    ]);
  });

  // Jira Cloud platform REST OpenAPI (swagger-v3), getComment: GET /rest/api/{2,3}/issue/{issueIdOrKey}/comment/{id}
  // answers the one comment, rich text as ADF on v3 and wiki text on v2; 404 "if the issue or comment is
  // not found". jira.js 6 reads back every comment it writes as a string this way.
  it('returns one comment by id (ADF on v3, text on v2), and 404 for an unknown comment or issue', async () => {
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    const written = await v3.issueComments.addComment({ issueIdOrKey: key, body: 'one comment' });
    const read = await v3.issueComments.getComment({ issueIdOrKey: key, id: written.id ?? '' });
    expect(read.id).toBe(written.id);
    expect(read.body).toMatchObject({ type: 'doc', version: 1 });
    const asText = await v2('GET', `/issue/${key}/comment/${written.id}`);
    expect((asText.body as { body?: unknown }).body).toBe('one comment');
    expect((await rejection(v3.issueComments.getComment({ issueIdOrKey: key, id: '999999' }))).status).toBe(
      404,
    );
    expect(
      (await rejection(v3.issueComments.getComment({ issueIdOrKey: 'ACCESS-9999', id: written.id ?? '' })))
        .status,
    ).toBe(404);
  });

  it('lists transitions and moves the issue; an invalid transition id is a 400', async () => {
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    const { transitions = [] } = await v3.issues.getTransitions({ issueIdOrKey: key });
    const granted = transitions.find((t) => t.name === 'Granted');
    expect(granted?.id).toBeDefined();
    expect(transitions.some((t) => t.name === 'Open')).toBe(false);

    await v3.issues.doTransition({ issueIdOrKey: key, transition: { id: granted?.id } });
    expect((await v3.issues.getIssue({ issueIdOrKey: key })).fields?.status?.name).toBe('Granted');

    const error = await rejection(v3.issues.doTransition({ issueIdOrKey: key, transition: { id: '999' } }));
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({
      errorMessages: ["Transition id '999' is not valid for this issue."],
    });
  });

  it('looks up a user with their email; unknown accounts are 404', async () => {
    const user = await v3.users.getUser({ accountId: dana?.jira.accountId ?? '' });
    expect(user).toMatchObject({
      displayName: 'Dana Reyes',
      emailAddress: 'dana.reyes@example.com',
      active: true,
    });
    const error = await rejection(v3.users.getUser({ accountId: 'nobody' }));
    expect(error.status).toBe(404);
  });

  it('refuses wrong credentials with a 401', async () => {
    const intruder = cloudClient(jira.url, 'wrong');
    const error = await rejection(intruder.myself.getCurrentUser());
    expect(error.status).toBe(401);
  });

  it('answers an injected rate limit with Jira’s 429 and Retry-After', async () => {
    jira.faults.set('GET /rest/api/:version/myself', { failNext: 1, status: 429 });
    const response = await fetch(`${jira.url}/rest/api/3/myself`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64')}`,
      },
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await v3.myself.getCurrentUser()).emailAddress).toBe(credentials.email);
  });
});

describe('webhooks', () => {
  it('delivers jira:issue_created signed over the raw body, without the reporter’s email', async () => {
    const { key } = jira.fileTicket({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      duration: '4h',
      justification: 'INC-4411 checkout latency',
      format: 'wiki',
    });
    await jira.settled();

    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    const expected = createHmac('sha256', secret)
      .update(delivery?.raw ?? '')
      .digest('hex');
    expect(delivery?.headers['x-hub-signature']).toBe(`sha256=${expected}`);
    expect(delivery?.headers['x-atlassian-webhook-identifier']).toMatch(/^[0-9a-f-]{36}$/);
    expect(delivery?.headers['x-atlassian-webhook-retry']).toBeUndefined();
    const payload = JSON.parse(delivery?.raw ?? '{}');
    expect(payload).toMatchObject({
      webhookEvent: 'jira:issue_created',
      issue: {
        key,
        fields: {
          description: 'Entitlement: okta-prod-readonly\nDuration: 4h\nReason: INC-4411 checkout latency',
          reporter: { accountId: dana?.jira.accountId, displayName: 'Dana Reyes' },
        },
      },
    });
    expect(payload.issue.fields.reporter).not.toHaveProperty('emailAddress');
  });

  it('carries the issue in the REST v2 shape: a ticket written in ADF arrives as wiki text, fields as fields', async () => {
    // REFERENCE.md, Jira Cloud: "admin webhooks carry the issue in the v2 shape, with wiki text". The
    // OpenAPI's v2 IssueBean renders `description` as a string (wiki markup); v3 renders ADF.
    jira.fileTicket({
      reporter: 'ivan',
      entitlement: 'aws-logs-read',
      justification: 'DATA-812',
      format: 'adf',
    });
    jira.fileTicket({
      reporter: 'ivan',
      entitlement: 'aws-logs-read',
      justification: 'DATA-812',
      format: 'fields',
    });
    await jira.settled();

    const [adf, fields] = receiver.received.map((r) => JSON.parse(r.raw).issue.fields);
    expect(adf.description).toBe('Entitlement: aws-logs-read\nReason: DATA-812');
    expect(fields).toMatchObject({ customfield_10050: 'aws-logs-read', customfield_10052: 'DATA-812' });
  });

  it('retries a 5xx with the same identifier and a retry count once the retry falls due', async () => {
    receiver.statuses = [503];
    jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    await jira.settled();
    expect(receiver.received).toHaveLength(1);

    clock.advance(30_000);
    await jira.settled();
    expect(receiver.received).toHaveLength(1);

    clock.advance(31_000);
    await jira.settled();
    expect(receiver.received).toHaveLength(2);
    const [first, retry] = receiver.received;
    expect(retry?.headers['x-atlassian-webhook-identifier']).toBe(
      first?.headers['x-atlassian-webhook-identifier'],
    );
    expect(retry?.headers['x-atlassian-webhook-retry']).toBe('1');
    expect(retry?.raw).toBe(first?.raw);
  });

  it('does not retry a delivery the receiver refused with 401', async () => {
    receiver.statuses = [401];
    jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    await jira.settled();
    clock.advance(60 * 60_000);
    await jira.settled();
    expect(receiver.received).toHaveLength(1);
  });

  it('renders ADF marks, headings and lists as wiki markup in the webhook', async () => {
    await v3.issues.createIssue({
      fields: {
        project: { key: 'ACCESS' },
        issuetype: { name: 'Access Request' },
        summary: 'marks',
        description: {
          type: 'doc',
          version: 1,
          content: [
            { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Request' }] },
            {
              type: 'paragraph',
              content: [
                { type: 'text', text: 'Reason:', marks: [{ type: 'strong' }] },
                { type: 'text', text: ' INC-1' },
              ],
            },
            {
              type: 'bulletList',
              content: [
                {
                  type: 'listItem',
                  content: [{ type: 'paragraph', content: [{ type: 'text', text: 'one' }] }],
                },
              ],
            },
          ],
        },
      },
    });
    await jira.settled();
    const payload = JSON.parse(receiver.received.at(-1)?.raw ?? '{}');
    expect(payload.issue.fields.description).toBe('h2. Request\n*Reason:* INC-1\n* one');
  });

  it('sends jira:issue_updated with the status change when an issue is transitioned', async () => {
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    jira.transitionIssue(key, 'Cancelled', 'dana');
    await jira.settled();
    const updated = receiver.received
      .map((r) => JSON.parse(r.raw))
      .find((p) => p.webhookEvent === 'jira:issue_updated');
    expect(updated?.changelog.items).toEqual([
      expect.objectContaining({ field: 'status', fromString: 'Open', toString: 'Cancelled' }),
    ]);
  });

  it('names the mover, gives each change its own changelog id, and carries the new status with its category', async () => {
    // OpenAPI, schema Changelog: "id: The ID of the changelog." ChangeDetails: field, fieldId, fieldtype,
    // from ("The details of the original value."), fromString, to, toString. A changelog item names status
    // ids and names only; StatusDetails.statusCategory ("The category assigned to the status.") comes with
    // the issue's `status` field. Jira's category keys are new, indeterminate and done (GET /statuscategory).
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    jira.transitionIssue(key, 'In Review', 'dana');
    jira.transitionIssue(key, 'Done', 'ivan');
    await jira.settled();
    const updates = receiver.received
      .map((r) => JSON.parse(r.raw))
      .filter((p) => p.webhookEvent === 'jira:issue_updated');
    expect(updates).toHaveLength(2);
    const [review, done] = updates;
    expect(review.changelog.id).not.toBe(done.changelog.id);
    expect(review.user.accountId).toBe(dana?.jira.accountId);
    expect(done.user.accountId).toBe(scenario.people.find((p) => p.id === 'ivan')?.jira.accountId);
    expect(done.changelog.items[0]).toEqual({
      field: 'status',
      fieldtype: 'jira',
      fieldId: 'status',
      from: '10001',
      fromString: 'In Review',
      to: '10006',
      toString: 'Done',
    });
    expect(done.issue.fields.status).toMatchObject({
      id: '10006',
      name: 'Done',
      statusCategory: { key: 'done' },
    });
    expect(review.issue.fields.status.statusCategory.key).toBe('indeterminate');
  });
});

describe('transition conflicts', () => {
  it('answers an injected 409 on POST /transitions with Jira’s error collection; the next call goes through', async () => {
    // OpenAPI, POST /rest/api/3/issue/{issueIdOrKey}/transitions: "409: Returned if the issue could not be
    // updated due to a conflicting update." The body is not documented: Jira's error collection carries it.
    const { key } = jira.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    const { transitions = [] } = await v3.issues.getTransitions({ issueIdOrKey: key });
    const done = transitions.find((t) => t.name === 'Done');
    jira.faults.set('POST /rest/api/:version/issue/:key/transitions', { failNext: 1, status: 409 });
    const error = await rejection(
      v3.issues.doTransition({ issueIdOrKey: key, transition: { id: done?.id } }),
    );
    expect(error).toEqual({
      status: 409,
      body: { errorMessages: ['The issue could not be updated due to a conflicting update.'], errors: {} },
    });
    await v3.issues.doTransition({ issueIdOrKey: key, transition: { id: done?.id } });
    expect((await v3.issues.getIssue({ issueIdOrKey: key })).fields?.status?.name).toBe('Done');
  });
});

/*
 * Hidden email addresses. Sources (Atlassian's own words, quoted in each test):
 * - Jira Cloud platform REST API OpenAPI, swagger-v3.v3.json (as mirrored in github.com/cfdude/mcp-jira
 *   @8bc7903, info.version 1001.0.0-SNAPSHOT-5330f7d9…; same wording in github.com/salto-io/jira-swaggers
 *   platform-swagger.v3.json, 2022): schemas User / UserDetails, GET /rest/api/3/user, GET /rest/api/3/user/email.
 * - "Profile visibility" guide, developer.atlassian.com/cloud/jira/platform/profile-visibility/.
 * - "Deprecation notice and migration guide for major changes to Jira Cloud REST APIs to improve user privacy",
 *   developer.atlassian.com/cloud/jira/platform/api-changes-for-user-privacy-announcement/.
 */
describe('hidden email addresses', () => {
  const danaId = dana?.jira.accountId ?? '';
  const ivanId = scenario.people.find((p) => p.id === 'ivan')?.jira.accountId ?? '';
  const started: JiraStandIn[] = [];
  const hiddenReceiver = new Receiver();

  /** The default company with `jira.hideEmail: true` on the named people and/or `jira.hideEmails` on the site. */
  function scenarioWith(options: { hidden?: string[]; site?: boolean }): Scenario {
    return {
      ...scenario,
      jira: { ...scenario.jira, hideEmails: options.site ?? false },
      people: scenario.people.map((person) => {
        if (!options.hidden?.includes(person.id)) return person;
        const jira = { ...person.jira, hideEmail: true };
        return { ...person, jira };
      }),
    };
  }

  async function standIn(
    options: { hidden?: string[]; site?: boolean; hiddenEmail?: 'null' | 'omit' },
    webhook = false,
  ) {
    const stand = new JiraStandIn({
      scenario: scenarioWith(options),
      clock,
      credentials: [credentials],
      hiddenEmail: options.hiddenEmail,
      ...(webhook
        ? {
            webhook: {
              url: hiddenReceiver.url,
              secret,
              events: ['jira:issue_created', 'comment_created'] as const,
            },
          }
        : {}),
    });
    const host = await stand.start();
    started.push(stand);
    return { stand, host, get: (path: string) => getJson(host, path) };
  }

  async function getJson(host: string, path: string) {
    const response = await fetch(`${host}${path}`, { headers: { authorization: basicAuth() } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(() => hiddenReceiver.start());
  afterEach(() => {
    hiddenReceiver.received.length = 0;
  });
  afterAll(async () => {
    for (const stand of started) await stand.stop();
    await hiddenReceiver.stop();
  });

  it('per-user: a person who hides their email gets `emailAddress: null` on REST v2 and v3, others keep theirs', async () => {
    // OpenAPI, schema User.emailAddress: "The email address of the user. Depending on the user’s privacy
    // setting, this may be returned as null." GET /rest/api/3/user: "Privacy controls are applied to the
    // response based on the user's preferences. This could mean, for example, that the user's email address
    // is hidden."
    const { stand, get } = await standIn({ hidden: ['dana'] });
    for (const version of [2, 3]) {
      const hidden = await get(`/rest/api/${version}/user?accountId=${encodeURIComponent(danaId)}`);
      expect(hidden.status).toBe(200);
      expect(hidden.body).toHaveProperty('emailAddress', null);
      expect(hidden.body).toMatchObject({ accountId: danaId, displayName: 'Dana Reyes' });
      const visible = await get(`/rest/api/${version}/user?accountId=${encodeURIComponent(ivanId)}`);
      expect(visible.body.emailAddress).toBe('ivan.petrov@example.com');
    }

    // The same user bean sits in the issue's reporter and creator and in each comment's author.
    const { key } = stand.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    stand.commentAs(key, 'dana', 'please');
    stand.commentAs(key, 'ivan', 'seconded');
    for (const version of [2, 3]) {
      const issue = await get(`/rest/api/${version}/issue/${key}`);
      const fields = issue.body.fields as Record<string, Record<string, unknown>>;
      expect(fields.reporter).toMatchObject({ accountId: danaId, emailAddress: null });
      expect(fields.creator).toMatchObject({ accountId: danaId, emailAddress: null });
      const comments = (await get(`/rest/api/${version}/issue/${key}/comment`)).body.comments as {
        author: Record<string, unknown>;
      }[];
      expect(comments.map((c) => c.author.emailAddress)).toEqual([null, 'ivan.petrov@example.com']);
    }

    // Jira's OpenAPI types `emailAddress` as a string, so jira.js's schema check refuses the null the
    // profile-visibility guide documents; with the check off (as loopgate runs it) the null comes through.
    await expect(cloudClient(stand.url).users.getUser({ accountId: danaId })).rejects.toThrow(
      /did not match the schema/,
    );
    const client = createCloudClient({
      host: stand.url,
      auth: { type: 'basic', ...credentials },
      onSchemaMismatch: 'silent',
    });
    expect((await client.users.getUser({ accountId: danaId })).emailAddress).toBeNull();
  });

  it('per-user, `hiddenEmail: omit`: the key is left out instead, as clients report seeing from Jira Cloud', async () => {
    // Profile visibility guide: "if the user has chosen to hide fields in their profile, your apps will not
    // be able to retrieve those fields via the API." (The documented shape is `null`, the default above.)
    const { stand, get } = await standIn({ hidden: ['dana'], hiddenEmail: 'omit' });
    const hidden = await get(`/rest/api/3/user?accountId=${encodeURIComponent(danaId)}`);
    expect(hidden.body).not.toHaveProperty('emailAddress');
    const { key } = stand.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    const issue = await get(`/rest/api/2/issue/${key}`);
    expect((issue.body.fields as Record<string, object>).reporter).not.toHaveProperty('emailAddress');
  });

  it('site-wide: with `hideEmails` every user’s email is null to other callers, but a user still sees their own', async () => {
    // Migration guide: "Users will be able to restrict the visibility of their personal data through their
    // user profile privacy settings, or in the case of a managed account, the visibility settings that are
    // decided by the site administrator. This means that fields such as email will only be returned by the
    // API if the user has permitted that data to be visible. Note that this means that some fields can be null."
    // Profile visibility guide: the "Only you" column shows every field to the user themselves.
    const { stand, get } = await standIn({ site: true });
    for (const accountId of [danaId, ivanId]) {
      const user = await get(`/rest/api/3/user?accountId=${encodeURIComponent(accountId)}`);
      expect(user.body).toHaveProperty('emailAddress', null);
    }
    const { key } = stand.fileTicket({ reporter: 'ivan', entitlement: 'aws-logs-read' });
    const issue = await get(`/rest/api/3/issue/${key}`);
    expect((issue.body.fields as Record<string, object>).reporter).toHaveProperty('emailAddress', null);

    const myself = await get('/rest/api/3/myself');
    expect(myself.body.emailAddress).toBe(credentials.email);
  });

  it('visible: with nothing hidden REST returns every email as before', async () => {
    // OpenAPI, GET /rest/api/3/user, 200 example: {"accountId":"5b10a2844c20165700ede21g", …,
    // "emailAddress":"mia@example.com", "displayName":"Mia Krystof", …}
    const { stand, get } = await standIn({});
    const user = await get(`/rest/api/3/user?accountId=${encodeURIComponent(danaId)}`);
    expect(user.body.emailAddress).toBe('dana.reyes@example.com');
    const { key } = stand.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    stand.commentAs(key, 'dana', 'please');
    const fields = (await get(`/rest/api/2/issue/${key}`)).body.fields as Record<
      string,
      Record<string, unknown>
    >;
    expect(fields.reporter?.emailAddress).toBe('dana.reyes@example.com');
    expect(fields.creator?.emailAddress).toBe('dana.reyes@example.com');
    const comments = (await get(`/rest/api/3/issue/${key}/comment`)).body.comments as {
      author: Record<string, unknown>;
    }[];
    expect(comments[0]?.author.emailAddress).toBe('dana.reyes@example.com');
  });

  it('webhooks: user objects of a person who hides their email never carry it', async () => {
    // Profile visibility guide: "if the user has chosen to hide fields in their profile, your apps will not be
    // able to retrieve those fields via the API." The webhook's `user` and issue users carry no email at all
    // (as before); the `comment` is the REST v2 comment bean, so a hidden author's email is null there.
    const { stand } = await standIn({ hidden: ['dana'] }, true);
    const { key } = stand.fileTicket({ reporter: 'dana', entitlement: 'okta-prod-readonly' });
    stand.commentAs(key, 'dana', 'please');
    stand.commentAs(key, 'ivan', 'seconded');
    await stand.settled();

    const payloads = hiddenReceiver.received.map((r) => JSON.parse(r.raw));
    const created = payloads.find((p) => p.webhookEvent === 'jira:issue_created');
    expect(created.user).toMatchObject({ accountId: danaId });
    expect(created.user).not.toHaveProperty('emailAddress');
    expect(created.issue.fields.reporter).not.toHaveProperty('emailAddress');
    expect(created.issue.fields.creator).not.toHaveProperty('emailAddress');

    const comments = payloads.filter((p) => p.webhookEvent === 'comment_created');
    expect(comments.map((p) => p.comment.author.accountId)).toEqual([danaId, ivanId]);
    expect(comments[0].comment.author).toHaveProperty('emailAddress', null);
    expect(comments[0].user).not.toHaveProperty('emailAddress');
    expect(comments[1].comment.author.emailAddress).toBe('ivan.petrov@example.com');
    expect(JSON.stringify(payloads)).not.toContain('dana.reyes@example.com');
  });

  it('site-wide, webhooks: no payload carries anyone’s email', async () => {
    const { stand } = await standIn({ site: true }, true);
    const { key } = stand.fileTicket({ reporter: 'ivan', entitlement: 'aws-logs-read' });
    stand.commentAs(key, 'ivan', 'please');
    await stand.settled();
    const raw = hiddenReceiver.received.map((r) => r.raw).join('\n');
    expect(raw).not.toContain('@example.com');
  });

  it('refuses GET /user/email and /user/email/bulk to an API-token user with a 401, whoever is asked about', async () => {
    // OpenAPI, GET /rest/api/3/user/email: "Returns a user's email address regardless of the user's profile
    // visibility settings. For Connect apps, this API is only available to apps approved by Atlassian … For
    // Forge apps, this API only supports access via asApp() requests." Responses: "401: Returned if the
    // authentication credentials are incorrect or missing from the request (for example if a user is trying
    // to access this API)." (400 is for "the calling app is not approved"; our caller is a user, not an app.)
    const { host } = await standIn({ hidden: ['dana'] });
    for (const path of [
      `/rest/api/3/user/email?accountId=${encodeURIComponent(danaId)}`,
      `/rest/api/2/user/email?accountId=${encodeURIComponent(ivanId)}`,
      `/rest/api/3/user/email/bulk?accountId=${encodeURIComponent(danaId)}`,
    ]) {
      const response = await fetch(`${host}${path}`, { headers: { authorization: basicAuth() } });
      expect(response.status).toBe(401);
      const text = await response.text();
      expect(text).toBe('Client must be authenticated to access this resource.');
      expect(text).not.toContain('@example.com');
    }
    const client = cloudClient(host);
    const error = await rejection(client.users.getUserEmail({ accountId: danaId }));
    expect(error.status).toBe(401);
  });
});
