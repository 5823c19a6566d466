// Plain-text helpers for the bundle: untrusted text (a justification, a Slack
// message, a profile field) becomes one short line of data that cannot break
// the bundle's layout, and times and durations are written one way everywhere.

import { formatDuration } from '../duration';

// Control, format (zero-width, bidi overrides) and line/paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * One line of untrusted text: normalised (NFKC, so full-width look-alikes become
 * ASCII), no control or invisible characters, whitespace collapsed, square
 * brackets turned into parentheses (the bundle gives `[high]` and `[okta]` a
 * meaning), and at most `max` characters.
 */
export function oneLine(text: string, max = 300): string {
  const flat = text
    .normalize('NFKC')
    .replace(INVISIBLE, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\[/g, '(')
    .replace(/\]/g, ')');
  return truncate(flat, max);
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
