// Why people keep asking: the justifications of granted requests (audit-only
// ones, and approved ones), grouped per entitlement by the ticket prefixes
// they cite (INC-, CHG-, …) and the phrases that recur across requests, so an
// owner sees the standing need behind repeated requests and can build a safer
// path for it. Plain counting; nothing here decides anything.

import type { AccessRequest } from './model';

export interface JustificationStudy {
  entitlementId: string;
  /** Requests studied: granted by a rule or approved by people. */
  requests: number;
  /** Ticket keys' project prefixes, by how many requests cite them. */
  ticketPrefixes: { prefix: string; requests: number }[];
  /** Requests that cite no ticket at all. */
  withoutTicket: number;
  /** Phrases of two to four words found in at least two requests, longest first among equals. */
  phrases: { phrase: string; requests: number }[];
}

const TICKET = /\b([A-Z][A-Z0-9]{1,9})-\d+\b/g;
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;
/** Words a phrase neither starts nor ends with: they join phrases, they are not the reason. */
const JOINERS = new Set(
  'a an the of to for in on at by and or with from is are be i we my our it this that need needs'.split(' '),
);
const MAX_PHRASES = 5;

/** Whether a request's justification counts: granted by a rule or approved by people. */
export function wasGranted(request: AccessRequest): boolean {
  return request.decisions.some((d) => d.outcome === 'approve');
}

/** Groups the justifications of the granted requests among `requests`, per entitlement, most requests first. */
export function studyJustifications(requests: readonly AccessRequest[]): JustificationStudy[] {
  const byEntitlement = new Map<string, AccessRequest[]>();
  for (const request of requests.filter(wasGranted)) {
    byEntitlement.set(request.entitlementId, [...(byEntitlement.get(request.entitlementId) ?? []), request]);
  }
  return [...byEntitlement.entries()]
    .map(([entitlementId, granted]) => study(entitlementId, granted))
    .sort((a, b) => b.requests - a.requests || a.entitlementId.localeCompare(b.entitlementId));
}

function study(entitlementId: string, requests: readonly AccessRequest[]): JustificationStudy {
  const prefixes = new Map<string, number>();
  const phrases = new Map<string, number>();
  let withoutTicket = 0;
  for (const { justification } of requests) {
    const cited = new Set([...justification.matchAll(TICKET)].map((m) => m[1] as string));
    if (cited.size === 0) withoutTicket += 1;
    for (const prefix of cited) prefixes.set(prefix, (prefixes.get(prefix) ?? 0) + 1);
    for (const phrase of phrasesOf(justification.replace(TICKET, ' '))) {
      phrases.set(phrase, (phrases.get(phrase) ?? 0) + 1);
    }
  }
  const repeated = [...phrases.entries()].filter(([, n]) => n >= 2);
  // A phrase inside a longer one found as often says nothing the longer one does not.
  const kept = repeated.filter(
    ([phrase, n]) =>
      !repeated.some(([other, m]) => m === n && other !== phrase && ` ${other} `.includes(` ${phrase} `)),
  );
  return {
    entitlementId,
    requests: requests.length,
    ticketPrefixes: [...prefixes.entries()]
      .map(([prefix, n]) => ({ prefix, requests: n }))
      .sort((a, b) => b.requests - a.requests || a.prefix.localeCompare(b.prefix)),
    withoutTicket,
    phrases: kept
      .map(([phrase, n]) => ({ phrase, requests: n }))
      .sort(
        (a, b) =>
          b.requests - a.requests ||
          b.phrase.split(' ').length - a.phrase.split(' ').length ||
          a.phrase.localeCompare(b.phrase),
      )
      .slice(0, MAX_PHRASES),
  };
}

/** The distinct phrases of two to four words in one justification (case folded, joiners not at the edges). */
function phrasesOf(text: string): Set<string> {
  const words = [...text.toLowerCase().matchAll(WORD)].map((m) => m[0]);
  const found = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    for (let n = 2; n <= 4 && i + n <= words.length; n++) {
      const phrase = words.slice(i, i + n);
      if (JOINERS.has(phrase[0] as string) || JOINERS.has(phrase[n - 1] as string)) continue;
      found.add(phrase.join(' '));
    }
  }
  return found;
}
