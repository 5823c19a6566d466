// A Jira ticket as loopgate reads it, from the three shapes Jira delivers:
// admin webhooks (`{webhookEvent, issue}`), Automation's "Jira format"
// (`{issue}`) and Automation's "Automation format" (the issue at the top level).

import { z } from 'zod';
import { bodyText, withoutMarkers } from '../adf';
import { ValidationError } from '../errors';
import type { TicketStatusChange } from '../ticket/status-change';
import type { TicketComment } from './comment';

export interface Ticket {
  id: string;
  key: string;
  projectKey: string;
  issueType: string;
  summary: string;
  /** The description as plain text (wiki markup or ADF flattened). */
  description: string;
  reporter?: { accountId: string; email?: string; displayName?: string };
  /** Every field as delivered, custom fields included. */
  fields: Record<string, unknown>;
}

export type TicketEvent =
  | { kind: 'issue-created'; ticket: Ticket }
  | { kind: 'comment-created'; comment: TicketComment }
  /** `jira:issue_updated` whose changelog moves the status; other edits never change what was asked. */
  | { kind: 'status-changed'; change: TicketStatusChange }
  | { kind: 'other'; name: string };

/** Jira keys are a project key (at most 255 characters, usually far less) and a number. */
const issueKey = z
  .string()
  .max(300, 'too long for a Jira issue key')
  .regex(/^[A-Z][A-Z0-9_]*-\d+$/, 'not a Jira issue key');

const commentEventSchema = z.object({
  issue: z.looseObject({ key: issueKey }),
  comment: z.looseObject({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    author: z.looseObject({ accountId: z.string().min(1) }),
    body: z.unknown(),
  }),
});

const issueSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  key: issueKey,
  fields: z.looseObject({
    summary: z.string().nullish(),
    description: z.unknown().optional(),
    reporter: z
      .looseObject({
        accountId: z.string().min(1),
        emailAddress: z.string().nullish(),
        displayName: z.string().nullish(),
      })
      .nullish(),
    project: z.looseObject({ key: z.string().min(1) }),
    issuetype: z.looseObject({ name: z.string().min(1) }),
  }),
});

/** Reads a delivery. Throws ValidationError (naming the path) when an issue event is malformed. */
export function parseTicketEvent(payload: unknown): TicketEvent {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new ValidationError('the payload is not a JSON object');
  }
  const body = payload as Record<string, unknown>;
  if (typeof body.webhookEvent === 'string') {
    if (body.webhookEvent === 'comment_created') return parseComment(body);
    if (body.webhookEvent === 'jira:issue_updated') return parseUpdate(body);
    if (body.webhookEvent !== 'jira:issue_created') return { kind: 'other', name: body.webhookEvent };
    return { kind: 'issue-created', ticket: parseIssue(body.issue, 'issue') };
  }
  if (typeof body.issue === 'object' && body.issue !== null) {
    return { kind: 'issue-created', ticket: parseIssue(body.issue, 'issue') };
  }
  if ('key' in body && 'fields' in body) return { kind: 'issue-created', ticket: parseIssue(body, '') };
  return { kind: 'other', name: 'unrecognised payload' };
}

