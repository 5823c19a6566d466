// RequestStore on one DynamoDB table. Every write that must happen together is
// one TransactWriteItems: the request item is written only if it is still in
// the state and version the caller read, together with its audit event.

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { NotFoundError, ValidationError } from '../../core/errors';
import { assertTransition, isFinal, TransitionConflictError } from '../../core/lifecycle';
import type {
  AccessRequest,
  AuditEntry,
  AuditEvent,
  NewAccessRequest,
  PendingFollowUp,
  RequestState,
} from '../../core/model';
import {
  type Clock,
  type FollowUpOutbox,
  type ListOptions,
  type RequestStore,
  systemClock,
  type RecordEventInput,
  type TransitionInput,
  type DeliveryClaim,
} from '../../core/ports';
import { INDEXES, indexAttributes, keys, TABLE } from './schema';

export interface DynamoRequestStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** How long a delivery claim is remembered; longer than the longest sender retry window (PagerDuty: 48 h). */
  deliveryClaimSeconds?: number;
  /** How long one attempt holds a claim; longer than the handler's timeout, so a crashed attempt's claim frees itself. */
  deliveryLeaseSeconds?: number;
  /**
   * Told of each lifecycle step once it is written: a request opened (no `from`) or moved to another
   * state (`request` as written). The one place the lifecycle metrics come from; not for events.
   */
  onStep?: (step: LifecycleStep) => void;
}

export interface LifecycleStep {
  request: AccessRequest;
  from?: RequestState;
}

const DEFAULT_LIST_LIMIT = 25;
/** Pages read at most for a filtered list: bounds the work when few items match. */
const MAX_FILTERED_PAGES = 10;
/** A transaction that meets another one in flight on the same item is cancelled with TransactionConflict; that is transient. */
const TRANSACTION_CONFLICT_ATTEMPTS = 5;

export class DynamoRequestStore implements RequestStore, FollowUpOutbox {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly deliveryClaimSeconds: number;
  private readonly deliveryLeaseSeconds: number;
  private readonly onStep: (step: LifecycleStep) => void;

  constructor(options: DynamoRequestStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.deliveryClaimSeconds = options.deliveryClaimSeconds ?? 3 * 86_400;
    this.deliveryLeaseSeconds = options.deliveryLeaseSeconds ?? 60;
    this.onStep = options.onStep ?? (() => {});
  }

  /** After the write: a listener that throws must not make a recorded step look failed (and be retried). */
  private stepped(step: LifecycleStep): void {
    try {
      this.onStep(step);
    } catch {
      // The step is stored; a lost metric is the lesser harm.
    }
  }

  async create(
    input: NewAccessRequest,
    audit: AuditEntry,
  ): Promise<{ request: AccessRequest; created: boolean }> {
    const now = this.clock.now().toISOString();
    const request: AccessRequest = {
      ...input,
      id: randomUUID(),
      state: 'RECEIVED',
      version: 1,
      createdAt: now,
      updatedAt: now,
      decisions: [],
    };
    const event: AuditEvent = { ...audit, requestId: request.id, version: 1, at: now, to: 'RECEIVED' };
    const absent = 'attribute_not_exists(pk)';
    try {
      await this.transact([
        {
          Put: {
            TableName: this.tableName,
            Item: { ...keys.jiraIssue(input.jiraIssueKey), requestId: request.id },
            ConditionExpression: absent,
          },
        },
        { Put: { TableName: this.tableName, Item: requestItem(request), ConditionExpression: absent } },
        { Put: { TableName: this.tableName, Item: auditItem(event), ConditionExpression: absent } },
      ]);
      this.stepped({ request });
      return { request, created: true };
    } catch (error) {
      if (!isConditionFailure(error, 0)) throw error;
      const existing = await this.getByJiraIssueKey(input.jiraIssueKey);
      if (!existing) {
        throw new Error(`Jira issue ${input.jiraIssueKey} is claimed but its request is missing`, {
          cause: error,
        });
      }
      return { request: existing, created: false };
    }
  }

