// Both webhook handlers built in-process for fast property runs: the real
// DynamoDB request store on a table of the shared DynamoDB Local, the real
// catalog, and small in-memory implementations of the other ports that record
// every write (queue messages, Jira comments, PagerDuty notes) so a test can
// prove that nothing was written.

import { createHmac } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRequestStore } from '../../../lambdas/connectors/dynamodb/request-store';
import type { DirectoryUser, OnCallShift, TrackerUser } from '../../../lambdas/core/context';
import type { DecideDeps } from '../../../lambdas/core/decide/incident-event';
import type { IntakeDeps } from '../../../lambdas/core/intake/intake';
import type {
  DecideMessage,
  Directory,
  IncidentDraft,
  IncidentNote,
  IncidentRef,
  OnCall,
  Pager,
  PagerUser,
  QueueName,
  Tracker,
  WorkQueue,
} from '../../../lambdas/core/ports';
import { createDecideHandler } from '../../../lambdas/handlers/decide';
import { createJiraWebhookHandler, MAX_JIRA_BODY_BYTES } from '../../../lambdas/handlers/jira-webhook';
import {
  createPagerDutyWebhookHandler,
  MAX_PAGERDUTY_BODY_BYTES,
} from '../../../lambdas/handlers/pagerduty-webhook';
import { loadCatalogFile } from '../../../lambdas/platform/catalog-file';
import type { HttpResponse } from '../../../lambdas/platform/http-errors';
import { Logger } from '../../../lambdas/platform/logger';
import { TestClock } from '../../support/clock';
import type { TestTable } from '../../support/dynamodb';

/** The WorkQueue port in memory: what would have gone to SQS. */
export class RecordingQueue implements WorkQueue {
  readonly sent: { queue: QueueName; message: { requestId: string } }[] = [];
  async send(queue: QueueName, message: { requestId: string } | DecideMessage): Promise<void> {
    if (!('requestId' in message)) throw new Error(`the in-process world sends no events to ${queue}`);
    this.sent.push({ queue, message });
  }
}

/** Jira's side: one known reporter; comments are recorded. */
export class RecordingTracker implements Tracker {
  readonly comments: { issueKey: string; text: string }[] = [];
  readonly users = new Map<string, TrackerUser>();
  async getUser(accountId: string) {
    return this.users.get(accountId);
  }
  async comment(issueKey: string, text: string) {
    this.comments.push({ issueKey, text });
  }
  async moveTo(): Promise<'moved'> {
    return 'moved';
  }
}

export class MemoryDirectory implements Directory {
  readonly users = new Map<string, DirectoryUser>();
  async findUserByEmail(email: string) {
    return this.users.get(email.toLowerCase());
  }
  async userById(id: string) {
    return [...this.users.values()].find((u) => u.id === id);
  }
  async findUserByAttribute(): Promise<undefined> {
    return undefined;
  }
  async groupMemberIds(): Promise<Set<string>> {
    return new Set();
  }
  profile(): never {
    throw new Error('not used by the webhooks');
  }
  peersOf(): never {
    throw new Error('not used by the webhooks');
  }
}

/** PagerDuty's side: users by id; notes loopgate writes are recorded. */
export class RecordingPager implements Pager {
  readonly notes: { incidentId: string; content: string }[] = [];
  readonly users = new Map<string, PagerUser>();
  async openIncident(draft: IncidentDraft): Promise<IncidentRef & { created: boolean }> {
    throw new Error(`the webhooks never page (${draft.incidentKey})`);
  }
  async addNote(incidentId: string, content: string) {
    this.notes.push({ incidentId, content });
  }
  async resolve() {}
  async getUser(userId: string) {
    return this.users.get(userId);
  }
  async getNote(): Promise<IncidentNote | undefined> {
    return undefined;
  }
}

export class NobodyOnCall implements OnCall {
  async shiftsOf(): Promise<OnCallShift[]> {
    return [];
  }
}

export const JIRA_SECRETS = ['jira-current-secret', 'jira-previous-secret'] as const;
export const PAGERDUTY_SECRETS = ['pd-current-secret', 'pd-previous-secret'] as const;