function parseComment(body: Record<string, unknown>): TicketEvent {
  const result = commentEventSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ValidationError(
      `malformed comment event at ${(issue?.path ?? []).map(String).join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const { issue, comment } = result.data;
  return {
    kind: 'comment-created',
    comment: {
      issueKey: issue.key,
      id: comment.id,
      authorAccountId: comment.author.accountId,
      text: bodyText(comment.body),
    },
  };
}

const id = z.union([z.string().min(1).max(100), z.number()]).transform(String);
const statusChangeSchema = z.object({
  user: z.looseObject({ accountId: z.string().min(1).max(128) }).nullish(),
  issue: z.looseObject({
    key: issueKey,
    fields: z.looseObject({
      project: z.looseObject({ key: z.string().min(1) }),
      issuetype: z.looseObject({ name: z.string().min(1) }),
      status: z
        .looseObject({
          id: id.optional(),
          statusCategory: z.looseObject({ key: z.string().optional() }).nullish(),
        })
        .nullish(),
    }),
  }),
  changelog: z.looseObject({
    id,
    items: z.array(
      z.looseObject({
        field: z.string().nullish(),
        fieldId: z.string().nullish(),
        from: z.string().nullish(),
        fromString: z.string().nullish(),
        to: z.string().nullish(),
        toString: z.string().nullish(),
      }),
    ),
  }),
});

/**
 * `jira:issue_updated`: only a status change matters, read from the changelog (from → to). The
 * status category is not in a changelog item; the issue in the payload carries its status and
 * category as they stand, which is the category of `to` only while the issue is still there.
 */
function parseUpdate(body: Record<string, unknown>): TicketEvent {
  // An edit without a changelog (or one that changes other fields) is not a status change.
  const changelog = body.changelog as { items?: unknown } | undefined;
  const items = Array.isArray(changelog?.items) ? (changelog.items as Record<string, unknown>[]) : [];
  if (!items.some(isStatusItem)) return { kind: 'other', name: 'jira:issue_updated without a status change' };
  const result = statusChangeSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ValidationError(
      `malformed issue update at ${(issue?.path ?? []).map(String).join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const { user, issue, changelog: log } = result.data;
  const item = log.items.find(isStatusItem);
  if (!item?.to || !item.from)
    throw new ValidationError('malformed issue update: the status change names no status');
  const current = issue.fields.status;
  const categoryKey = current?.id === item.to ? current.statusCategory?.key : undefined;
  return {
    kind: 'status-changed',
    change: {
      issueKey: issue.key,
      projectKey: issue.fields.project.key,
      issueType: issue.fields.issuetype.name,
      changelogId: log.id,
      ...(user ? { actorAccountId: user.accountId } : {}),
      from: { id: item.from, name: item.fromString ?? item.from },
      to: { id: item.to, name: item.toString ?? item.to, ...(categoryKey ? { categoryKey } : {}) },
    },
  };
}

function isStatusItem(item: { field?: unknown; fieldId?: unknown }): boolean {
  return (
    item.fieldId === 'status' ||
    ((item.fieldId === undefined || item.fieldId === null) && item.field === 'status')
  );
}

function parseIssue(data: unknown, at: string): Ticket {
  const result = issueSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = [at, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
    throw new ValidationError(`malformed issue at ${path || '(top level)'}: ${issue?.message ?? 'invalid'}`);
  }
  const { id, key, fields } = result.data;
  const reporter = fields.reporter;
  return {
    id,
    key,
    projectKey: fields.project.key,
    issueType: fields.issuetype.name,
    summary: fields.summary ?? '',
    description: bodyText(fields.description),
    ...(reporter
      ? {
          reporter: {
            accountId: reporter.accountId,
            ...(reporter.emailAddress ? { email: reporter.emailAddress } : {}),
            ...(reporter.displayName ? { displayName: reporter.displayName } : {}),
          },
        }
      : {}),
    fields,
  };
}

/** Custom field ids that carry the request's parts, when the Jira project has them. */
export interface RequestFieldIds {
  entitlement?: string;
  duration?: string;
  justification?: string;
}

export interface RequestParts {
  entitlementId?: string;
  duration?: string;
  justification?: string;
}

const LABELS: Record<string, keyof RequestParts> = {
  entitlement: 'entitlementId',
  access: 'entitlementId',
  duration: 'duration',
  reason: 'justification',
  justification: 'justification',
};

const MAX_LINE = 2000;

/** Wiki emphasis and blanks around a value: `*Reason:* INC-1 *` → `INC-1`. */
function stripMarks(text: string): string {
  let start = 0;
  let end = text.length;
  const mark = (c: string | undefined) => c === '*' || c === '_' || c === ' ' || c === '\t' || c === '\r';
  while (start < end && mark(text[start])) start++;
  while (end > start && mark(text[end - 1])) end--;
  return text.slice(start, end);
}

/**
 * The request's parts: custom fields first, then `Entitlement: …` / `Duration: …` / `Reason: …`
 * lines of the description (labels may be bold in wiki markup: `*Reason:* …`).
 */
export function requestParts(ticket: Ticket, fieldIds: RequestFieldIds = {}): RequestParts {
  const fromDescription: RequestParts = {};
  for (const raw of ticket.description.split('\n')) {
    // Capped and matched with single quantifiers: a ticket's text must not be able to stall intake.
    const match = /^[*_\s]*([A-Za-z]+)[*_\s]*:(.*)$/.exec(raw.slice(0, MAX_LINE));
    const part = match?.[1] ? LABELS[match[1].toLowerCase()] : undefined;
    const value = match?.[2] ? withoutMarkers(stripMarks(match[2])) : '';
    if (part && value && fromDescription[part] === undefined) fromDescription[part] = value;
  }
  const field = (id: string | undefined) => (id ? fieldText(ticket.fields[id]) : undefined);
  const parts: RequestParts = {
    entitlementId: field(fieldIds.entitlement) ?? fromDescription.entitlementId,
    duration: field(fieldIds.duration) ?? fromDescription.duration,
    justification: field(fieldIds.justification) ?? fromDescription.justification,
  };
  return Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined)) as RequestParts;
}

/** A custom field's value as text: a string, a select option (`{value}`), or a paragraph field in ADF. */
function fieldText(value: unknown): string | undefined {
  // Typed text never carries the ⟪…⟫ markers: only ADF-to-text says what the page hid.
  const text =
    typeof value === 'string'
      ? withoutMarkers(value)
      : typeof value === 'object' &&
          value !== null &&
          typeof (value as { value?: unknown }).value === 'string'
        ? withoutMarkers((value as { value: string }).value)
        : bodyText(value, { provenance: true });
  return text.trim() || undefined;
}
