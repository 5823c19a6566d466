// Plain-text helpers for the bundle: untrusted text (a justification, a Slack
// message, a profile field) becomes one short line of data that cannot break
// the bundle's layout, and times and durations are written one way everywhere.

import { formatDuration } from '../duration';

// Control characters and line/paragraph separators: read as a space.
const BREAKS = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
// Format characters (zero-width space and joiners, bidi overrides): removed, so a word split by
// them reads whole; hiddenText says they were there.
const FORMAT = /\p{Cf}/gu;
const FULL_WIDTH = /[\uFF01-\uFF5E]/u;

/**
 * One line of untrusted text: normalised (NFKC, so full-width look-alikes become
 * ASCII), no control or invisible characters, whitespace collapsed, square
 * brackets turned into parentheses (the bundle gives `[high]` and `[okta]` a
 * meaning), and at most `max` characters.
 */
export function oneLine(text: string, max = 300): string {
  const flat = text
    .normalize('NFKC')
    .replace(FORMAT, '')
    .replace(BREAKS, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\[/g, '(')
    .replace(/\]/g, ')');
  return truncate(flat, max);
}

/**
 * How text was kept from a person reading the Jira page, in the words the approver reads: the
 * sections ADF-to-text marked (⟪white text: …⟫, collapsed sections, panels, code blocks,
 * mentions), invisible characters oneLine removes, and full-width letters NFKC turns into
 * plain ones. Empty when the text is what it looks like.
 */
export function hiddenText(text: string): string[] {
  const notes: string[] = [];
  const kinds = new Map<string, number>();
  for (const match of text.matchAll(/⟪([^:⟫]{1,80})(?::|⟫)/gu)) {
    const kind = (match[1] ?? '').replace(/^(mention) .*$/, '$1').replace(/ ".*"$/, '');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  for (const [kind, count] of kinds) notes.push(count === 1 ? kind : `${kind} (${count})`);
  const format = text.match(FORMAT)?.length ?? 0;
  if (format > 0)
    notes.push(`${plural(format, 'invisible character')} (zero-width or direction marks) removed`);
  if (FULL_WIDTH.test(text)) notes.push('full-width letters, shown here as plain ones');
  return notes;
}

/** Untrusted text as a quoted one-line value, so a reader sees where the other person's words begin and end. */
export function quoted(text: string, max = 300): string {
  return `"${oneLine(text, max).replace(/"/g, "'")}"`;
}

/** At most `max` characters (code points, so a surrogate pair is never split), marking a cut with `…`. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** `2026-11-21`, or `unknown date` for text that is not a time. */
export function day(iso: string | undefined): string {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(ms) ? 'unknown date' : new Date(ms).toISOString().slice(0, 10);
}

/** `2026-11-21 09:00 UTC`, or `unknown time`. */
export function minute(iso: string | undefined): string {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(ms)
    ? 'unknown time'
    : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A duration as the catalog writes it (`4h`); sub-minute remainders fall back to seconds. */
export function duration(seconds: number): string {
  return formatDuration(seconds);
}

/** `3 s`, `1.5 s`, `250 ms`: how long a timeout was, for a human. */
export function elapsed(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** A list shown in one line: the first `max` items, then how many more. */
export function listed(items: readonly string[], max: number): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A link from an outside service, kept only if it is a plain http(s) URL. */
export function safeLink(url: string | undefined): string | undefined {
  if (url === undefined || !/^https?:\/\/[^\s"<>]+$/i.test(url)) return undefined;
  try {
    return new URL(url).toString();
  } catch {
    return undefined;
  }
}
