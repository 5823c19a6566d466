// Slack's search query language as search.messages reads it: words and
// "quoted phrases" (all must match, at the start of a word, case-insensitive),
// `-word` to exclude, and the modifiers `in:`, `from:`, `before:`, `after:`
// and `on:` (dates are whole days, taken here in UTC).

export interface ParsedQuery {
  terms: string[];
  excluded: string[];
  /** Channel ids or names, without `#`. */
  channels: string[];
  /** User ids or handles, without `@`; `me` for the searching user. */
  users: string[];
  /** Inclusive lower and exclusive upper bounds, in epoch milliseconds. */
  fromMs?: number;
  toMs?: number;
}

const DAY = 86_400_000;

function words(query: string): string[] {
  const out: string[] = [];
  const pattern = /(-?)"([^"]*)"|(\S+)/g;
  for (let m = pattern.exec(query); m; m = pattern.exec(query)) {
    if (m[3] !== undefined) out.push(m[3]);
    else out.push(`${m[1] ?? ''}"${m[2] ?? ''}"`);
  }
  return out;
}

function day(value: string): number | undefined {
  const ms = Date.parse(`${value}T00:00:00.000Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(ms) ? ms : undefined;
}

/** `<#C0123|name>` and `<@U0123>` are how Slack clients send channel and user mentions. */
function unwrap(value: string, sigil: '#' | '@'): string {
  const mention = new RegExp(`^<${sigil}([A-Z0-9]+)(?:\\|[^>]*)?>$`).exec(value);
  if (mention?.[1]) return mention[1];
  return value.startsWith(sigil) ? value.slice(1) : value;
}

export function parseQuery(query: string): ParsedQuery {
  const parsed: ParsedQuery = { terms: [], excluded: [], channels: [], users: [] };
  for (const word of words(query)) {
    const modifier = /^(in|from|before|after|on):(.+)$/i.exec(word);
    if (modifier) {
      const [, name = '', value = ''] = modifier;
      const key = name.toLowerCase();
      if (key === 'in') parsed.channels.push(unwrap(value, '#'));
      else if (key === 'from') parsed.users.push(unwrap(value, '@'));
      else {
        const start = day(value);
        if (start === undefined) {
          parsed.terms.push(word);
          continue;
        }
        if (key === 'after') parsed.fromMs = Math.max(parsed.fromMs ?? -Infinity, start + DAY);
        if (key === 'before') parsed.toMs = Math.min(parsed.toMs ?? Infinity, start);
        if (key === 'on') {
          parsed.fromMs = Math.max(parsed.fromMs ?? -Infinity, start);
          parsed.toMs = Math.min(parsed.toMs ?? Infinity, start + DAY);
        }
      }
      continue;
    }
    const excluded = word.startsWith('-') && word.length > 1;
    const text = (excluded ? word.slice(1) : word).replace(/^"|"$/g, '').trim();
    if (!text) continue;
    (excluded ? parsed.excluded : parsed.terms).push(text.toLowerCase());
  }
  return parsed;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How often `term` starts a word in `text`. */
export function occurrences(text: string, term: string): number {
  const pattern = new RegExp(`(^|[^\\p{L}\\p{N}])${escape(term)}`, 'giu');
  return text.match(pattern)?.length ?? 0;
}
