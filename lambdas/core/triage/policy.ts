// The written access policy, cut into citable excerpts and ranked for a
// request with BM25. Chunk ids are stable for the same text (`access-policy#4.2`
// for a numbered rule, `access-policy#break-glass` for prose under a heading),
// so an approver, the model and the audit trail can all point at the same rule.

import type { AccessRequest } from '../model';
import type { Entitlement } from '../catalog';
import type { PolicyExcerpt } from '../context';

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

/** What a request is about, as a policy query: the entitlement id and description, and the justification. */
export function policyQuery(request: AccessRequest, entitlement: Entitlement): string {
  return `${entitlement.id} ${entitlement.description} ${request.justification}`;
}

export const BM25 = { k1: 1.2, b: 0.75 } as const;

/** The `k` chunks that best match the query by BM25, best first; ties keep the policy's own order. Chunks matching no query term are left out. */
export function retrievePolicy(chunks: readonly PolicyChunk[], query: string, k: number): PolicyExcerpt[] {
  if (chunks.length === 0 || k <= 0) return [];
  const docs = chunks.map((chunk) => tokenize(`${chunk.heading} ${chunk.text}`));
  const avgLength = docs.reduce((sum, d) => sum + d.length, 0) / docs.length || 1;
  const frequencies = docs.map((d) => {
    const tf = new Map<string, number>();
    for (const term of d) tf.set(term, (tf.get(term) ?? 0) + 1);
    return tf;
  });
  const terms = [...new Set(tokenize(query))];
  const idf = new Map(
    terms.map((term) => {
      const n = frequencies.filter((tf) => tf.has(term)).length;
      return [term, Math.log(1 + (chunks.length - n + 0.5) / (n + 0.5))];
    }),
  );

  return chunks
    .map((chunk, i) => {
      const tf = frequencies[i] ?? new Map<string, number>();
      const length = docs[i]?.length ?? 0;
      let score = 0;
      for (const term of terms) {
        const f = tf.get(term) ?? 0;
        if (f === 0) continue;
        score +=
          (idf.get(term) ?? 0) *
          ((f * (BM25.k1 + 1)) / (f + BM25.k1 * (1 - BM25.b + (BM25.b * length) / avgLength)));
      }
      return { chunk, index: i, score };
    })
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
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
