// The single-table layout: key attributes, indexes and every key builder.
// The CDK stack and the test/sandbox table creation read the same constants,
// so the deployed table and the code can never disagree.

import { createHash } from 'node:crypto';
import { isFinal } from '../../core/lifecycle';
import type { AccessRequest } from '../../core/model';

export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB deletes the item some time after. Only delivery claims carry it. */
  ttlAttribute: 'ttl',
} as const;

/** Global secondary indexes, all string keys, all projecting every attribute. */
export const INDEXES = {
  byRequester: { name: 'byRequester', partitionKey: 'byRequesterPk', sortKey: 'byRequesterSk' },
  byEntitlement: { name: 'byEntitlement', partitionKey: 'byEntitlementPk', sortKey: 'byEntitlementSk' },
  byIncident: { name: 'byIncident', partitionKey: 'byIncidentPk', sortKey: undefined },
  /**
   * Sparse: requests that are not final and have a due time (partition per state), and
   * follow-ups waiting to be delivered (partition FOLLOWUPS).
   */
  byStateDue: { name: 'byStateDue', partitionKey: 'byStateDuePk', sortKey: 'byStateDueSk' },
  /** Sparse: holdings of shared access with a review time (the sweeper's reconcile). */
  byHoldingReview: {
    name: 'byHoldingReview',
    partitionKey: 'byHoldingReviewPk',
    sortKey: 'byHoldingReviewSk',
  },
} as const;

export type IndexName = keyof typeof INDEXES;

/** Audit versions are zero-padded so the sort key orders them numerically. */
const pad = (version: number) => String(version).padStart(10, '0');

export const keys = {
  request: (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'REQUEST' }),
  audit: (requestId: string, version: number) => ({
    pk: `REQUEST#${requestId}`,
    sk: `AUDIT#${pad(version)}`,
  }),
  auditPrefix: 'AUDIT#',
  /** A follow-up written with the step at `version` (the `position`th of that step). */
  followUp: (requestId: string, version: number, position: number) => ({
    pk: `REQUEST#${requestId}`,
    sk: `FOLLOWUP#${pad(version)}#${String(position).padStart(3, '0')}`,
  }),
  followUpPrefix: 'FOLLOWUP#',
  /** The byStateDue partition of follow-ups waiting to be delivered. */
  followUpsDue: 'FOLLOWUPS',
  /** Points a Jira issue key at its request; its conditional put is what makes create idempotent. */
  jiraIssue: (issueKey: string) => ({ pk: `JIRA#${issueKey}`, sk: 'JIRA' }),
  /** Hashed: the id is a header outside the signature, so its length is the sender's to choose. */
  delivery: (source: string, deliveryId: string) => ({
    pk: `DELIVERY#${source}#${createHash('sha256').update(deliveryId).digest('hex')}`,
    sk: 'DELIVERY',
  }),
  /** Who holds one shared access through loopgate (see holding-store.ts). */
  holding: (kind: string, principal: string, target: string) => ({
    pk: `HOLDING#${kind}#${principal}#${target}`,
    sk: 'HOLDING',
  }),
  /** The one partition of byHoldingReview: holdings are few (one per person and shared access held). */
  holdingReview: 'HOLDINGS',
  requester: (email: string) => `REQUESTER#${email.toLowerCase()}`,
  entitlement: (entitlementId: string) => `ENTITLEMENT#${entitlementId}`,
  incident: (incidentId: string) => `INCIDENT#${incidentId}`,
  stateDue: (state: string) => `STATE#${state}`,
  /** ISO times sort as text; the id makes equal times unique. */
  timeThenId: (isoTime: string, requestId: string) => `${isoTime}#${requestId}`,
};

/** The index attributes a request item carries, derived from the request every time it is written. */
export function indexAttributes(r: AccessRequest): Record<string, string> {
  const out: Record<string, string> = {
    [INDEXES.byEntitlement.partitionKey]: keys.entitlement(r.entitlementId),
    [INDEXES.byEntitlement.sortKey]: keys.timeThenId(r.createdAt, r.id),
  };
  if (r.requester.email) {
    out[INDEXES.byRequester.partitionKey] = keys.requester(r.requester.email);
    out[INDEXES.byRequester.sortKey] = keys.timeThenId(r.createdAt, r.id);
  }
  if (r.incidentId) out[INDEXES.byIncident.partitionKey] = keys.incident(r.incidentId);
  if (r.dueAt && !isFinal(r.state)) {
    out[INDEXES.byStateDue.partitionKey] = keys.stateDue(r.state);
    out[INDEXES.byStateDue.sortKey] = keys.timeThenId(r.dueAt, r.id);
  }
  return out;
}
