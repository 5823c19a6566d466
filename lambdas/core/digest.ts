// The owners' digest: once a period (weekly unless the catalog says daily),
// each entitlement with `digest: { channel }` gets a few lines in that Slack
// channel: who holds it through loopgate now and until when, how often each
// person was granted it and extended it in the period, how many requests were
// denied, and which repeated grants look like standing access worth a second
// look. Nothing is posted when there is nothing to say. It is a suggestion:
// nothing is removed because of it. Each channel's digest is posted at most
// once a period, even when the run is retried: the post is claimed in the
// table first (a delivery claim keyed by channel and period), and a digest is
// only attempted in the first day of its period, well inside the claim's life.
// IAM last-accessed is not in it: the context that has it is gathered per
// request at triage, not kept per holder.

import type { Catalog, Entitlement } from './catalog';
import type { AccessRequest } from './model';
import type { ChatPoster, Clock, RequestStore } from './ports';
import { minute } from './triage/text';

export interface DigestDeps {
  store: Pick<
    RequestStore,
    'listByEntitlement' | 'listAuditEvents' | 'claimDelivery' | 'completeDelivery' | 'releaseDelivery'
  >;
  catalog: Catalog;
  chat: ChatPoster;
  clock: Clock;
}

export interface DigestReport {
  /** Channels a digest was posted to in this run. */
  posted: string[];
  /** Channels with nothing to say. */
  empty: string[];
  /** Channels already posted to this period (or being posted by another run). */
  already: string[];
  errors: { channel: string; error: string }[];
}

const DAY_MS = 86_400_000;
/** Requests read per entitlement: more than a week of requests for one entitlement is not a digest. */
const LIMIT = 200;
/** Granted this many times in a period: a standing need worth a second look. */
const REPEATED = 2;

/** The period `at` falls in: weeks start on Monday 00:00 UTC, days at 00:00 UTC. */
export function periodOf(at: Date, period: 'weekly' | 'daily'): { key: string; start: Date; end: Date } {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const start = period === 'daily' ? day : day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
  const end = start + (period === 'daily' ? 1 : 7) * DAY_MS;
  const key = `${period}:${new Date(start).toISOString().slice(0, 10)}`;
  return { key, start: new Date(start), end: new Date(end) };
}

/** Posts each channel's digest for the period now falls in, once. Due only in the period's first day. */
export async function sendDigests(deps: DigestDeps): Promise<DigestReport> {
  const report: DigestReport = { posted: [], empty: [], already: [], errors: [] };
  const now = deps.clock.now();
  const byChannel = new Map<string, { entitlements: Entitlement[]; period: 'weekly' | 'daily' }>();
  for (const e of deps.catalog.entitlements) {
    if (!e.digest) continue;
    const key = `${e.digest.channel}\n${e.digest.period}`;
    const group = byChannel.get(key) ?? { entitlements: [], period: e.digest.period };
    group.entitlements.push(e);
    byChannel.set(key, group);
  }
  for (const [key, group] of byChannel) {
    const channel = key.split('\n')[0] as string;
    const current = periodOf(now, group.period);
    if (now.getTime() - current.start.getTime() >= DAY_MS) continue; // not due: the first day is past
    // The digest covers the period that just ended.
    const covered = periodOf(new Date(current.start.getTime() - 1), group.period);
    try {
      const sections: string[] = [];
      for (const e of group.entitlements) {
        const section = await entitlementSection(deps, e, covered.start, covered.end);
        if (section) sections.push(section);
      }
      if (!sections.length) {
        report.empty.push(channel);
        continue;
      }
      const claim = await deps.store.claimDelivery('digest', `${channel}#${covered.key}`);
      if (claim.status !== 'claimed') {
        report.already.push(channel);
        continue;
      }
      try {
        const heading = `loopgate digest for ${covered.start.toISOString().slice(0, 10)} to ${new Date(covered.end.getTime() - 1).toISOString().slice(0, 10)} (a suggestion: loopgate removes nothing because of it)`;
        await deps.chat.post(channel, [heading, ...sections].join('\n\n'));
      } catch (error) {
        await deps.store.releaseDelivery('digest', `${channel}#${covered.key}`, claim.token);
        throw error;
      }
      await deps.store.completeDelivery('digest', `${channel}#${covered.key}`, claim.token);
      report.posted.push(channel);
    } catch (error) {
      report.errors.push({ channel, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}

/** One entitlement's lines, or undefined when nothing happened and nobody holds it. */
async function entitlementSection(
  deps: DigestDeps,
  entitlement: Entitlement,
  start: Date,
  end: Date,
): Promise<string | undefined> {
  const requests = await deps.store.listByEntitlement(entitlement.id, { limit: LIMIT });
  const inPeriod = (at: string | undefined) =>
    at !== undefined && Date.parse(at) >= start.getTime() && Date.parse(at) < end.getTime();
  const holding = requests.filter((r) => r.state === 'GRANTED' && r.grant);
  const granted = requests.filter((r) => r.grant && inPeriod(r.grant.grantedAt));
  const denied = requests.filter((r) => r.state === 'DENIED' && inPeriod(r.updatedAt));
  if (!holding.length && !granted.length && !denied.length) return undefined;

  const who = (r: AccessRequest) => r.requester.email ?? r.requester.jiraAccountId;
  const personOf = (r: AccessRequest) => r.requester.directoryUserId ?? r.requester.jiraAccountId;
  const perPerson = new Map<string, { name: string; grants: number; hours: number; extensions: number }>();
  for (const r of granted) {
    const row = perPerson.get(personOf(r)) ?? { name: who(r), grants: 0, hours: 0, extensions: 0 };
    row.grants += 1;
    const grant = r.grant as NonNullable<AccessRequest['grant']>;
    row.hours += (Date.parse(grant.expiresAt) - Date.parse(grant.grantedAt)) / 3_600_000;
    const trail = await deps.store.listAuditEvents(r.id);
    row.extensions += trail.filter((e) => e.evidence?.command === 'extend').length;
    perPerson.set(personOf(r), row);
  }
  const lines = [`*${entitlement.id}* (${entitlement.riskTier} risk)`];
  lines.push(
    holding.length
      ? `Held now through loopgate: ${holding.map((r) => `${who(r)} until ${minute(r.grant?.expiresAt)} (${r.jiraIssueKey})`).join('; ')}`
      : 'Held now through loopgate: nobody',
  );
  if (perPerson.size) {
    lines.push(
      `Granted this period: ${[...perPerson.values()]
        .map(
          (p) =>
            `${p.name} ${p.grants}× for ${Math.round(p.hours)}h in all${p.extensions ? `, extended ${p.extensions}×` : ''}`,
        )
        .join('; ')}`,
    );
  }
  if (denied.length) lines.push(`Denied this period: ${denied.length}`);
  const repeated = [...perPerson.values()].filter((p) => p.grants >= REPEATED);
  if (repeated.length) {
    lines.push(
      `Worth a second look: ${repeated.map((p) => p.name).join(', ')} asked ${REPEATED} or more times: a standing need may deserve a narrower, permanent path; if not, let the grants lapse.`,
    );
  }
  return lines.join('\n');
}
