// Gathers what an approver would look at, from every source at once. Each
// source answers within its own timeout and the overall budget, or becomes an
// `unavailable: <reason>` fact: a slow or failing vendor never stalls triage
// and never throws out of here.

import type { Catalog, Entitlement } from '../catalog';
import type {
  ChatMessage,
  DirectoryProfile,
  DirectoryUser,
  History,
  OnCallShift,
  PrincipalAccess,
  RequestContext,
  Sourced,
} from '../context';
import { NotFoundError, UpstreamError, type UpstreamFailure } from '../errors';
import type { AccessRequest } from '../model';
import type { ChatSearch, Clock, CloudAccess, Directory, OnCall, RequestStore } from '../ports';
import { findConflicts, LIVE_STATES } from './conflicts';
import { DECIDED_STATES, policyNameOf } from './facts';
import { elapsed } from './text';

export interface GatherDeps {
  directory: Directory;
  cloud: CloudAccess;
  /** Absent when the stage switched Slack off (slack.mode off): the page says so. */
  chat?: ChatSearch;
  onCall: OnCall;
  store: RequestStore;
  clock: Clock;
  /** With it, the request is checked against the catalog's conflicts (separation of duties). */
  catalog?: Catalog;
}

export type IamPrincipal = { kind: 'user' | 'role'; name: string };

export interface GatherOptions {
  /** Each source's own limit (default 3000 ms). */
  perSourceTimeoutMs?: number;
  /** The whole gathering's limit; sources still running when it is spent become unavailable. */
  budgetMs: number;
  /** The requester's IAM user or role; without it (or when it returns undefined) IAM is reported unavailable. */
  iamPrincipalFor?: (email: string) => IamPrincipal | undefined;
  /** Extra Slack search terms (a group's display name, a service's name), added to the ticket key, entitlement id and resource. */
  chatTerms?: string[];
  /** How far back to read sign-ins (default 30 days). */
  signInWindowDays?: number;
  /** How far back to search chat (default 14 days). */
  chatWindowDays?: number;
  /** How many earlier requests to read, of the requester and of the entitlement (default 25 and 50). */
  requesterHistoryLimit?: number;
  precedentLimit?: number;
}

export const DEFAULT_PER_SOURCE_TIMEOUT_MS = 3000;
/** More live requests than this for one person is not plausible; the store reads only these states. */
const LIVE_REQUEST_LIMIT = 200;
const DAY_MS = 86_400_000;

/** Reasons that are facts about the requester rather than outages; signals may test for them. */
export const NOT_IN_DIRECTORY = "no Okta user has the requester's email";
export const EMAIL_UNKNOWN = "the requester's email is unknown";

/** A source cannot answer for a reason that is safe to show as is (never a vendor's message: those may carry secrets). */
class Unanswerable extends Error {}

const FAILURE_REASONS: Record<UpstreamFailure, string> = {
  timeout: 'timeout',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  'rate-limited': 'rate limited',
  unavailable: 'service unavailable',
  'bad-response': 'bad response',
};

/** A short reason for a human. Messages of unknown errors are never shown: they may carry tokens or personal data. */
export function failureReason(error: unknown): string {
  if (error instanceof Unanswerable) return error.message;
  if (error instanceof UpstreamError) return FAILURE_REASONS[error.failure];
  return 'unexpected error';
}

type PeerCount = History['peers'];

