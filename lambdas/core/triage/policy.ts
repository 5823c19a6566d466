// The written access policy, cut into citable excerpts and ranked for a
// request with BM25. Chunk ids are stable for the same text (`access-policy#4.2`
// for a numbered rule, `access-policy#break-glass` for prose under a heading),
// so an approver, the model and the audit trail can all point at the same rule.

import type { Catalog } from '../catalog';
import type { PolicyExcerpt, RequestContext, Signal } from '../context';
import { ConfigurationError } from '../errors';

export interface PolicyFile {
  path: string;
  text: string;
}

export type PolicyChunk = Omit<PolicyExcerpt, 'score'>;

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
/** A numbered rule opens a line: `4.2 Production write access …` (also `4.2.`, `4.2)` or a list marker before it). */
const RULE = /^(?:[-*]\s+)?(\d+(?:\.\d+)+)[.)]?\s+(.+)$/;

/**
 * Splits Markdown policy files into chunks: each numbered rule is one chunk
 * (continuation lines joined), and prose under a heading that has no numbered
 * rule is one chunk named by the heading's slug. The text under the document
 * title (a level-1 heading) is the preamble and is not policy.
 */
export function chunkPolicy(files: readonly PolicyFile[]): PolicyChunk[] {
  const chunks: PolicyChunk[] = [];
  for (const file of files) {
    const stem = fileStem(file.path);
    const used = new Set<string>();
    const uniqueId = (suffix: string) => {
      let id = `${stem}#${suffix}`;
      for (let n = 2; used.has(id); n += 1) id = `${stem}#${suffix}-${n}`;
      used.add(id);
      return id;
    };

    let heading = '';
    let level = 0;
    let prose: string[] = [];
    let rule: { number: string; lines: string[] } | undefined;
    let sectionHasRules = false;

    const flushRule = () => {
      if (rule)
        chunks.push({
          id: uniqueId(rule.number),
          file: file.path,
          heading,
          text: `${rule.number} ${join(rule.lines)}`,
        });
      rule = undefined;
    };
    const flushSection = () => {
      flushRule();
      const text = join(prose);
      if (text && !sectionHasRules && level > 1) {
        chunks.push({ id: uniqueId(slug(heading) || 'section'), file: file.path, heading, text });
      }
      prose = [];
      sectionHasRules = false;
    };

    for (const raw of file.text.split(/\r?\n/)) {
      const line = raw.trim();
      const h = HEADING.exec(line);
      if (h) {
        flushSection();
        level = (h[1] ?? '').length;
        heading = (h[2] ?? '').trim();
        continue;
      }
      const r = RULE.exec(line);
      if (r) {
        flushRule();
        sectionHasRules = true;
        rule = { number: r[1] ?? '', lines: [r[2] ?? ''] };
      } else if (line === '') {
        flushRule();
      } else if (rule) {
        rule.lines.push(line);
      } else {
        prose.push(line);
      }
    }
    flushSection();
  }
  return chunks;
}

/** Words of a query and how much they count: BM25's per-term score is multiplied by the weight. */
export interface QueryPart {
  text: string;
  weight: number;
}

/**
 * How much each part of a request counts. The signals and the facts triage established say best
 * which rules apply; the catalog's words next; the justification least, since its author chooses
 * every word of it and could otherwise crowd the rules that speak against them out of the prompt.
 */
export const QUERY_WEIGHTS = { signals: 3, facts: 2, entitlement: 1.5, justification: 1 } as const;

/**
 * What each signal is about, in the words access policies use for it: a signal's id and its
 * explanation name the facts, not the rule (`no-mfa` never says "production write").
 */
export const SIGNAL_POLICY_TERMS: Readonly<Record<string, string>> = {
  'account-not-active': 'suspended deprovisioned locked accounts denied',
  'requester-not-in-directory': 'deprovisioned accounts identity',
  'instructions-in-ticket': 'justification names the work approvers owners',
  'instructions-in-context': 'justification names the work',
  'new-country-sign-in': 'sign-in country confirm out of band',
  'recent-denial': 'justification names the work',
  'no-mfa': 'production write MFA factor enrolled',
  'high-risk-entitlement': 'high critical entitlements approvals least privilege narrowest',
  'duration-above-usual': 'time-bound shortest duration maximum',
  'few-peers-hold': 'least privilege narrowest entitlement',
  'new-account': 'first 30 days manager support',
  'weak-justification': 'justification names the work restatement need access',
  'already-holds-access': 'time-bound shortest duration',
  'outside-usual-hours': '',
  'separation-of-duties': 'separation of duties change and approve second approver',
};

/**
 * What a request is about, as a weighted policy query: its signals, the facts every request is
 * judged on (the justification; break-glass; identity that could not be checked), the entitlement's
 * id, tier and description, and the justification's own words.
 */