export const hubSignature = (body: string | Buffer, secret: string = JIRA_SECRETS[0]) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
export const pagerDutySignature = (body: string | Buffer, secret: string = PAGERDUTY_SECRETS[0]) =>
  `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

export interface InProcessWorld {
  jira: (body: string | Buffer, headers: Record<string, string>) => Promise<HttpResponse>;
  pagerduty: (body: string | Buffer, headers: Record<string, string>) => Promise<HttpResponse>;
  store: DynamoRequestStore;
  queue: RecordingQueue;
  tracker: RecordingTracker;
  pager: RecordingPager;
  directory: MemoryDirectory;
  logLines: string[];
  /** Every item in the table as `pk|sk|version`, to compare before and after. */
  snapshot(): Promise<string[]>;
}

/** A Function URL event (payload 2.0) as the handlers read it. */
function urlEvent(body: string | Buffer, headers: Record<string, string>) {
  const binary = Buffer.isBuffer(body);
  return {
    headers,
    body: binary ? body.toString('base64') : body,
    isBase64Encoded: binary,
  } as never;
}

export function inProcessWorld(table: TestTable): InProcessWorld {
  const clock = new TestClock();
  const store = new DynamoRequestStore({ client: table.client, tableName: table.tableName, clock });
  const queue = new RecordingQueue();
  const tracker = new RecordingTracker();
  const pager = new RecordingPager();
  const directory = new MemoryDirectory();
  const catalog = loadCatalogFile('config/catalog.yaml');
  const logLines: string[] = [];
  const logger = (service: string) =>
    new Logger({ service, level: 'debug', write: (line) => logLines.push(line) });

  const intakeDeps: IntakeDeps = { store, tracker, directory, queue, catalog, clock };
  const jiraHandler = createJiraWebhookHandler(
    intakeDeps,
    {
      secrets: JIRA_SECRETS,
      projects: ['ACCESS'],
      issueTypes: ['Access Request'],
      fields: {},
      breakGlass: { label: 'break-glass' },
      identity: {},
      maxBodyBytes: MAX_JIRA_BODY_BYTES,
    },
    logger('jira-webhook'),
  );
  const decideDeps: DecideDeps = {
    store,
    outbox: store,
    pager,
    tracker,
    directory,
    onCall: new NobodyOnCall(),
    queue,
    catalog,
    clock,
    // The catalog asks no entitlement for a push: a call here is a bug the test should see.
    stepUp: {
      push: () => Promise.reject(new Error('no step-up in the in-process world')),
      result: () => Promise.reject(new Error('no step-up in the in-process world')),
    },
  };
  const decideHandler = createDecideHandler(
    decideDeps,
    {
      loopgateEmail: 'loopgate@example.com',
      identity: {},
      cancelOnResolve: true,
      provisionDueMs: 60_000,
      jiraStatuses: {},
    },
    logger('decide'),
  );
  // The decide queue, delivered at once after the webhook answers (SQS's part, without SQS).
  const decideQueue: DecideMessage[] = [];
  const pagerDutyHandler = createPagerDutyWebhookHandler(
    { queue: { send: async (_queue, message) => void decideQueue.push(message as DecideMessage) } },
    { secrets: PAGERDUTY_SECRETS, maxBodyBytes: MAX_PAGERDUTY_BODY_BYTES },
    logger('pagerduty-webhook'),
  );
  const pagerduty = async (body: string | Buffer, headers: Record<string, string>) => {
    const response = await pagerDutyHandler(urlEvent(body, headers));
    const queued = decideQueue.splice(0);
    if (queued.length) {
      const records = queued.map((message, i) => ({
        messageId: `m${i}`,
        body: JSON.stringify(message),
        attributes: { ApproximateReceiveCount: '1' },
      }));
      const { batchItemFailures } = await decideHandler({ Records: records } as never);
      if (batchItemFailures.length) throw new Error('the decide function failed a message');
    }
    return response;
  };

  return {
    jira: (body, headers) => jiraHandler(urlEvent(body, headers)),
    pagerduty,
    store,
    queue,
    tracker,
    pager,
    directory,
    logLines,
    snapshot: () => scanKeys(table),
  };
}

export async function scanKeys(table: Pick<TestTable, 'client' | 'tableName'>): Promise<string[]> {
  const keys: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(
      new ScanCommand({
        TableName: table.tableName,
        ConsistentRead: true,
        ProjectionExpression: 'pk, sk, version',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) keys.push(`${item.pk}|${item.sk}|${item.version ?? ''}`);
    start = page.LastEvaluatedKey;
  } while (start);
  return keys.sort();
}

/** Items other than delivery claims: requests, Jira pointers, audit events (with the request's version). */
export const records = (keys: string[]) => keys.filter((k) => !k.startsWith('DELIVERY#'));