export async function gatherContext(
  deps: GatherDeps,
  request: AccessRequest,
  entitlement: Entitlement,
  options: GatherOptions,
): Promise<RequestContext> {
  const perSourceMs = options.perSourceTimeoutMs ?? DEFAULT_PER_SOURCE_TIMEOUT_MS;
  const budgetMs = Math.max(0, options.budgetMs);
  const now = deps.clock.now();
  const email = request.requester.email;

  // Every source starts now, so one timer serves both limits: whichever is shorter.
  const limitMs = Math.min(perSourceMs, budgetMs);
  const limitReason =
    budgetMs < perSourceMs
      ? `triage time budget of ${elapsed(budgetMs)} spent`
      : `timeout after ${elapsed(perSourceMs)}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<{ status: 'unavailable'; reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'unavailable', reason: limitReason }), limitMs);
  });
  const bounded = <T>(work: () => Promise<T>): Promise<Sourced<T>> => Promise.race([settle(work), expired]);

  const needEmail = (): string => {
    if (email === undefined) throw new Unanswerable(EMAIL_UNKNOWN);
    return email;
  };

  // The directory user is needed by the profile and by the peer count: read it once, by the Okta id
  // intake recorded (only a request recorded before ids were kept is looked up by its email).
  let userLookup: Promise<DirectoryUser> | undefined;
  const { directoryUserId } = request.requester;
  const directoryUser = () =>
    (userLookup ??= (async () => {
      const user = directoryUserId
        ? await deps.directory.userById(directoryUserId)
        : await deps.directory.findUserByEmail(needEmail());
      if (user === undefined) throw new Unanswerable(NOT_IN_DIRECTORY);
      return user;
    })());

  try {
    const [directory, cloud, chat, onCall, stored, peers] = await Promise.all([
      bounded(async () => {
        const user = await directoryUser();
        return checkProfile(
          await deps.directory.profile(user.id, daysBefore(now, options.signInWindowDays ?? 30)),
        );
      }),
      bounded(async () => {
        const principal = options.iamPrincipalFor?.(needEmail());
        if (principal === undefined) throw new Unanswerable('no IAM principal is mapped for the requester');
        try {
          return checkAccess(await deps.cloud.principalAccess(principal));
        } catch (error) {
          // Not an outage: the approver should read that the requester has no such principal.
          if (error instanceof NotFoundError)
            throw new Unanswerable(`the requester has no IAM ${principal.kind} named ${principal.name}`);
          throw error;
        }
      }),
      bounded(async () => {
        if (!deps.chat) throw new Unanswerable('Slack is switched off for this stage (slack.mode off)');
        return checkList<ChatMessage>(
          await deps.chat.recentMessages({
            terms: chatTerms(request, entitlement, options.chatTerms),
            authorEmail: email,
            since: daysBefore(now, options.chatWindowDays ?? 14),
          }),
        );
      }),
      bounded(async () => checkList<OnCallShift>(await deps.onCall.shiftsOf({ email: needEmail() }, now))),
      bounded(() => storedHistory(deps.store, request, entitlement, options)),
      bounded(() => countPeers(deps.directory, entitlement, directoryUser)),
    ]);

    const history: Sourced<History> =
      stored.status === 'ok'
        ? {
            status: 'ok',
            value: {
              ...stored.value,
              peers: peers.status === 'ok' ? peers.value : { total: 0, holding: 0, notCounted: peers.reason },
            },
          }
        : stored;

    const context: RequestContext = {
      request,
      entitlement,
      gatheredAt: deps.clock.now().toISOString(),
      directory,
      cloud,
      chat,
      onCall,
      history,
    };
    return deps.catalog ? { ...context, conflicts: findConflicts(deps.catalog, context) } : context;
  } finally {
    // A pending timer would keep a Lambda's event loop (and a test runner) alive.
    clearTimeout(timer);
  }
}

/** The Slack search terms: ticket key, entitlement id, the resource it grants, and any configured extras. */
export function chatTerms(
  request: AccessRequest,
  entitlement: Entitlement,
  extra: readonly string[] = [],
): string[] {
  const { action } = entitlement;
  const resources =
    action.kind === 'okta-group'
      ? [action.groupId]
      : action.kind === 'aws-identity-center'
        ? [action.permissionSetArn.slice(action.permissionSetArn.lastIndexOf('/') + 1), action.accountId]
        : action.policyArn !== undefined
          ? [policyNameOf(action.policyArn)]
          : (action.statements ?? [])
              .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
              .map(resourceName);
  const terms = [request.jiraIssueKey, entitlement.id, ...resources, ...extra]
    .map((t) => t.trim())
    .filter(Boolean);
  return [...new Set(terms)];
}

/** `arn:aws:s3:::example-log-archive/*` → `example-log-archive`: what people call the resource in chat. */
function resourceName(arn: string): string {
  const tail = arn.slice(arn.lastIndexOf(':') + 1);
  return tail.replace(/\/\*$/, '') || arn;
}

async function storedHistory(
  store: RequestStore,
  request: AccessRequest,
  entitlement: Entitlement,
  options: GatherOptions,
): Promise<Omit<History, 'peers'>> {
  const email = request.requester.email;
  const [mine, precedents, live] = await Promise.all([
    email === undefined
      ? Promise.resolve([])
      : store.listByRequester(email, { limit: options.requesterHistoryLimit ?? 25 }),
    store.listByEntitlement(entitlement.id, { limit: options.precedentLimit ?? 50, states: DECIDED_STATES }),
    // Separation of duties: everything the requester holds or may soon hold through loopgate.
    email === undefined
      ? Promise.resolve([])
      : store.listByRequester(email, { limit: LIVE_REQUEST_LIMIT, states: LIVE_STATES }),
  ]);
  const others = (list: AccessRequest[]) => checkList<AccessRequest>(list).filter((r) => r.id !== request.id);
  return {
    requesterRequests: others(mine),
    entitlementDecisions: others(precedents).filter((r) => DECIDED_STATES.includes(r.state)),
    liveRequests: others(live).filter((r) => LIVE_STATES.includes(r.state)),
  };
}

/**
 * Peers holding the entitlement. Counted for Okta groups only: one membership
 * read covers every peer. For IAM policies it would take one IAM read per peer,
 * too slow for triage, so only the number of peers is reported.
 */
async function countPeers(
  directory: Directory,
  entitlement: Entitlement,
  directoryUser: () => Promise<DirectoryUser>,
): Promise<PeerCount> {
  const peers = checkList<DirectoryUser>(await directory.peersOf(await directoryUser()));
  const { action } = entitlement;
  if (action.kind !== 'okta-group') {
    return {
      total: peers.length,
      holding: 0,
      notCounted: 'peers holding it are counted for Okta-group entitlements only',
    };
  }
  if (peers.length === 0) return { total: 0, holding: 0 };
  const members = await directory.groupMemberIds(action.groupId);
  if (!(members instanceof Set)) throw new Unanswerable('bad response');
  return { total: peers.length, holding: peers.filter((p) => members.has(p.id)).length };
}

async function settle<T>(work: () => Promise<T>): Promise<Sourced<T>> {
  try {
    return { status: 'ok', value: await work() };
  } catch (error) {
    return { status: 'unavailable', reason: failureReason(error) };
  }
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

// Adapters validate vendor payloads; these checks only make sure a broken
// adapter shows up as an unavailable source instead of a crash further on.
function checkList<T>(value: unknown): T[] {
  if (!Array.isArray(value)) throw new Unanswerable('bad response');
  return value as T[];
}

function checkProfile(profile: DirectoryProfile): DirectoryProfile {
  const ok =
    typeof profile?.user?.id === 'string' &&
    typeof profile.user.status === 'string' &&
    Array.isArray(profile.groups) &&
    Array.isArray(profile.factors) &&
    Array.isArray(profile.signIns);
  if (!ok) throw new Unanswerable('bad response');
  return profile;
}

function checkAccess(access: PrincipalAccess): PrincipalAccess {
  const ok =
    typeof access?.principal?.name === 'string' &&
    Array.isArray(access.attachedPolicies) &&
    Array.isArray(access.inlinePolicies) &&
    Array.isArray(access.groups) &&
    Array.isArray(access.lastAccessed);
  if (!ok) throw new Unanswerable('bad response');
  return access;
}
