// Facts computed from the gathered context that both the evidence lines and the
// risk signals rest on. Keeping them in one place means a signal can never
// disagree with the evidence it cites.

import type { Entitlement } from '../catalog';
import type { ChatMessage, DirectoryProfile, History, MfaFactor, PrincipalAccess, SignIn } from '../context';
import type { AccessRequest, RequestState } from '../model';

const DAY_MS = 86_400_000;

/** Sign-ins this recent are compared with the earlier part of the window. */
export const NEW_COUNTRY_DAYS = 7;
/** Accounts younger than this are new. */
export const NEW_ACCOUNT_DAYS = 14;
/** Denials of the same entitlement this recent are flagged. */
export const RECENT_DENIAL_DAYS = 30;
/** Fewer successful sign-ins than this say nothing about someone's usual hours. */
export const MIN_SIGN_INS_FOR_HOURS = 5;
/** An hour of day is usual when at least this many sign-ins fell in it: one odd sign-in does not make a habit. */
export const MIN_SIGN_INS_PER_USUAL_HOUR = 2;
/** Fewer decided precedents than this say nothing about the usual duration; the catalog default is the yardstick then. */
export const MIN_PRECEDENTS = 3;
/** The percentile of precedent durations above which a duration is unusual. */
export const DURATION_PERCENTILE = 80;

const APPROVED_STATES: readonly RequestState[] = ['APPROVED', 'GRANTED', 'REVOKED', 'FAILED'];
export const DECIDED_STATES: readonly RequestState[] = [...APPROVED_STATES, 'DENIED'];

export const isApproved = (request: AccessRequest) => APPROVED_STATES.includes(request.state);
export const isDenied = (request: AccessRequest) => request.state === 'DENIED';

export function ageDays(iso: string, now: Date): number | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : Math.floor((now.getTime() - ms) / DAY_MS);
}

// --- directory -----------------------------------------------------------------

export function activeFactors(profile: DirectoryProfile): MfaFactor[] {
  return profile.factors.filter((f) => f.status.toUpperCase() === 'ACTIVE');
}

const isSuccess = (s: SignIn) => s.outcome.toUpperCase() === 'SUCCESS';

export interface NewCountry {
  country: string;
  /** The first sign-in from there in the recent part of the window. */
  first: SignIn;
}

export interface SignInSummary {
  successes: SignIn[];
  failures: number;
  /** Country → successful sign-ins, most used first. */
  countries: [string, number][];
  /** Countries signed in from in the last NEW_COUNTRY_DAYS that the earlier part of the window never saw. */
  newCountries: NewCountry[];
  /** Countries of the earlier part of the window; empty when there is no earlier sign-in to compare with. */
  earlierCountries: string[];
  /** Hours of day (UTC) within an hour of an hour with 2+ successful sign-ins; undefined with too few sign-ins to tell. */
  usualHours: Set<number> | undefined;
}

export function summariseSignIns(profile: DirectoryProfile, before: Date, now: Date): SignInSummary {
  const timed = profile.signIns.filter((s) => !Number.isNaN(Date.parse(s.at)));
  const successes = timed.filter(isSuccess).sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const counts = new Map<string, number>();
  for (const s of successes) if (s.country) counts.set(s.country, (counts.get(s.country) ?? 0) + 1);
  const countries = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

  const recentSince = now.getTime() - NEW_COUNTRY_DAYS * DAY_MS;
  const earlier = new Set(
    successes.filter((s) => Date.parse(s.at) < recentSince && s.country).map((s) => s.country as string),
  );
  const newCountries: NewCountry[] = [];
  if (earlier.size > 0) {
    // Oldest first, so `first` is the first sign-in from the new country.
    for (const s of [...successes].reverse()) {
      if (Date.parse(s.at) < recentSince || !s.country || earlier.has(s.country)) continue;
      if (!newCountries.some((n) => n.country === s.country))
        newCountries.push({ country: s.country, first: s });
    }
  }

  const beforeRequest = successes.filter((s) => Date.parse(s.at) < before.getTime());
  let usualHours: Set<number> | undefined;
  if (beforeRequest.length >= MIN_SIGN_INS_FOR_HOURS) {
    const perHour = new Map<number, number>();
    for (const s of beforeRequest) {
      const hour = new Date(s.at).getUTCHours();
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
    }
    usualHours = new Set();
    for (const [hour, count] of perHour) {
      if (count < MIN_SIGN_INS_PER_USUAL_HOUR) continue;
      for (const h of [hour - 1, hour, hour + 1]) usualHours.add((h + 24) % 24);
    }
  }

  return {
    successes,
    failures: timed.length - successes.length,
    countries,
    newCountries,
    earlierCountries: [...earlier].sort(),
    usualHours,
  };
}

/** `08:00–18:59, 22:00–23:59` for a set of hours of day. */
export function formatHours(hours: Set<number>): string {
  const ranges: string[] = [];
  let start: number | undefined;
  for (let h = 0; h <= 24; h += 1) {
    if (h < 24 && hours.has(h)) start ??= h;
    else if (start !== undefined) {
      ranges.push(`${pad(start)}:00–${pad(h - 1)}:59`);
      start = undefined;
    }
  }
  return ranges.join(', ');
}

const pad = (n: number) => String(n).padStart(2, '0');

// --- what the requester already holds ---------------------------------------------

