// HoldingStore on the request table: one item per shared access (kind,
// principal, target) listing the requests that hold it through loopgate. A
// lease on the item (a conditional write) serializes every grant, revoke and
// reconcile of the same access, so their vendor calls never interleave.

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  paginateQuery,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors';
import type { ActionKind } from '../../core/model';
import { type Clock, type Holding, type HoldingRef, type HoldingStore, systemClock } from '../../core/ports';
import { INDEXES, keys } from './schema';

export interface DynamoHoldingStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** How long a lease lasts: longer than the provision and revoke functions' timeout, so a crashed attempt's lease frees itself. */
  leaseMs?: number;
}

const index = INDEXES.byHoldingReview;

export class DynamoHoldingStore implements HoldingStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly leaseMs: number;

  constructor(options: DynamoHoldingStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? 90_000;
  }

  async lease(ref: HoldingRef): Promise<{ holding: Holding; token: string } | undefined> {
    const token = randomUUID();
    const now = this.clock.now().getTime();
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(ref),
          // Creates the item when there is none: the lease must exist before anything is decided.
          UpdateExpression:
            'SET #owner = :token, #until = :until, #kind = :kind, #principal = :principal, #target = :target, #entity = :entity',
          ConditionExpression: 'attribute_not_exists(#owner) OR #until < :now',
          ExpressionAttributeNames: {
            '#owner': 'leaseOwner',
            '#until': 'leaseUntil',
            '#kind': 'kind',
            '#principal': 'principal',
            '#target': 'target',
            '#entity': 'entity',
          },
          ExpressionAttributeValues: {
            ':token': token,
            ':until': now + this.leaseMs,
            ':now': now,
            ':kind': ref.kind,
            ':principal': ref.principal,
            ':target': ref.target,
            ':entity': 'holding',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { holding: toHolding(Attributes ?? {}), token };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async save(holding: Holding, token: string): Promise<void> {
    const item: Record<string, unknown> = {
      ...keyOf(holding),
      entity: 'holding',
      kind: holding.kind,
      principal: holding.principal,
      target: holding.target,
      holders: [...new Set(holding.holders)],
      outside: holding.outside,
      placed: holding.placed,
      lastHolder: holding.lastHolder,
      reviewAt: holding.reviewAt,
      leaseOwner: token,
      leaseUntil: this.clock.now().getTime() + this.leaseMs,
    };
    if (holding.reviewAt) {
      item[index.partitionKey] = keys.holdingReview;
      item[index.sortKey] = `${holding.reviewAt}#${keyOf(holding).pk}`;
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'leaseOwner = :token',
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`the lease on ${describe(holding)} was lost`, { cause: error });
      }
      throw error;
    }
  }

  async release(ref: HoldingRef, token: string): Promise<void> {
    try {
      // Nothing held and nothing of loopgate's in place: nothing to remember.
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keyOf(ref),
          ConditionExpression:
            'leaseOwner = :token AND (attribute_not_exists(holders) OR size(holders) = :zero) AND (attribute_not_exists(placed) OR placed = :false)',
          ExpressionAttributeValues: { ':token': token, ':zero': 0, ':false': false },
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(ref),
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ConditionExpression: 'leaseOwner = :token',
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (error) {
      // The lease ran out and another attempt holds it now: its word stands.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async listDue(before: Date, limit: number): Promise<Holding[]> {
    const found: Holding[] = [];
    for await (const page of paginateQuery(
      { client: this.client, pageSize: Math.min(limit, 100) },
      {
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': keys.holdingReview, ':before': before.toISOString() },
      },
    )) {
      found.push(...(page.Items ?? []).map(toHolding));
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  }
}

function keyOf(ref: HoldingRef) {
  return keys.holding(ref.kind, ref.principal, ref.target);
}

function toHolding(item: Record<string, unknown>): Holding {
  return {
    kind: item.kind as ActionKind,
    principal: String(item.principal),
    target: String(item.target),
    holders: Array.isArray(item.holders) ? item.holders.map(String) : [],
    outside: item.outside === true,
    placed: item.placed === true,
    ...(typeof item.lastHolder === 'string' ? { lastHolder: item.lastHolder } : {}),
    ...(typeof item.reviewAt === 'string' ? { reviewAt: item.reviewAt } : {}),
  };
}

const describe = (ref: HoldingRef) => `${ref.kind} ${ref.target} of ${ref.principal}`;
