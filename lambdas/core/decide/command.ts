// Reads what an approver wrote on the incident. The first non-empty line of a
// note may hold a command; the lines after it are free text that belongs to the
// command's reason or question. A note whose first word is not a command word is
// discussion between people, and loopgate leaves it alone.
//
// Unicode: loopgate acts on what a person reading the note sees, so the text is
// NFKC-normalised (full-width and mathematical letters, ligatures and
// compatibility digits become plain ones: "ａｐｐｒｏｖｅ ４ｈ" is "approve 4h") and
// characters that render as nothing (zero-width spaces and joiners, soft hyphens,
// BOMs, tag characters) are removed ("app\u200Brove" is "approve"). The command
// word is also read through a short table of Cyrillic, Greek and Armenian letters
// that look identical to Latin ones, as a keyboard left on another layout types
// them: "аpprove" with a Cyrillic а reads as approve to everyone. No real word of
// those scripts maps onto a command word (each has a letter without a look-alike
// but for "deny", which would need three scripts). A first line with text-direction
// controls (RLO, isolates) may read differently on screen than in memory, so
// if it mentions a command word either way round it is a mistake, never a command.

import { parseDuration } from '../duration';
import { INVISIBLE } from './identity';

export const COMMAND_VERBS = ['approve', 'deny', 'info', 'revoke', 'extend'] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];

export type Command =
  /** Grant what was asked, or less time when a duration is given. */
  | { verb: 'approve'; durationSeconds?: number; reason?: string }
  | { verb: 'deny'; reason: string }
  /** A question for the requester; the request stays pending. */
  | { verb: 'info'; question: string }
  | { verb: 'revoke'; reason?: string }
  /** Adds this much time to a grant. */
  | { verb: 'extend'; durationSeconds: number; reason?: string };

export type ParsedNote =
  | { kind: 'command'; command: Command }
  | { kind: 'discussion' }
  /** A command word with a wrong argument; `message` says what is wrong and shows the syntax. */
  | { kind: 'mistake'; verb: CommandVerb; message: string };

/** Posted when the page opens and after every mistake. Plain text: PagerDuty shows notes as written. */
export const COMMAND_SYNTAX = [
  'To decide, add a note whose first line is one of:',
  '  approve [duration] [reason]   e.g. approve 2h looks fine',
  '  deny <reason>                 e.g. deny no incident explains the need',
  '  info <question>               e.g. info which customer is affected?',
  '  revoke [reason]               e.g. revoke work is done',
  '  extend <duration> [reason]    e.g. extend 1h migration still running',
  'A duration is a whole number and m, h or d (30m, 4h, 7d). With approve it may shorten what was asked, never lengthen it.',
  'Any other note is discussion; loopgate ignores it.',
].join('\n');

/** What a break-glass page asks of the reviewers it pages (review.ts): every command here is theirs. */
export const REVIEW_SYNTAX = [
  'To review this break-glass grant, add a note whose first line is one of:',
  '  approve <reason>   keep it until it expires, and record your review',
  '  deny <reason>      end it now (or the moment it is in place, if it is still being granted)',
  '  revoke [reason]    the same as deny',
  '  info <question>    ask the requester; the question goes to the ticket',
  'Any other note is discussion; loopgate ignores it.',
].join('\n');

const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;
/** Embeddings, overrides and isolates: they reorder what is shown without changing what is stored. */
const DIRECTION_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
/**
 * The command word (optionally after `/`), then the end of the line, a space, a colon, or a single
 * `.`, `,` or `!` closing the word (the letters must end there, so no prefix of a longer word matches). "approve?" (a question), "approved", "approver" and "approve's" are not commands.
 */
const HEAD = /^\/?(\p{L}+)(?::\s*|[.,!](?:\s+|$)|\s+|$)(.*)$/su;
/** An optional "for" or "by", then something that starts with a digit: a duration, or a failed attempt at one. */
const DURATION_ARGUMENT = /^(?:(?:for|by)\s+)?(\p{Nd}\S*?)[.,;:]?(?:\s+|$)(.*)$/isu;

/** Letters that look the same as the Latin ones in the command words. */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  // Cyrillic
  '\u0430': 'a',
  '\u0435': 'e',
  '\u043E': 'o',
  '\u0440': 'p',
  '\u0445': 'x',
  '\u0443': 'y',
  '\u0456': 'i',
  '\u0501': 'd',
  '\u0475': 'v',
  '\u0410': 'A',
  '\u0415': 'E',
  '\u041A': 'K',
  '\u041E': 'O',
  '\u0420': 'P',
  '\u0422': 'T',
  '\u0425': 'X',
  '\u0406': 'I',
  '\u04AE': 'Y',
  // Greek
  '\u03BF': 'o',
  '\u03C1': 'p',
  '\u03BD': 'v',
  '\u0391': 'A',
  '\u0395': 'E',
  '\u0399': 'I',
  '\u039A': 'K',
  '\u039D': 'N',
  '\u039F': 'O',
  '\u03A1': 'P',
  '\u03A4': 'T',
  '\u03A7': 'X',
  '\u03A5': 'Y',
  // Armenian
  '\u0578': 'n',
  '\u0585': 'o',
};

