// What triage gathers about a request before anyone is paged: the facts each
// outside source reports (typed, vendor-neutral), whether each source
// answered, and the evidence and risk signals derived from them.

import type { Entitlement } from './catalog';
import type { AccessRequest, ConflictHold } from './model';

// --- facts, as the ports return them ------------------------------------------

export interface DirectoryUser {
  id: string;
  login: string;
  email: string;
  /** Okta's status: ACTIVE, SUSPENDED, DEPROVISIONED, LOCKED_OUT, … */
  status: string;
  displayName: string;
  title?: string;
  department?: string;
  /** The manager's directory id, when the profile names one. */
  managerId?: string;
  createdAt: string;
}

export interface MfaFactor {
  /** Okta factor type: push, token:software:totp, webauthn, sms, … */
  type: string;
  provider?: string;
  status: string;
}

export interface SignIn {
  at: string;
  outcome: string;
  country?: string;
  city?: string;
  device?: string;
  ip?: string;
}

export interface DirectoryProfile {
  user: DirectoryUser;
  manager?: DirectoryUser;
  groups: { id: string; name: string }[];
  factors: MfaFactor[];
  /** Sign-ins in the window asked for, newest first. */
  signIns: SignIn[];
}

export interface IamPolicyRef {
  name: string;
  arn?: string;
}

export interface PrincipalAccess {
  principal: { kind: 'user' | 'role'; name: string; arn: string };
  attachedPolicies: IamPolicyRef[];
  inlinePolicies: { name: string; document: unknown }[];
  groups: { name: string; attachedPolicies: IamPolicyRef[] }[];
  /** Services the principal used, most recent first; `lastAuthenticated` absent when never used. */
  lastAccessed: { service: string; namespace: string; lastAuthenticated?: string }[];
  /** Why the last-accessed report is missing (IAM's job too slow, failed, refused); `lastAccessed` is then empty. */
  lastAccessedUnavailable?: string;
}

export interface ChatMessage {
  channelId: string;
  channelName?: string;
  authorId?: string;
  authorName?: string;
  text: string;
  at: string;
  permalink?: string;
}

export interface OnCallShift {
  escalationPolicyId: string;
  escalationPolicyName?: string;
  scheduleId?: string;
  level: number;
  /** Absent for a permanent place in the policy (a user targeted directly). */
  start?: string;
  end?: string;
}

export interface TrackerUser {
  accountId: string;
  displayName: string;
  /** Hidden by the user's privacy settings unless the caller may see it. */
  email?: string;
  active: boolean;
}

export interface History {
  /** The requester's earlier requests, newest first. */
  requesterRequests: AccessRequest[];
  /** Earlier requests for this entitlement that were decided, newest first. */
  entitlementDecisions: AccessRequest[];
  /** The requester's requests that hold or may soon hold access (conflict.ts LIVE_STATES); absent when not read. */
  liveRequests?: AccessRequest[];
  /** The requester's peers (same manager or same department) and how many of them hold the entitlement now. */
  peers: {
    total: number;
    holding: number;
    /** Set when `holding` could not be counted, saying why; `holding` is then 0 (and `total` too if the peers could not be listed). */
    notCounted?: string;
  };
}

/** A source either answered or did not; a failure is a fact the approver sees, never a reason to stall. */
export type Sourced<T> = { status: 'ok'; value: T } | { status: 'unavailable'; reason: string };

export interface RequestContext {
  request: AccessRequest;
  entitlement: Entitlement;
  gatheredAt: string;
  directory: Sourced<DirectoryProfile>;
  cloud: Sourced<PrincipalAccess>;
  chat: Sourced<ChatMessage[]>;
  onCall: Sourced<OnCallShift[]>;
  history: Sourced<History>;
  /** Separation-of-duties conflicts the request meets (read when the catalog was given). */
  conflicts?: ConflictHold[];
}

// --- what the approver and the model see -------------------------------------

export type EvidenceSource =
  'request' | 'okta' | 'iam' | 'slack' | 'pagerduty' | 'history' | 'catalog' | 'policy';

export interface Evidence {
  /** Stable within a bundle: E1, E2, … in the order built. */
  id: string;
  source: EvidenceSource;
  /** One line, plain text. */
  statement: string;
  link?: string;
  at?: string;
  /** Lower comes first when the token budget forces a cut. */
  priority: number;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface Signal {
  /** Stable name, e.g. `account-not-active`, `new-country-sign-in`. */
  id: string;
  severity: Severity;
  explanation: string;
  /** Evidence ids the signal rests on. */
  evidence: string[];
}

export interface PolicyExcerpt {
  /** Stable across runs for the same policy text, e.g. `access-policy#3.1`. */
  id: string;
  file: string;
  heading: string;
  text: string;
  score: number;
}

export interface EvidenceBundle {
  evidence: Evidence[];
  signals: Signal[];
  policy: PolicyExcerpt[];
  /** The bundle as the approver and the model read it, within the token budget. */
  rendered: string;
  tokens: number;
  /** Evidence ids left out to fit the budget. */
  cut: string[];
  /** The signals (by id) and policy excerpts (by id) that fit the budget. */
  kept: { signals: string[]; policy: string[] };
}