  async get(requestId: string): Promise<AccessRequest | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.request(requestId), ConsistentRead: true }),
    );
    return Item ? toRequest(Item) : undefined;
  }

  async getByJiraIssueKey(issueKey: string): Promise<AccessRequest | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.jiraIssue(issueKey), ConsistentRead: true }),
    );
    return typeof Item?.requestId === 'string' ? this.get(Item.requestId) : undefined;
  }

  /** Reads a global index, so a request is found a moment (typically well under a second) after the incident is set. */
  async getByIncidentId(incidentId: string): Promise<AccessRequest | undefined> {
    const [found] = await this.queryRequests(
      {
        IndexName: INDEXES.byIncident.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES.byIncident.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.incident(incidentId) },
      },
      1,
    );
    return found;
  }

  async transition(input: TransitionInput) {
    assertTransition(input.requestId, input.from, input.to);
    const request = await this.write(input, false);
    this.stepped({ request, from: input.from });
    return request;
  }

  async recordEvent({ requestId, state, expectedVersion, audit, changes, followUps }: RecordEventInput) {
    return this.write(
      { requestId, from: state, to: state, expectedVersion, audit, changes, followUps },
      true,
    );
  }

  /** One conditional write of the request and its audit event; `keepDue` leaves the due time as it was. */
  private async write(
    { requestId, from, to, expectedVersion, audit, changes = {}, followUps = [] }: TransitionInput,
    keepDue: boolean,
  ) {
    if (changes.dueAt !== undefined && isFinal(to)) {
      throw new ValidationError(`request ${requestId}: ${to} is final and cannot have a due time`);
    }
    const current = await this.get(requestId);
    if (!current) throw new NotFoundError(`request ${requestId} does not exist`);
    if (current.state !== from || current.version !== expectedVersion) {
      throw new TransitionConflictError(
        requestId,
        { state: from, version: expectedVersion },
        {
          state: current.state,
          version: current.version,
        },
      );
    }

    const now = this.clock.now().toISOString();
    const { dueAt: previousDue, ...rest } = current;
    const next: AccessRequest = {
      ...rest,
      ...(keepDue && previousDue !== undefined ? { dueAt: previousDue } : {}),
      ...changes,
      state: to,
      version: expectedVersion + 1,
      updatedAt: now,
    };
    const event: AuditEvent = { ...audit, requestId, version: next.version, at: now, from, to };
    try {
      await this.transact([
        {
          Put: {
            TableName: this.tableName,
            Item: requestItem(next),
            ConditionExpression: '#state = :from AND #version = :version',
            ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
            ExpressionAttributeValues: { ':from': from, ':version': expectedVersion },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: auditItem(event),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        // The outbox: what people are told about this step is written with it, or not at all.
        ...followUps.map((followUp, position) => ({
          Put: {
            TableName: this.tableName,
            Item: followUpItem(
              {
                id: `${requestId}:${next.version}:${position}`,
                requestId,
                followUp,
                attempts: 0,
                dueAt: now,
                createdAt: now,
              },
              next.version,
              position,
            ),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
      ]);
      return next;
    } catch (error) {
      if (isConditionFailure(error, 0) || isConditionFailure(error, 1) || isStillConflicting(error)) {
        const old = conditionFailureItem(error, 0);
        const found = old && { state: old.state as RequestState, version: Number(old.version) };
        throw new TransitionConflictError(requestId, { state: from, version: expectedVersion }, found, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async followUpsOf(requestId: string): Promise<PendingFollowUp[]> {
    return (await this.itemsOf(requestId, keys.followUpPrefix)).map(toFollowUp);
  }

  /** The items of a request's partition whose sort key starts with `prefix`, in order. */
  private itemsOf(requestId: string, prefix: string) {
    return this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.request(requestId).pk, ':prefix': prefix },
      ConsistentRead: true,
    });
  }

  async dueFollowUps(before: Date, limit: number): Promise<PendingFollowUp[]> {
    const index = INDEXES.byStateDue;
    const items = await this.queryAll(
      {
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': keys.followUpsDue, ':before': before.toISOString() },
      },
      limit,
    );
    return items.map(toFollowUp);
  }

  async claimFollowUp(item: PendingFollowUp, until: Date): Promise<PendingFollowUp | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: followUpKey(item),
          UpdateExpression: 'SET dueAt = :until, #sk = :sk, attempts = attempts + :one',
          // Unchanged since it was read: a second deliverer finds the due time moved and leaves it.
          ConditionExpression: 'attribute_exists(pk) AND dueAt = :seen',
          ExpressionAttributeNames: { '#sk': INDEXES.byStateDue.sortKey },
          ExpressionAttributeValues: {
            ':until': until.toISOString(),
            ':sk': keys.timeThenId(until.toISOString(), item.id),
            ':one': 1,
            ':seen': item.dueAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toFollowUp(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async finishFollowUp(item: PendingFollowUp): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: followUpKey(item) }));
  }

  async retryFollowUp(item: PendingFollowUp, at: Date, error: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: followUpKey(item),
          UpdateExpression: 'SET dueAt = :at, #sk = :sk, lastError = :error',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#sk': INDEXES.byStateDue.sortKey },
          ExpressionAttributeValues: {
            ':at': at.toISOString(),
            ':sk': keys.timeThenId(at.toISOString(), item.id),
            ':error': error.slice(0, 1000),
          },
        }),
      );
    } catch (failure) {
      // Finished by another deliverer meanwhile: nothing to retry.
      if (!(failure instanceof ConditionalCheckFailedException)) throw failure;
    }
  }

  async listAuditEvents(requestId: string): Promise<AuditEvent[]> {
    return (await this.itemsOf(requestId, keys.auditPrefix)).map(toAuditEvent);
  }

  listByRequester(email: string, options?: ListOptions): Promise<AccessRequest[]> {
    return this.newestFirst(INDEXES.byRequester, keys.requester(email), options);
  }

  listByEntitlement(entitlementId: string, options?: ListOptions): Promise<AccessRequest[]> {
    return this.newestFirst(INDEXES.byEntitlement, keys.entitlement(entitlementId), options);
  }

  /**
   * An entitlement's requests filed in [from, to), oldest first, one page at a time: an export
   * writes each page before it reads the next, so memory stays bounded whatever the quarter holds.
   */
  async *pagesByEntitlement(
    entitlementId: string,
    range: { from: Date; to: Date },
    pageSize = 100,
  ): AsyncGenerator<AccessRequest[]> {
    const index = INDEXES.byEntitlement;
    for await (const page of paginateQuery(
      { client: this.client, pageSize },
      {
        TableName: this.tableName,
        IndexName: index.name,
        // The sort key is `<createdAt>#<id>`: one filed exactly at `to` sorts after `to` itself.
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: {
          ':pk': keys.entitlement(entitlementId),
          ':from': range.from.toISOString(),
          ':to': range.to.toISOString(),
        },
        ScanIndexForward: true,
      },
    )) {
      yield (page.Items ?? []).map(toRequest);
    }
  }

  listDue(state: RequestState, before: Date, options?: ListOptions): Promise<AccessRequest[]> {
    const index = INDEXES.byStateDue;
    return this.queryRequests(
      {
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': keys.stateDue(state), ':before': before.toISOString() },
      },
      options?.limit ?? DEFAULT_LIST_LIMIT,
    );
  }

  async claimDelivery(source: string, deliveryId: string): Promise<DeliveryClaim> {
    const nowEpoch = this.nowEpoch();
    const token = randomUUID();
    const key = keys.delivery(source, deliveryId);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            status: 'in-progress',
            token,
            leaseUntil: nowEpoch + this.deliveryLeaseSeconds,
            claimedAt: this.clock.now().toISOString(),
            [TABLE.ttlAttribute]: nowEpoch + this.deliveryClaimSeconds,
          },
          // Free when absent, expired (DynamoDB deletes expired items only eventually), or left by a dead attempt.
          ConditionExpression:
            'attribute_not_exists(pk) OR #ttl < :now OR (#status = :inProgress AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute, '#status': 'status' },
          ExpressionAttributeValues: { ':now': nowEpoch, ':inProgress': 'in-progress' },
        }),
      );
      return { status: 'claimed', token };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return Item?.status === 'done' ? { status: 'done' } : { status: 'in-progress' };
    }
  }

  async completeDelivery(source: string, deliveryId: string, token: string): Promise<void> {
    await this.ifStillHolder(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.delivery(source, deliveryId),
        UpdateExpression: 'SET #status = :done, #ttl = :ttl REMOVE leaseUntil',
        ConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#status': 'status', '#ttl': TABLE.ttlAttribute, '#token': 'token' },
        ExpressionAttributeValues: {
          ':done': 'done',
          ':ttl': this.nowEpoch() + this.deliveryClaimSeconds,
          ':token': token,
        },
      }),
    );
  }

  async releaseDelivery(source: string, deliveryId: string, token: string): Promise<void> {
    await this.ifStillHolder(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.delivery(source, deliveryId),
        ConditionExpression: '#token = :token',
        ExpressionAttributeNames: { '#token': 'token' },
        ExpressionAttributeValues: { ':token': token },
      }),
    );
  }

  /** A claim whose lease ran out may have passed to another attempt: its outcome then stands. */
  private async ifStillHolder(command: UpdateCommand | DeleteCommand): Promise<void> {
    try {
      await this.client.send(command as UpdateCommand);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private nowEpoch(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  private async transact(
    items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
  ) {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        return;
      } catch (error) {
        if (!isStillConflicting(error) || attempt >= TRANSACTION_CONFLICT_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20 * attempt));
      }
    }
  }

  private newestFirst(
    index: { name: string; partitionKey: string },
    partition: string,
    options?: ListOptions,
  ): Promise<AccessRequest[]> {
    const states = options?.states ?? [];
    const stateValues = Object.fromEntries(states.map((state, i) => [`:state${i}`, state]));
    return this.queryRequests(
      {
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: {
          '#pk': index.partitionKey,
          ...(states.length ? { '#state': 'state' } : {}),
        },
        ExpressionAttributeValues: { ':pk': partition, ...stateValues },
        ...(states.length ? { FilterExpression: `#state IN (${Object.keys(stateValues).join(', ')})` } : {}),
        ScanIndexForward: false,
      },
      options?.limit ?? DEFAULT_LIST_LIMIT,
      states.length ? MAX_FILTERED_PAGES : undefined,
    );
  }

  private async queryRequests(input: Omit<QueryCommandInput, 'TableName'>, limit: number, maxPages?: number) {
    return (await this.queryAll(input, limit, maxPages)).map(toRequest);
  }

  private async queryAll(
    input: Omit<QueryCommandInput, 'TableName'>,
    limit = Number.POSITIVE_INFINITY,
    maxPages = Number.POSITIVE_INFINITY,
  ) {
    const items: Record<string, unknown>[] = [];
    // A filter is applied after each page is read: ask for full pages then, not just the few still wanted.
    const pageSize = input.FilterExpression ? 100 : Number.isFinite(limit) ? Math.min(limit, 100) : undefined;
    let pages = 0;
    for await (const page of paginateQuery(
      { client: this.client, pageSize },
      { ...input, TableName: this.tableName },
    )) {
      items.push(...(page.Items ?? []));
      pages += 1;
      if (items.length >= limit || pages >= maxPages) break;
    }
    return items.slice(0, limit);
  }
}

