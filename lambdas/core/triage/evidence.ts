// Turns the gathered context into evidence: one-line, plain-text facts with
// stable ids (E1, E2, … in priority order), each naming its source, and a link
// and time where there is one. What the requester or anyone else wrote is
// quoted and flattened to one line: it is data, never instructions.

import type { Entitlement } from '../catalog';
import { sessionCaveat } from '../identity-center';
import type {
  ChatMessage,
  DirectoryProfile,
  Evidence,
  EvidenceSource,
  History,
  OnCallShift,
  PrincipalAccess,
  RequestContext,
} from '../context';
import type { AccessRequest } from '../model';
import { onCallLevels, onCallVerdict } from '../on-call';
import {
  activeFactors,
  ageDays,
  deniedAt,
  formatHours,
  iamPolicyHeld,
  isApproved,
  isDenied,
  oktaGroupHeld,
  precedentStats,
  recentDenials,
  sortMessages,
  summariseSignIns,
} from './facts';
import { chatTerms } from './gather';
import { findInstructions } from './instructions';
import { day, duration, hiddenText, listed, minute, oneLine, plural, quoted, safeLink } from './text';

/** Evidence with the name of the fact it states, so signals can cite it without parsing statements. */
export interface TriageEvidence extends Evidence {
  /** e.g. `request`, `okta.account`, `okta.new-country:Portugal`, `history.denial:<id>`, `unavailable:okta`. */
  key: string;
}

export interface EvidenceLinks {
  /** `https://example.atlassian.net`: links each request fact to its Jira issue. */
  jiraBaseUrl?: string;
  /** `https://example-admin.okta.com`: links the account fact to the user in the Okta admin console. */
  oktaAdminUrl?: string;
}

/**
 * Priorities: lower comes first on the page and is cut last. Request facts and
 * the account come first, then what is missing, identity hygiene, history and
 * on-call; IAM detail after; chat chatter last (newest message first).
 */
export const PRIORITY = {
  request: 0,
  justification: 1,
  catalog: 2,
  conflict: 3,
  unavailable: 5,
  account: 10,
  holds: 12,
  mfa: 14,
  newCountry: 15,
  signIns: 16,
  denial: 20,
  precedents: 22,
  peers: 24,
  requesterHistory: 26,
  onCall: 30,
  iam: 40,
  chatNone: 80,
  chat: 90,
} as const;

const MAX_CHAT_MESSAGES = 8;
const MAX_DENIALS = 3;

type Draft = Omit<TriageEvidence, 'id'>;

export function buildEvidence(
  context: RequestContext,
  now: Date,
  links: EvidenceLinks = {},
): TriageEvidence[] {
  const { request, entitlement } = context;
  const drafts: Draft[] = [];
  const add = (draft: Draft) => drafts.push(draft);
  const jiraLink = issueLink(links, request.jiraIssueKey);

  add(requestFact(request, jiraLink));
  add({
    key: 'justification',
    source: 'request',
    statement: `Justification, in the requester's words: ${quoted(request.justification, 400)}${hiddenNote(request.justification)}`,
    link: jiraLink,
    priority: PRIORITY.justification,
  });
  add(catalogFact(entitlement));
  for (const conflict of context.conflicts ?? []) {
    add({
      key: `conflict:${conflict.id}`,
      source: 'catalog',
      statement:
        `Separation of duties, conflict ${conflict.id}: ${oneLine(conflict.reason, 200)}` +
        (conflict.held.length
          ? ` The requester holds: ${listed(
              conflict.held.map((h) => oneLine(h, 160)),
              5,
            )}.`
          : '') +
        (conflict.unchecked.length
          ? ` Not checked: ${listed(
              conflict.unchecked.map((u) => oneLine(u, 160)),
              5,
            )}.`
          : ''),
      priority: PRIORITY.conflict,
    });
  }

  const sources: [
    keyof Pick<RequestContext, 'directory' | 'cloud' | 'chat' | 'onCall' | 'history'>,
    EvidenceSource,
    string,
    string,
  ][] = [
    ['directory', 'okta', 'Okta', 'account status, groups, MFA and sign-ins are unknown'],
    ['cloud', 'iam', 'AWS IAM', 'current IAM permissions are unknown'],
    ['chat', 'slack', 'Slack', 'recent chat is unknown'],
    ['onCall', 'pagerduty', 'PagerDuty', 'on-call status is unknown'],
    ['history', 'history', 'Request history', 'earlier requests, precedents and peers are unknown'],
  ];
  for (const [field, source, name, consequence] of sources) {
    const sourced = context[field];
    if (sourced.status === 'unavailable') {
      add({
        key: `unavailable:${source}`,
        source,
        statement: `${name} unavailable: ${oneLine(sourced.reason, 120)}; ${consequence}.`,
        priority: PRIORITY.unavailable,
      });
    }
  }

  if (context.directory.status === 'ok')
    directoryFacts(context.directory.value, context, now, links).forEach(add);
  if (context.cloud.status === 'ok') iamFacts(context.cloud.value, entitlement).forEach(add);
  if (context.history.status === 'ok')
    historyFacts(context.history.value, request, entitlement, now, links).forEach(add);
  if (context.onCall.status === 'ok') add(onCallFact(context.onCall.value, entitlement, now));
  if (context.chat.status === 'ok') chatFacts(context.chat.value, context).forEach(add);

  // Array.prototype.sort is stable: equal priorities keep the order they were added in.
  return drafts
    .sort((a, b) => a.priority - b.priority)
    .map((draft, i) => ({ id: `E${i + 1}`, ...draft, at: isoTime(draft.at) }));
}

