import { describe, expect, it } from 'vitest';
import { COMMAND_SYNTAX, COMMAND_VERBS, parseCommand } from '../../../lambdas/core/decide/command';

const HOUR = 3600;

describe('parseCommand: commands', () => {
  it.each([
    ['approve', { verb: 'approve' }],
    ['approve 2h', { verb: 'approve', durationSeconds: 2 * HOUR }],
    ['approve 2h looks fine', { verb: 'approve', durationSeconds: 2 * HOUR, reason: 'looks fine' }],
    [
      'approve 30m, quick check only',
      { verb: 'approve', durationSeconds: 30 * 60, reason: 'quick check only' },
    ],
    ['approve for 1d', { verb: 'approve', durationSeconds: 24 * HOUR }],
    ['approve looks fine', { verb: 'approve', reason: 'looks fine' }],
    ['approve for now, will review', { verb: 'approve', reason: 'for now, will review' }],
    ['approve INC-4411 is real', { verb: 'approve', reason: 'INC-4411 is real' }],
    ['deny no incident explains the need', { verb: 'deny', reason: 'no incident explains the need' }],
    ['deny: use the read-only group', { verb: 'deny', reason: 'use the read-only group' }],
    ['deny 2h is not the problem', { verb: 'deny', reason: '2h is not the problem' }],
    ['info which customer is affected?', { verb: 'info', question: 'which customer is affected?' }],
    ['revoke', { verb: 'revoke' }],
    ['revoke work is done', { verb: 'revoke', reason: 'work is done' }],
    ['extend 1h', { verb: 'extend', durationSeconds: HOUR }],
    [
      'extend by 90m migration still running',
      { verb: 'extend', durationSeconds: 90 * 60, reason: 'migration still running' },
    ],
  ])('%j', (note, command) => {
    expect(parseCommand(note)).toEqual({ kind: 'command', command });
  });

  it('reads the command from the first non-empty line and the rest of the note as its reason', () => {
    expect(parseCommand('\n  \r\ndeny\r\nNo ticket links an incident.\nAsk again with one.')).toEqual({
      kind: 'command',
      command: { verb: 'deny', reason: 'No ticket links an incident.\nAsk again with one.' },
    });
    expect(parseCommand('approve 4h\nchecked with the on-call lead')).toEqual({
      kind: 'command',
      command: { verb: 'approve', durationSeconds: 4 * HOUR, reason: 'checked with the on-call lead' },
    });
    expect(parseCommand('info\nwhich cluster?')).toEqual({
      kind: 'command',
      command: { verb: 'info', question: 'which cluster?' },
    });
  });

  it.each([
    ['APPROVE 2H', { verb: 'approve', durationSeconds: 2 * HOUR }],
    ['  Approve   2h   looks fine  ', { verb: 'approve', durationSeconds: 2 * HOUR, reason: 'looks fine' }],
    ['/approve', { verb: 'approve' }],
    ['/Deny not needed', { verb: 'deny', reason: 'not needed' }],
    ['approve.', { verb: 'approve' }],
    ['Approve! thanks', { verb: 'approve', reason: 'thanks' }],
    ['\tRevoke', { verb: 'revoke' }],
  ])('ignores case, spacing and a leading slash: %j', (note, command) => {
    expect(parseCommand(note)).toEqual({ kind: 'command', command });
  });

  it('every example in the syntax help is the command it illustrates', () => {
    const examples = [...COMMAND_SYNTAX.matchAll(/e\.g\. (.+)$/gm)].map((m) => m[1] ?? '');
    expect(examples).toHaveLength(COMMAND_VERBS.length);
    const verbs = examples.map((example) => {
      const parsed = parseCommand(example);
      return parsed.kind === 'command' ? parsed.command.verb : parsed.kind;
    });
    expect(verbs).toEqual([...COMMAND_VERBS]);
  });
});