function requestItem(request: AccessRequest): Record<string, unknown> {
  return { ...keys.request(request.id), entity: 'request', ...request, ...indexAttributes(request) };
}

function auditItem(event: AuditEvent): Record<string, unknown> {
  return { ...keys.audit(event.requestId, event.version), entity: 'audit', ...event };
}

/** The id says where the item is: `<request id>:<version>:<position>`. */
function followUpKey(item: Pick<PendingFollowUp, 'id' | 'requestId'>) {
  const [version, position] = item.id
    .slice(item.requestId.length + 1)
    .split(':')
    .map(Number);
  return keys.followUp(item.requestId, version ?? 0, position ?? 0);
}

function followUpItem(item: PendingFollowUp, version: number, position: number): Record<string, unknown> {
  return {
    ...keys.followUp(item.requestId, version, position),
    entity: 'follow-up',
    ...item,
    [INDEXES.byStateDue.partitionKey]: keys.followUpsDue,
    [INDEXES.byStateDue.sortKey]: keys.timeThenId(item.dueAt, item.id),
  };
}

const FOLLOW_UP_FIELDS = [
  'id',
  'requestId',
  'followUp',
  'attempts',
  'dueAt',
  'createdAt',
  'lastError',
] as const satisfies readonly (keyof PendingFollowUp)[];