/** Times come from vendors: keep only what parses, written one way. */
function isoTime(text: string | undefined): string | undefined {
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** What a person reading the Jira page did not see as written: instructions go there. */
function hiddenNote(justification: string): string {
  const notes = hiddenText(justification);
  const encoded = [
    ...new Set(findInstructions(justification).flatMap((m) => (m.encoding === 'plain' ? [] : [m.encoding]))),
  ];
  if (encoded.length > 0) notes.push(`text encoded as ${encoded.join(', ')} that decodes to an instruction`);
  return notes.length > 0
    ? ` (on the Jira page: ${notes.join('; ')}; ⟪…⟫ marks what the page hid or framed)`
    : '';
}

function requestFact(request: AccessRequest, link: string | undefined): Draft {
  const who = request.requester.displayName
    ? `${oneLine(request.requester.displayName, 80)} <${request.requester.email ?? 'email unknown'}>`
    : (request.requester.email ?? `Jira user ${request.requester.jiraAccountId} (email unknown)`);
  return {
    key: 'request',
    source: 'request',
    statement:
      `${request.jiraIssueKey}: ${oneLine(who, 160)} asks for ${request.entitlementId} for ${duration(request.durationSeconds)}` +
      `${request.breakGlass ? ', as break-glass (granted at once, reviewed after)' : ''}; filed ${minute(request.createdAt)}.`,
    link,
    at: request.createdAt,
    priority: PRIORITY.request,
  };
}

function catalogFact(entitlement: Entitlement): Draft {
  const { action } = entitlement;
  const grants =
    action.kind === 'okta-group'
      ? `Okta group ${action.groupId}`
      : action.kind === 'aws-identity-center'
        ? `IAM Identity Center permission set ${action.permissionSetArn} on AWS account ${action.accountId} (${sessionCaveat(action.sessionDuration)})`
        : action.policyArn !== undefined
          ? `IAM policy ${action.policyArn} on the requester's IAM ${action.principalType}`
          : `an inline IAM policy on the requester's IAM ${action.principalType}`;
  return {
    key: 'catalog',
    source: 'catalog',
    statement:
      `${entitlement.id}: ${oneLine(entitlement.description, 200)} Grants ${grants}; risk tier ${entitlement.riskTier}; ` +
      `mode ${entitlement.mode}; default ${duration(entitlement.duration.default)}, max ${duration(entitlement.duration.max)}; ` +
      `${plural(entitlement.approvalsRequired, 'approval')} required.`,
    priority: PRIORITY.catalog,
  };
}

function directoryFacts(
  profile: DirectoryProfile,
  context: RequestContext,
  now: Date,
  links: EvidenceLinks,
): Draft[] {
  const { user } = profile;
  const facts: Draft[] = [];
  const age = ageDays(user.createdAt, now);
  const role = [
    user.title && `title ${oneLine(user.title, 60)}`,
    user.department && `department ${oneLine(user.department, 60)}`,
  ]
    .filter(Boolean)
    .join(', ');
  const manager = profile.manager
    ? `manager ${oneLine(profile.manager.displayName, 60)} <${oneLine(profile.manager.email, 80)}>`
    : 'no manager on the profile';
  facts.push({
    key: 'okta.account',
    source: 'okta',
    statement:
      `Okta account ${oneLine(user.login, 80)} (${oneLine(user.displayName, 60)}) is ${oneLine(user.status, 30)}; ` +
      `created ${day(user.createdAt)}${age === undefined ? '' : ` (${plural(age, 'day')} ago)`}` +
      `${role ? `; ${role}` : ''}; ${manager}.`,
    link: links.oktaAdminUrl
      ? `${trimSlash(links.oktaAdminUrl)}/admin/user/profile/view/${encodeURIComponent(user.id)}`
      : undefined,
    at: user.createdAt,
    priority: PRIORITY.account,
  });

  const held = oktaGroupHeld(context.entitlement, profile);
  const groups = `Okta groups (${profile.groups.length}): ${
    listed(
      profile.groups.map((g) => oneLine(g.name, 40)),
      10,
    ) || 'none'
  }.`;
  if (held !== undefined) {
    facts.push({
      key: 'okta.holds',
      source: 'okta',
      statement: held.held
        ? `Already holds it: ${held.how}. ${groups}`
        : `Not yet a member of the Okta group ${context.entitlement.action.kind === 'okta-group' ? context.entitlement.action.groupId : ''} it grants. ${groups}`,
      priority: PRIORITY.holds,
    });
  } else {
    facts.push({ key: 'okta.groups', source: 'okta', statement: groups, priority: PRIORITY.holds });
  }

  const active = activeFactors(profile);
  facts.push({
    key: 'okta.mfa',
    source: 'okta',
    statement:
      active.length > 0
        ? `MFA factors enrolled and active: ${listed(
            active.map((f) => oneLine(f.provider ? `${f.type} (${f.provider})` : f.type, 50)),
            6,
          )}.`
        : `No active MFA factor enrolled${profile.factors.length > 0 ? ` (${plural(profile.factors.length, 'inactive factor')})` : ''}.`,
    priority: PRIORITY.mfa,
  });

  const summary = summariseSignIns(profile, new Date(context.request.createdAt), now);
  for (const { country, first } of summary.newCountries) {
    facts.push({
      key: `okta.new-country:${country}`,
      source: 'okta',
      statement:
        `Sign-in from ${oneLine(country, 40)}${first.city ? ` (${oneLine(first.city, 40)})` : ''} at ${minute(first.at)}` +
        `${first.device ? ` on ${oneLine(first.device, 60)}` : ''}; earlier sign-ins in the window only from ${listed(
          summary.earlierCountries.map((c) => oneLine(c, 40)),
          5,
        )}.`,
      at: first.at,
      priority: PRIORITY.newCountry,
    });
  }
  const oldest = summary.successes.at(-1)?.at;
  facts.push({
    key: 'okta.sign-ins',
    source: 'okta',
    statement:
      summary.successes.length === 0
        ? `No successful Okta sign-in in the window read${summary.failures ? ` (${plural(summary.failures, 'failed attempt')})` : ''}.`
        : `Okta sign-ins read: ${summary.successes.length} successful${summary.failures ? `, ${summary.failures} failed` : ''}` +
          ` since ${day(oldest)}; latest ${minute(summary.successes[0]?.at)}; ` +
          `countries: ${
            listed(
              summary.countries.map(([c, n]) => `${oneLine(c, 40)} (${n})`),
              5,
            ) || 'unknown'
          }` +
          `${summary.usualHours ? `; usual hours ${formatHours(summary.usualHours)} UTC` : ''}.`,
    at: summary.successes[0]?.at,
    priority: PRIORITY.signIns,
  });
  return facts;
}

function iamFacts(access: PrincipalAccess, entitlement: Entitlement): Draft[] {
  const facts: Draft[] = [];
  const who = `IAM ${access.principal.kind} ${oneLine(access.principal.name, 80)}`;
  const held = iamPolicyHeld(entitlement, access);
  if (held !== undefined) {
    facts.push({
      key: 'iam.holds',
      source: 'iam',
      statement: held.held
        ? `Already holds it: ${who} has ${held.how}.`
        : `${who} does not hold what ${entitlement.id} grants yet.`,
      priority: PRIORITY.holds,
    });
  }
  const names = (ps: { name: string }[]) => ps.map((p) => oneLine(p.name, 60));
  const used = access.lastAccessed.filter((s) => s.lastAuthenticated !== undefined);
  facts.push({
    key: 'iam.summary',
    source: 'iam',
    statement:
      `${who}: attached policies ${listed(names(access.attachedPolicies), 6) || 'none'}; ` +
      `inline policies ${listed(names(access.inlinePolicies), 4) || 'none'}; ` +
      `groups ${
        listed(
          access.groups.map(
            (g) =>
              `${oneLine(g.name, 40)}${g.attachedPolicies.length ? ` (${listed(names(g.attachedPolicies), 3)})` : ''}`,
          ),
          4,
        ) || 'none'
      }; ` +
      `services used: ${
        access.lastAccessedUnavailable !== undefined
          ? `unknown (${oneLine(access.lastAccessedUnavailable, 80)})`
          : listed(
              used.map((s) => `${oneLine(s.namespace, 30)} ${day(s.lastAuthenticated)}`),
              5,
            ) || 'none recorded'
      }.`,
    priority: PRIORITY.iam,
  });
  return facts;
}

function historyFacts(
  history: History,
  request: AccessRequest,
  entitlement: Entitlement,
  now: Date,
  links: EvidenceLinks,
): Draft[] {
  const facts: Draft[] = [];
  for (const denied of recentDenials(history, entitlement.id, now).slice(0, MAX_DENIALS)) {
    const decision = denied.decisions.find((d) => d.outcome === 'deny');
    facts.push({
      key: `history.denial:${denied.id}`,
      source: 'history',
      statement:
        `${denied.jiraIssueKey}, the same requester's request for ${entitlement.id} (${duration(denied.durationSeconds)}), ` +
        `was denied ${minute(deniedAt(denied))}${decision ? ` by ${oneLine(decision.actor.id, 80)}` : ''}` +
        `${decision?.comment ? `: ${quoted(decision.comment, 160)}` : ''}.`,
      link: issueLink(links, denied.jiraIssueKey),
      at: deniedAt(denied),
      priority: PRIORITY.denial,
    });
  }

  const stats = precedentStats(history);
  facts.push({
    key: 'history.precedents',
    source: 'history',
    statement:
      stats.count === 0
        ? `No earlier decided requests for ${entitlement.id} (catalog default ${duration(entitlement.duration.default)}).`
        : `Earlier decided requests for ${entitlement.id}: ${stats.count} (${stats.approved} approved, ${stats.denied} denied); ` +
          `durations: median ${duration(stats.median ?? 0)}, 80th percentile ${duration(stats.percentile ?? 0)}, ` +
          `longest ${duration(stats.longest ?? 0)}; this request: ${duration(request.durationSeconds)}.`,
    at: history.entitlementDecisions[0]?.updatedAt,
    priority: PRIORITY.precedents,
  });

  const { peers } = history;
  const holdsWord =
    entitlement.action.kind === 'okta-group' ? 'are members of the Okta group it grants' : 'hold it';
  facts.push({
    key: 'history.peers',
    source: 'history',
    statement:
      peers.notCounted !== undefined
        ? `Peers (same manager or department): ${peers.total > 0 ? peers.total : 'unknown'}; how many hold it is not counted: ${oneLine(peers.notCounted, 100)}.`
        : peers.total === 0
          ? 'No peers found (same manager or department).'
          : `${peers.holding} of ${plural(peers.total, 'peer')} (same manager or department) ${holdsWord} (${Math.round((100 * peers.holding) / peers.total)}%).`,
    priority: PRIORITY.peers,
  });

  const mine = history.requesterRequests;
  const latest = mine[0];
  facts.push({
    key: 'history.requester',
    source: 'history',
    statement:
      request.requester.email === undefined
        ? "The requester's earlier requests are unknown: their email is unknown."
        : mine.length === 0
          ? 'No earlier requests by this requester.'
          : `Earlier requests by this requester: ${mine.length} (${mine.filter(isApproved).length} approved, ` +
            `${mine.filter(isDenied).length} denied, ${mine.filter((r) => !isApproved(r) && !isDenied(r)).length} other); ` +
            `latest ${latest?.jiraIssueKey} for ${latest?.entitlementId} on ${day(latest?.createdAt)} (${latest?.state}).`,
    at: latest?.createdAt,
    priority: PRIORITY.requesterHistory,
  });
  return facts;
}

function onCallFact(shifts: OnCallShift[], entitlement: Entitlement, now: Date): Draft {
  if (shifts.length === 0) {
    return {
      key: 'pagerduty.on-call',
      source: 'pagerduty',
      statement: `Not on call on any PagerDuty escalation policy at ${minute(now.toISOString())}.`,
      at: now.toISOString(),
      priority: PRIORITY.onCall,
    };
  }
  const owners = entitlement.owners.escalationPolicy;
  const described = [...shifts]
    .sort(
      (a, b) =>
        Number(b.escalationPolicyId === owners) - Number(a.escalationPolicyId === owners) ||
        a.level - b.level,
    )
    .map(
      (s) =>
        `level ${s.level} of ${s.escalationPolicyName ? `${oneLine(s.escalationPolicyName, 60)} ` : ''}(${oneLine(s.escalationPolicyId, 30)})` +
        `${s.end ? ` until ${minute(s.end)}` : ' (permanent)'}`,
    );
  const ownersToo = shifts.some((s) => s.escalationPolicyId === owners);
  // Only a scheduled shift at the catalog's levels counts as on call; say so when the owners' entry is another.
  const verdict = onCallVerdict(shifts, owners, onCallLevels(entitlement));
  const forOwners = !ownersToo
    ? `; not on call for ${owners}, the owners of ${entitlement.id}`
    : verdict.counts
      ? `; this includes ${owners}, the owners' escalation policy of ${entitlement.id}`
      : `; for ${owners}, the owners of ${entitlement.id}, this does not count as on call: ${verdict.why}`;
  return {
    key: 'pagerduty.on-call',
    source: 'pagerduty',
    statement: `On call now: ${listed(described, 4)}${forOwners}.`,
    at: now.toISOString(),
    priority: PRIORITY.onCall,
  };
}

function chatFacts(messages: ChatMessage[], context: RequestContext): Draft[] {
  if (messages.length === 0) {
    const terms = chatTerms(context.request, context.entitlement).map((t) => oneLine(t, 60));
    return [
      {
        key: 'slack.none',
        source: 'slack',
        statement: `No recent Slack messages mention ${listed(terms, 4)} or were written by the requester.`,
        priority: PRIORITY.chatNone,
      },
    ];
  }
  return sortMessages(messages)
    .slice(0, MAX_CHAT_MESSAGES)
    .map((m, i) => ({
      key: `slack.message:${i}`,
      source: 'slack' as const,
      statement:
        `${m.channelName ? `#${oneLine(m.channelName, 40)}` : `channel ${oneLine(m.channelId, 20)}`}, ` +
        `${oneLine(m.authorName ?? m.authorId ?? 'unknown author', 60)}, ${minute(m.at)}: ${quoted(m.text, 280)}`,
      link: safeLink(m.permalink),
      at: m.at,
      priority: PRIORITY.chat + i,
    }));
}

function issueLink(links: EvidenceLinks, key: string): string | undefined {
  return links.jiraBaseUrl ? `${trimSlash(links.jiraBaseUrl)}/browse/${encodeURIComponent(key)}` : undefined;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