/** What the first non-empty line of a note asks loopgate to do, if anything. */
export function parseCommand(note: string): ParsedNote {
  const lines = note.split(LINE_BREAK);
  const index = lines.findIndex((line) => visible(line).trim() !== '');
  if (index < 0) return { kind: 'discussion' };
  const raw = lines[index] ?? '';
  const first = visible(raw).trim();
  const rest = lines
    .slice(index + 1)
    .map(visible)
    .join('\n')
    .trim();

  if (DIRECTION_CONTROL.test(raw)) {
    const verb = mentionedVerb(first);
    return verb
      ? mistake(
          verb,
          'The first line of your note contains invisible text-direction characters, so it may not say to loopgate ' +
            'what it shows on your screen. Type the command again as plain text.',
        )
      : { kind: 'discussion' };
  }

  const head = HEAD.exec(first);
  const verb = head ? asVerb(head[1] ?? '') : undefined;
  if (!head || !verb) return { kind: 'discussion' };
  const args = (head[2] ?? '').trim();

  switch (verb) {
    case 'approve': {
      const duration = leadingDuration(args);
      if (duration.kind === 'invalid') {
        return mistake(
          verb,
          `"${duration.text}" is not a duration. Write a whole number and m, h or d, as in "approve 2h", ` +
            'or approve without a duration to grant the time asked for.',
        );
      }
      const reason = joined(duration.kind === 'valid' ? duration.rest : args, rest);
      return command({
        verb,
        ...(duration.kind === 'valid' ? { durationSeconds: duration.seconds } : {}),
        ...(reason ? { reason } : {}),
      });
    }
    case 'deny': {
      const reason = joined(args, rest);
      if (!reason) {
        return mistake(
          verb,
          '"deny" needs a reason the requester will read, as in "deny no incident explains the need".',
        );
      }
      return command({ verb, reason });
    }
    case 'info': {
      const question = joined(args, rest);
      if (!question) {
        return mistake(
          verb,
          '"info" needs a question for the requester, as in "info which customer is affected?".',
        );
      }
      return command({ verb, question });
    }
    case 'revoke': {
      const reason = joined(args, rest);
      return command({ verb, ...(reason ? { reason } : {}) });
    }
    case 'extend': {
      const duration = leadingDuration(args);
      if (duration.kind !== 'valid') {
        return mistake(
          verb,
          (duration.kind === 'invalid'
            ? `"${duration.text}" is not a duration. `
            : '"extend" needs a duration. ') +
            'Write how much longer, a whole number and m, h or d, as in "extend 1h".',
        );
      }
      const reason = joined(duration.rest, rest);
      return command({ verb, durationSeconds: duration.seconds, ...(reason ? { reason } : {}) });
    }
  }
}

/** The text as a person sees it: invisible characters gone, compatibility forms folded. */
function visible(text: string): string {
  // Removed before NFKC so an invisible character cannot keep two parts of a letter from composing.
  return text.replace(INVISIBLE, '').normalize('NFKC');
}

function asVerb(word: string): CommandVerb | undefined {
  const folded = asLatin(word);
  return COMMAND_VERBS.find((v) => v === folded);
}

/** A command word anywhere in the text, read forwards or backwards (as a direction override would show it). */
function mentionedVerb(text: string): CommandVerb | undefined {
  const forwards = asLatin(text);
  const backwards = [...forwards].reverse().join('');
  return COMMAND_VERBS.find((v) => forwards.includes(v) || backwards.includes(v));
}

/** Look-alike letters read as the Latin ones, then lower-cased (in that order: Greek Ν is N, its lower case ν is v). */
function asLatin(text: string): string {
  return [...text]
    .map((c) => LOOK_ALIKES[c] ?? c)
    .join('')
    .toLowerCase();
}

type LeadingDuration =
  { kind: 'none' } | { kind: 'valid'; seconds: number; rest: string } | { kind: 'invalid'; text: string };

/** A duration at the start of the arguments. Anything starting with a digit is meant as one, so "2 hours" is a mistake, not a reason. */
function leadingDuration(args: string): LeadingDuration {
  const match = DURATION_ARGUMENT.exec(args);
  if (!match) return { kind: 'none' };
  const text = match[1] ?? '';
  // "4H" means four hours to anyone; the catalog's own spelling is lower-case.
  const seconds = parseDuration(text.toLowerCase());
  if (seconds === undefined) {
    // "5 parsecs": quote the unit the person wrote too, so the message shows what was not understood.
    const unit = /^\p{Nd}+$/u.test(text) ? /^\p{L}+/u.exec(match[2] ?? '')?.[0] : undefined;
    return { kind: 'invalid', text: unit ? `${text} ${unit}` : text };
  }
  return { kind: 'valid', seconds, rest: (match[2] ?? '').trim() };
}

function joined(firstLine: string, rest: string): string {
  return [firstLine, rest].filter((part) => part !== '').join('\n');
}

function command(value: Command): ParsedNote {
  return { kind: 'command', command: value };
}

function mistake(verb: CommandVerb, problem: string): ParsedNote {
  return { kind: 'mistake', verb, message: `${problem}\n\n${COMMAND_SYNTAX}` };
}