export type Holding =
  | { held: true; how: string }
  | { held: false }
  /** The source that would tell did not answer, or the entitlement is not of a kind it can tell. */
  | undefined;

export function oktaGroupHeld(entitlement: Entitlement, profile: DirectoryProfile): Holding {
  if (entitlement.action.kind !== 'okta-group') return undefined;
  const { groupId } = entitlement.action;
  const group = profile.groups.find((g) => g.id === groupId);
  return group ? { held: true, how: `member of Okta group ${group.name} (${group.id})` } : { held: false };
}

export function iamPolicyHeld(entitlement: Entitlement, access: PrincipalAccess): Holding {
  const { action } = entitlement;
  if (action.kind !== 'aws-iam-policy') return undefined;
  if (action.policyArn !== undefined) {
    const arn = action.policyArn;
    const name = policyNameOf(arn);
    const matches = (p: { name: string; arn?: string }) => (p.arn ? p.arn === arn : p.name === name);
    if (access.attachedPolicies.some(matches)) return { held: true, how: `${name} attached directly` };
    const group = access.groups.find((g) => g.attachedPolicies.some(matches));
    return group ? { held: true, how: `${name} attached through group ${group.name}` } : { held: false };
  }
  const wanted = (action.statements ?? []).filter((s) => s.Effect === 'Allow');
  const inline = access.inlinePolicies.find((p) => wanted.every((s) => statementCovered(s, p.document)));
  return inline && wanted.length > 0
    ? { held: true, how: `inline policy ${inline.name} already allows the catalog's statements` }
    : { held: false };
}

export function policyNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

type StatementLike = { Effect: string; Action: string | string[]; Resource: string | string[] };

const asList = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string')
      : [];

/** Whether an inline policy document (JSON text, URL-encoded as IAM returns it, or parsed) allows every action on every resource of `wanted`. */
function statementCovered(wanted: StatementLike, document: unknown): boolean {
  const statements = documentStatements(document);
  const actions = asList(wanted.Action);
  const resources = asList(wanted.Resource);
  return statements.some((s) => {
    if (s === null || typeof s !== 'object') return false;
    const st = s as Record<string, unknown>;
    const have = { actions: asList(st.Action), resources: asList(st.Resource) };
    return (
      st.Effect === 'Allow' &&
      actions.every((a) => have.actions.includes(a)) &&
      resources.every((r) => have.resources.includes(r))
    );
  });
}

function documentStatements(document: unknown): unknown[] {
  const doc = typeof document === 'string' ? parseJson(document) : document;
  if (doc === null || typeof doc !== 'object') return [];
  const statement = (doc as { Statement?: unknown }).Statement;
  return Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
}

function parseJson(text: string): unknown {
  for (const candidate of [() => text, () => decodeURIComponent(text)]) {
    try {
      return JSON.parse(candidate());
    } catch {
      // Not this encoding; try the next.
    }
  }
  return undefined;
}

// --- history ---------------------------------------------------------------------

export interface PrecedentStats {
  count: number;
  approved: number;
  denied: number;
  /** Durations in seconds, ascending. */
  durations: number[];
  median?: number;
  percentile?: number;
  longest?: number;
}

export function precedentStats(history: History): PrecedentStats {
  const decided = history.entitlementDecisions;
  const durations = decided.map((r) => r.durationSeconds).sort((a, b) => a - b);
  return {
    count: decided.length,
    approved: decided.filter(isApproved).length,
    denied: decided.filter(isDenied).length,
    durations,
    median: nearestRank(durations, 50),
    percentile: nearestRank(durations, DURATION_PERCENTILE),
    longest: durations.at(-1),
  };
}

/** The nearest-rank percentile of ascending values; undefined for none. */
export function nearestRank(ascending: readonly number[], p: number): number | undefined {
  if (ascending.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * ascending.length));
  return ascending[rank - 1];
}

/** What duration counts as usual for this entitlement, and why. */
export function usualDuration(
  stats: PrecedentStats,
  entitlement: Entitlement,
): { seconds: number; basis: string } {
  if (stats.count >= MIN_PRECEDENTS && stats.percentile !== undefined) {
    return {
      seconds: stats.percentile,
      basis: `the ${DURATION_PERCENTILE}th percentile of ${stats.count} decided requests`,
    };
  }
  return {
    seconds: entitlement.duration.default,
    basis: `the catalog default (fewer than ${MIN_PRECEDENTS} decided requests to compare with)`,
  };
}

/** When a request was denied: the denying decision's time, else its last update. */
export function deniedAt(request: AccessRequest): string {
  return request.decisions.find((d) => d.outcome === 'deny')?.decidedAt ?? request.updatedAt;
}

/** The requester's denials of the same entitlement within RECENT_DENIAL_DAYS, newest first. */
export function recentDenials(history: History, entitlementId: string, now: Date): AccessRequest[] {
  const since = now.getTime() - RECENT_DENIAL_DAYS * DAY_MS;
  return history.requesterRequests.filter(
    (r) => r.entitlementId === entitlementId && isDenied(r) && Date.parse(deniedAt(r)) >= since,
  );
}

// --- chat --------------------------------------------------------------------------

/** Newest first, ties by channel and text so the order never depends on the source's. */
export function sortMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  return [...messages].sort(
    (a, b) =>
      (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0) ||
      a.channelId.localeCompare(b.channelId) ||
      a.text.localeCompare(b.text),
  );
}