export function policyQuery(context: RequestContext, signals: readonly Signal[] = []): QueryPart[] {
  const { request, entitlement } = context;
  const facts = ['justification names the work'];
  if (request.breakGlass) facts.push('break-glass active incidents reported security');
  if (entitlement.riskTier === 'high' || entitlement.riskTier === 'critical')
    facts.push('high critical entitlements approvals');
  // Who is asking could not be checked: the identity rules are what the approver must confirm.
  if (context.directory.status === 'unavailable') facts.push('suspended deprovisioned locked accounts MFA');
  return [
    { text: signals.map((s) => SIGNAL_POLICY_TERMS[s.id] ?? '').join(' '), weight: QUERY_WEIGHTS.signals },
    { text: facts.join(' '), weight: QUERY_WEIGHTS.facts },
    {
      text: `${entitlement.id} ${entitlement.riskTier} ${entitlement.description}`,
      weight: QUERY_WEIGHTS.entitlement,
    },
    { text: request.justification, weight: QUERY_WEIGHTS.justification },
  ];
}

/** Every entitlement's `policy` link names a section of the policy; otherwise one error naming each bad link. */
export function checkPolicyLinks(catalog: Catalog, chunks: readonly PolicyChunk[]): void {
  const known = new Set(chunks.map((c) => c.id));
  const bad = catalog.entitlements.flatMap((e) =>
    e.policy.filter((id) => !known.has(id)).map((id) => `${e.id} links to ${id}`),
  );
  if (bad.length > 0) {
    throw new ConfigurationError(
      `the catalog links entitlements to policy sections the policy does not have: ${bad.join('; ')} (sections: ${[...known].join(', ')})`,
    );
  }
}

export const BM25 = { k1: 1.2, b: 0.75 } as const;

/**
 * The `k` chunks for a request, best first: the sections the catalog links to the entitlement
 * (`pinned`, in the catalog's order), then those that best match the query by BM25, each query
 * term counted by its part's weight (a plain string weighs 1). Ties keep the policy's own order;
 * chunks matching no query term are left out.
 */
export function retrievePolicy(
  chunks: readonly PolicyChunk[],
  query: string | readonly QueryPart[],
  k: number,
  pinned: readonly string[] = [],
): PolicyExcerpt[] {
  if (chunks.length === 0 || k <= 0) return [];
  const parts = typeof query === 'string' ? [{ text: query, weight: 1 }] : query;
  const docs = chunks.map((chunk) => tokenize(`${chunk.heading} ${chunk.text}`));
  const avgLength = docs.reduce((sum, d) => sum + d.length, 0) / docs.length || 1;
  const frequencies = docs.map((d) => {
    const tf = new Map<string, number>();
    for (const term of d) tf.set(term, (tf.get(term) ?? 0) + 1);
    return tf;
  });
  // A term's weight is the largest of the parts it appears in: repeating a word does not add to it.
  const weights = new Map<string, number>();
  for (const part of parts)
    for (const term of tokenize(part.text)) weights.set(term, Math.max(weights.get(term) ?? 0, part.weight));
  const idf = new Map(
    [...weights.keys()].map((term) => {
      const n = frequencies.filter((tf) => tf.has(term)).length;
      return [term, Math.log(1 + (chunks.length - n + 0.5) / (n + 0.5))];
    }),
  );

  const scored = chunks
    .map((chunk, i) => {
      const tf = frequencies[i] ?? new Map<string, number>();
      const length = docs[i]?.length ?? 0;
      let score = 0;
      for (const [term, weight] of weights) {
        const f = tf.get(term) ?? 0;
        if (f === 0) continue;
        score +=
          weight *
          (idf.get(term) ?? 0) *
          ((f * (BM25.k1 + 1)) / (f + BM25.k1 * (1 - BM25.b + (BM25.b * length) / avgLength)));
      }
      return { chunk, index: i, score };
    })
    .filter((r) => r.score > 0 && !pinned.includes(r.chunk.id))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  const linked = pinned.flatMap((id) => {
    const index = chunks.findIndex((c) => c.id === id);
    return index < 0 ? [] : [{ chunk: chunks[index] as PolicyChunk, index, score: 0 }];
  });
  return [...linked, ...scored]
    .slice(0, k)
    .map(({ chunk, score }) => ({ ...chunk, score: Math.round(score * 1e4) / 1e4 }));
}

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for from has have if in into is it its of on or that the their them they this ' +
    'to was were will with who what when where which while not no nor so than then there these those i me my we our ' +
    'you your he she his her do does did can could should would may might must also only any all each other some such'
  ).split(' '),
);

/** Lower-cased words and numbers (accents removed), hyphenated names split, stop words dropped. */
export function tokenize(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).filter((t) => !STOP_WORDS.has(t));
}

function fileStem(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return name.replace(/\.(md|markdown|txt)$/i, '');
}

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/^\d+(\.\d+)*\.?\s*/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

const join = (lines: readonly string[]) => lines.join(' ').replace(/\s+/g, ' ').trim();