const toFollowUp = (item: Record<string, unknown>) => pick<PendingFollowUp>(item, FOLLOW_UP_FIELDS);

const REQUEST_FIELDS = [
  'id',
  'jiraIssueKey',
  'requester',
  'entitlementId',
  'durationSeconds',
  'justification',
  'breakGlass',
  'state',
  'version',
  'createdAt',
  'updatedAt',
  'dueAt',
  'incidentId',
  'advice',
  'decisions',
  'grant',
  'review',
  'notesHandled',
  'stepUps',
  'requesterProof',
  'extensionVotes',
  'reviewEscalatedAt',
  'conflicts',
] as const satisfies readonly (keyof AccessRequest)[];

const AUDIT_FIELDS = [
  'requestId',
  'version',
  'at',
  'from',
  'to',
  'actor',
  'reason',
  'evidence',
] as const satisfies readonly (keyof AuditEvent)[];

function pick<T>(item: Record<string, unknown>, fields: readonly string[]): T {
  return Object.fromEntries(fields.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])) as T;
}

const toRequest = (item: Record<string, unknown>) => pick<AccessRequest>(item, REQUEST_FIELDS);
const toAuditEvent = (item: Record<string, unknown>) => pick<AuditEvent>(item, AUDIT_FIELDS);

function cancellationCodes(error: unknown): (string | undefined)[] {
  return error instanceof TransactionCanceledException
    ? (error.CancellationReasons ?? []).map((r) => r.Code)
    : [];
}

function isConditionFailure(error: unknown, itemIndex: number): boolean {
  return cancellationCodes(error)[itemIndex] === 'ConditionalCheckFailed';
}

function isStillConflicting(error: unknown): boolean {
  return cancellationCodes(error).includes('TransactionConflict');
}

function conditionFailureItem(error: unknown, itemIndex: number): Record<string, unknown> | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const item = error.CancellationReasons?.[itemIndex]?.Item;
  return item ? unmarshall(item) : undefined;
}