describe('parseCommand: what a person sees', () => {
  it.each([
    ['full-width letters and digits', '\uFF41\uFF50\uFF50\uFF52\uFF4F\uFF56\uFF45 \uFF14\uFF48'],
    ['a zero-width space inside the word', 'app\u200Brove 4h'],
    ['a soft hyphen and a word joiner', 'ap\u00ADpro\u2060ve 4h'],
    ['mathematical bold letters', '\u{1D41A}\u{1D429}\u{1D429}\u{1D42B}\u{1D428}\u{1D42F}\u{1D41E} 4h'],
    ['a Cyrillic а and е', '\u0430pprov\u0435 4h'],
    ['Greek capitals', '\u0391PPR\u039FVE 4h'],
    ['a byte-order mark before the word', '\uFEFFapprove 4h'],
    ['an ideographic space', 'approve\u30004h'],
  ])('%s reads as approve', (_, note) => {
    expect(parseCommand(note)).toEqual({
      kind: 'command',
      command: { verb: 'approve', durationSeconds: 4 * HOUR },
    });
  });

  it('keeps the reason as it reads, without the invisible characters', () => {
    expect(parseCommand('deny no\u200B ticket')).toEqual({
      kind: 'command',
      command: { verb: 'deny', reason: 'no ticket' },
    });
  });

  it('treats a first line with text-direction controls that mentions a command as a mistake', () => {
    // Shows "approve" on screen but holds the letters backwards, and the other way round.
    for (const note of ['\u202Eevorppa', '\u202Eapprove\u202C', 'ok \u2067deny\u2069']) {
      const parsed = parseCommand(note);
      expect(parsed.kind).toBe('mistake');
      if (parsed.kind === 'mistake') expect(parsed.message).toContain('text-direction');
    }
  });

  it('leaves direction controls in discussion alone', () => {
    expect(parseCommand('\u2067\u05E9\u05DC\u05D5\u05DD\u2069 thanks')).toEqual({ kind: 'discussion' });
  });

  it('does not take a Cyrillic word for a command', () => {
    expect(parseCommand('\u0440\u0435\u043F\u043E\u0440\u0442 attached')).toEqual({ kind: 'discussion' });
  });
});

describe('parseCommand: discussion', () => {
  it.each([
    'approved?',
    'approver on call here, looking',
    "I'd approve if the ticket named an incident",
    'approve?',
    'Approve? the ticket has no incident',
    "approve's fine by me",
    'approve.sh ran',
    '> approve 2h',
    'lgtm',
    'denying would be harsh',
    'information please',
    '/ approve',
    '',
    '  \n\t\n',
    'Why 7d? 2h should do',
  ])('%j', (note) => {
    expect(parseCommand(note)).toEqual({ kind: 'discussion' });
  });
});

describe('parseCommand: mistakes', () => {
  it.each([
    ['deny', 'deny', '"deny" needs a reason'],
    ['deny   ', 'deny', '"deny" needs a reason'],
    ['deny\n\n', 'deny', '"deny" needs a reason'],
    ['info', 'info', '"info" needs a question'],
    ['extend', 'extend', '"extend" needs a duration'],
    ['extend soon', 'extend', '"extend" needs a duration'],
    ['extend 2 hours', 'extend', '"2 hours" is not a duration'],
    ['extend 1.5h', 'extend', '"1.5h" is not a duration'],
    ['extend 0h', 'extend', '"0h" is not a duration'],
    ['approve 5 parsecs', 'approve', '"5 parsecs" is not a duration'],
    ['approve 2hours looks fine', 'approve', '"2hours" is not a duration'],
    ['approve 2h30m', 'approve', '"2h30m" is not a duration'],
    ['approve for 3 days', 'approve', '"3 days" is not a duration'],
    ['approve 9999999h', 'approve', '"9999999h" is not a duration'],
    ['approve \u0664h', 'approve', '"\u0664h" is not a duration'],
  ])('%j', (note, verb, problem) => {
    const parsed = parseCommand(note);
    expect(parsed).toMatchObject({ kind: 'mistake', verb });
    if (parsed.kind !== 'mistake') return;
    expect(parsed.message).toContain(problem);
    // Every mistake shows the whole syntax, so the approver can fix it without looking anything up.
    expect(parsed.message.endsWith(COMMAND_SYNTAX)).toBe(true);
  });

  it('lists all five commands in the syntax help', () => {
    for (const verb of COMMAND_VERBS) expect(COMMAND_SYNTAX).toMatch(new RegExp(`^  ${verb} `, 'm'));
  });
});
