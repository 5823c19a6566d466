// Tracker on Jira Cloud (REST v3 through jira.js): who a Jira account is,
// loopgate's comments on the ticket, and moving the ticket to a status. A comment is loopgate's plain text; it is
// sent as an ADF document of text paragraphs only, so nothing in it (wiki
// markup, Markdown, a mention, a smart link) can become anything but text.

import { z } from 'zod';
import type { TrackerUser } from '../../core/context';
import { UpstreamError, ValidationError } from '../../core/errors';
import type { Tracker } from '../../core/ports';
import { JIRA, type JiraClient } from './client';

/** A project key (a letter, then letters, digits, underscores), a dash and a number; or an issue id. */
const ISSUE_KEY = /^(?:[A-Z][A-Z0-9_]*-[1-9]\d*|[1-9]\d*)$/;
const MAX_ACCOUNT_ID_LENGTH = 128;

const jiraUser = z.object({
  accountId: z.string().min(1),
  displayName: z.string().optional(),
  // Absent, or empty, when the user's privacy settings hide it from the caller.
  // Hidden by the user's privacy settings: Jira sends null or leaves it out.
  emailAddress: z.string().nullish(),
  active: z.boolean(),
});

const transitionList = z.object({
  transitions: z.array(
    z.object({ id: z.string(), name: z.string(), to: z.object({ name: z.string() }).optional() }),
  ),
});

export class JiraTracker implements Tracker {
  private ownAccount: Promise<string> | undefined;

  constructor(private readonly client: JiraClient) {}

  async getUser(accountId: string): Promise<TrackerUser | undefined> {
    if (!accountId.trim() || accountId.length > MAX_ACCOUNT_ID_LENGTH) {
      throw new ValidationError('a Jira account id must be 1 to 128 characters');
    }
    const operation = 'GET /user';
    const raw = await this.client.call<unknown>(
      operation,
      (api) => api.users.getUser({ accountId }),
      () => undefined,
    );
    if (raw === undefined) return undefined;
    const parsed = jiraUser.safeParse(raw);
    if (!parsed.success || parsed.data.accountId !== accountId) {
      throw new UpstreamError(JIRA, 'bad-response', `${operation} answered an unexpected shape`, {
        cause: parsed.error,
      });
    }
    const { displayName, emailAddress, active } = parsed.data;
    return {
      accountId,
      displayName: displayName?.trim() || accountId,
      ...(emailAddress?.trim() ? { email: emailAddress.trim() } : {}),
      active,
    };
  }

  async moveTo(issueKey: string, statusName: string): Promise<'moved' | 'no-such-transition'> {
    if (!ISSUE_KEY.test(issueKey)) throw new ValidationError(`"${issueKey}" is not a Jira issue key`);
    const wanted = statusName.trim().toLowerCase();
    const raw = await this.client.call<unknown>(`GET transitions of ${issueKey}`, (api) =>
      api.issues.getTransitions({ issueIdOrKey: issueKey }),
    );
    const parsed = transitionList.safeParse(raw);
    if (!parsed.success) {
      throw new UpstreamError(
        JIRA,
        'bad-response',
        `GET transitions of ${issueKey} answered an unexpected shape`,
      );
    }
    // Workflows name transitions freely ("Approve", "Mark approved"); the status they lead to is what is configured.
    const transition = parsed.data.transitions.find(
      (t) => t.to?.name.toLowerCase() === wanted || t.name.toLowerCase() === wanted,
    );
    if (!transition) return 'no-such-transition';
    // A 409 means another update of the issue was running; Atlassian's answer is to try again.
    await this.client.callRetryingConflicts(`move ${issueKey} to ${statusName}`, (api) =>
      api.issues.doTransition({ issueIdOrKey: issueKey, transition: { id: transition.id } }),
    );
    return 'moved';
  }

  /** The account the API token belongs to (GET /myself), asked once: it does not change while the token lives. */
  ownAccountId(): Promise<string> {
    this.ownAccount ??= this.client
      .call<unknown>('GET /myself', (api) => api.myself.getCurrentUser())
      .then((raw) => {
        const accountId = (raw as { accountId?: unknown } | null)?.accountId;
        if (typeof accountId !== 'string' || !accountId) {
          throw new UpstreamError(JIRA, 'bad-response', 'GET /myself answered no accountId');
        }
        return accountId;
      })
      .catch((error: unknown) => {
        // Not cached: the next delivery asks again.
        this.ownAccount = undefined;
        throw error;
      });
    return this.ownAccount;
  }

  async comment(issueKey: string, text: string): Promise<void> {
    // The key goes into the URL path unencoded by jira.js; only a well-formed key may.
    if (!ISSUE_KEY.test(issueKey)) throw new ValidationError(`"${issueKey}" is not a Jira issue key`);
    const document = plainTextDocument(text);
    await this.client.call(`comment on ${issueKey}`, (api) =>
      api.issueComments.addComment({ issueIdOrKey: issueKey, body: document }),
    );
  }
}

// Type aliases, not interfaces: jira.js types a document as an object with an index signature.
type AdfText = {
  type: 'text';
  text: string;
};

type AdfParagraph = {
  type: 'paragraph';
  content: AdfText[];
};

export type PlainTextDocument = {
  type: 'doc';
  version: 1;
  content: AdfParagraph[];
};

/**
 * Plain text as ADF: one paragraph per line (an empty line is an empty paragraph), each holding
 * its line as one unmarked text node. Control characters other than tabs are dropped; Jira refuses some.
 */
export function plainTextDocument(text: string): PlainTextDocument {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const clean = text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '');
  if (!clean.trim()) throw new ValidationError('a Jira comment needs some text');
  return {
    type: 'doc',
    version: 1,
    content: clean.split('\n').map((line) => ({
      type: 'paragraph',
      content: line ? [{ type: 'text', text: line }] : [],
    })),
  };
}
