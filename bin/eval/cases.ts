// The eval cases (prompts/evals/*.yaml): compact scenarios of access requests,
// each with what a careful human approver expects, and the code that turns a
// scenario into the RequestContext triage would have gathered. Everything not
// said in a case is a sensible, fixed default (an active engineer of two years
// with MFA, signing in on weekdays from one country), so the same case always
// yields the same context, evidence and signals.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { bodyText } from '../../lambdas/core/adf';
import { type Catalog, type Entitlement, entitlementById } from '../../lambdas/core/catalog';
import type {
  ChatMessage,
  DirectoryProfile,
  DirectoryUser,
  History,
  MfaFactor,
  OnCallShift,
  PrincipalAccess,
  RequestContext,
  SignIn,
  Sourced,
} from '../../lambdas/core/context';
import { formatDuration, parseDuration } from '../../lambdas/core/duration';
import { ValidationError } from '../../lambdas/core/errors';
import { requestParts, type Ticket } from '../../lambdas/core/intake/ticket';
import type { AccessRequest, DecisionOutcome, Recommendation } from '../../lambdas/core/model';
import { SIGNAL_IDS } from '../../lambdas/core/triage';
import { type DataPath, parseYamlSource, type SourcePosition } from '../../lambdas/platform/yaml-source';

// --- the case format -------------------------------------------------------------

export const CATEGORIES = ['routine', 'risky', 'ambiguous', 'injection'] as const;
export const RECOMMENDATIONS = ['approve', 'deny', 'needs-info'] as const satisfies readonly Recommendation[];
/** Okta factor types a case may enrol. */
export const MFA_TYPES = [
  'push',
  'webauthn',
  'u2f',
  'token:software:totp',
  'token:hardware',
  'token:hotp',
  'signed_nonce',
  'sms',
  'call',
  'email',
  'question',
] as const;
export const OKTA_STATUSES = [
  'ACTIVE',
  'STAGED',
  'PROVISIONED',
  'RECOVERY',
  'PASSWORD_EXPIRED',
  'LOCKED_OUT',
  'SUSPENDED',
  'DEPROVISIONED',
] as const;

/** A Monday afternoon (UTC): the default moment a case's ticket is filed. */
export const DEFAULT_CREATED_AT = '2026-06-01T14:00:00.000Z';

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const durationText = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'not a duration: write a whole number and a unit (m, h or d), as in 30m, 4h or 7d',
});

const signIn = z.strictObject({
  daysAgo: z.int().min(0).max(90),
  /** The UTC hour of day; without it, the request's time of day less an hour. */
  hour: z.int().min(0).max(23).optional(),
  /** Default: the requester's usual country (and city). */
  country: z.string().min(1).optional(),
  city: z.string().min(1).optional(),
  outcome: z.enum(['success', 'failure']).default('success'),
});

const requester = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** Default: derived from the name, at example.com. */
    email: z.email('not an email address').optional(),
    /** null: the profile has none. */
    title: z.string().min(1).nullable().optional(),
    department: z.string().min(1).nullable().optional(),
    status: z.enum(OKTA_STATUSES).optional(),
    tenureDays: z.int().min(0).max(20_000).optional(),
    /** The manager's name; null: no manager on the profile. */
    manager: z.string().min(1).nullable().optional(),
    /** Where the usual sign-ins come from. */
    country: z.string().min(1).optional(),
    city: z.string().min(1).optional(),
    /** Active factors; [] for none. */
    mfa: z.array(z.enum(MFA_TYPES)).optional(),
    /** Replaces the usual sign-ins. */
    signIns: z.array(signIn).optional(),
    /** Added to the usual sign-ins. */
    extraSignIns: z.array(signIn).optional(),
    /** Okta group names besides Everyone; default: the department's. */
    groups: z.array(z.string().min(1)).optional(),
  })
  .refine((r) => r.signIns === undefined || r.extraSignIns === undefined, {
    message: 'give signIns (replacing the usual ones) or extraSignIns (added to them), not both',
  });

const chatMessage = z.strictObject({
  /** Default: the requester. */
  author: z.string().min(1).optional(),
  text: z.string().min(1),
  channel: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a Slack channel name, without #'),
  hoursAgo: z
    .number()
    .min(0)
    .max(14 * 24),
});

const precedent = z.strictObject({
  outcome: z.enum(['approve', 'deny']),
  /** Decided this many days, and two hours, before the request: 0 is earlier the same day. */
  daysAgo: z.int().min(0).max(365),
  /** Who asked; default: one of a few colleagues. */
  requester: z.email('not an email address').optional(),
  /** Default: the entitlement's default. */
  duration: durationText.optional(),
  reason: z.string().min(1).optional(),
});

const ownRequest = precedent.omit({ requester: true }).extend({ entitlement: z.string().min(1) });

const iam = z.strictObject({
  /** Policy names (an account's customer-managed policy) or ARNs (`arn:aws:iam::aws:policy/…`). */
  attachedPolicies: z.array(z.string().min(1)).default([]),
  lastAccessed: z
    .array(
      z.strictObject({
        service: z.string().min(1),
        namespace: z.string().regex(/^[a-z0-9-]+$/, 'an IAM service namespace, as in s3 or cloudwatch'),
        /** Absent: never used. */
        daysAgo: z.int().min(0).max(400).optional(),
      }),
    )
    .default([]),
});

const reason = z.string().min(1);
const unavailable = z.strictObject({
  okta: reason.optional(),
  iam: reason.optional(),
  slack: reason.optional(),
  pagerduty: reason.optional(),
  history: reason.optional(),
});

/** An Atlassian Document Format node, as Jira delivers a paragraph field. */
const adfNode = z.strictObject({
  type: z.string().min(1),
  version: z.int().optional(),
  text: z.string().optional(),
  attrs: z.record(z.string(), z.unknown()).optional(),
  marks: z
    .array(z.strictObject({ type: z.string().min(1), attrs: z.record(z.string(), z.unknown()).optional() }))
    .optional(),
  get content() {
    return z.array(adfNode).optional();
  },
});

const scenario = z
  .strictObject({
    entitlement: z.string().min(1),
    /** Default: the entitlement's default. */
    duration: durationText.optional(),
    breakGlass: z.boolean().default(false),
    /** The justification as plain text (wiki markup)… */
    justification: z.string().optional(),
    /** …or as an ADF document, flattened by the same code intake uses. */
    justificationAdf: adfNode.optional(),
    createdAt: z.iso.datetime({ offset: true }).optional(),
    requester: requester.default({}),
    /** The requester already holds what the entitlement grants. */
    holdsAlready: z.boolean().default(false),
    /** On call now for the entitlement owners' escalation policy. */
    onCall: z.boolean().default(false),
    chat: z.array(chatMessage).max(20).default([]),
    /** Default: 8 peers, 5 of them holding it (counted for Okta groups only). */
    peers: z.strictObject({ total: z.int().min(0), holding: z.int().min(0).optional() }).optional(),
    /** Earlier decided requests for this entitlement by others. */
    precedents: z.array(precedent).max(50).default([]),
    /** The requester's own earlier requests. */
    history: z.array(ownRequest).max(25).default([]),
    iam: iam.optional(),
    /** Sources that did not answer, with the reason triage would show. */
    unavailable: unavailable.default({}),
  })
  .superRefine((s, ctx) => {
    if ((s.justification === undefined) === (s.justificationAdf === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of justification or justificationAdf' });
    }
    if (s.justification !== undefined && !s.justification.trim()) {
      ctx.addIssue({
        code: 'custom',
        path: ['justification'],
        message: 'empty: intake rejects a ticket without one',
      });
    }
    if (s.justificationAdf !== undefined) {
      if (s.justificationAdf.type !== 'doc') {
        ctx.addIssue({
          code: 'custom',
          path: ['justificationAdf', 'type'],
          message: 'an ADF document is of type doc',
        });
      } else if (!bodyText(s.justificationAdf).trim()) {
        ctx.addIssue({
          code: 'custom',
          path: ['justificationAdf'],
          message: 'the document has no text: intake rejects a ticket without a justification',
        });
      }
    }
    if (s.peers?.holding !== undefined && s.peers.holding > s.peers.total) {
      ctx.addIssue({
        code: 'custom',
        path: ['peers', 'holding'],
        message: 'more peers hold it than there are peers',
      });
    }
  });

const signalId = z.string().superRefine((id, ctx) => {
  if (!SIGNAL_IDS.includes(id)) {
    ctx.addIssue({ code: 'custom', message: `unknown signal "${id}": use one of ${SIGNAL_IDS.join(', ')}` });
  }
});

const expectation = z
  .strictObject({
    /** Every answer a careful approver would accept. */
    recommendation: z.array(z.enum(RECOMMENDATIONS)).min(1),
    /** Signals the deterministic code must raise (checked without any model). */
    signals: z.array(signalId).default([]),
    absentSignals: z.array(signalId).default([]),
    /** Words each of which some reason, concern or the summary contains (case-insensitive). */
    mention: z.array(z.string().min(1)).default([]),
    notMention: z.array(z.string().min(1)).default([]),
    /** Evidence keys some reason cites; a family (`history.denial`) matches any of its keys (`history.denial:<id>`). */
    cite: z.array(z.string().min(1)).default([]),
    /** Policy sections (`access-policy#4.2`) an expert would cite: the prompt should include them (policy recall). */
    policy: z.array(z.string().min(1)).default([]),
  })
  .superRefine((e, ctx) => {
    if (new Set(e.recommendation).size !== e.recommendation.length) {
      ctx.addIssue({ code: 'custom', path: ['recommendation'], message: 'an answer is listed twice' });
    }
    e.absentSignals.forEach((id, i) => {
      if (e.signals.includes(id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['absentSignals', i],
          message: `"${id}" is expected both raised and absent`,
        });
      }
    });
  });

export const evalCaseSchema = z.strictObject({
  id: z.string().regex(ID, 'an id is lower-case words joined by hyphens, as in readonly-sre-routine'),
  category: z.enum(CATEGORIES),
  /** One sentence a security engineer reads in the report. */
  description: z.string().min(1),
  scenario,
  expect: expectation,
});

export const evalCaseFileSchema = z.strictObject({ cases: z.array(evalCaseSchema).min(1) });
const fileShape = z.strictObject({ cases: z.array(z.unknown()).min(1) });

export type EvalCase = z.output<typeof evalCaseSchema>;
export type EvalCategory = EvalCase['category'];

/** Whether an evidence key answers a `cite` expectation: the key itself, or any key of its family. */
export function citeMatches(cite: string, key: string): boolean {
  return key === cite || key.startsWith(`${cite}:`);
}

// --- loading ---------------------------------------------------------------------

export interface LoadedCase extends EvalCase {
  /** Where the case starts, for reports: the file and the position of its `id`. */
  file: string;
  line: number;
  column: number;
}

export interface EvalCaseProblem {
  file: string;
  line?: number;
  column?: number;
  /** Where in the file's data, as in `cases[3].scenario.duration`. */
  path: string;
  message: string;
}

export class EvalCaseError extends ValidationError {
  constructor(readonly problems: EvalCaseProblem[]) {
    super(
      `the eval cases are invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})\n` +
        problems.map((p) => `  ${where(p)} ${p.path || '(top level)'}: ${p.message}`).join('\n'),
    );
  }
}

const where = (p: { file: string; line?: number; column?: number }) =>
  p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;

function formatPath(path: DataPath): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part),
    '',
  );
}

/** Every case of every `*.yaml` file in `dir` (files in name order). Throws EvalCaseError listing every problem. */
export function loadEvalCases(dir: string, catalog: Catalog): LoadedCase[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((name) => name.endsWith('.yaml'))
      .sort()
      .map((name) => join(dir, name));
  } catch (error) {
    throw new EvalCaseError([
      { file: dir, path: '', message: `cannot read the folder: ${(error as Error).message}` },
    ]);
  }
  if (files.length === 0) throw new EvalCaseError([{ file: dir, path: '', message: 'no *.yaml case files' }]);

  const problems: EvalCaseProblem[] = [];
  const loaded: LoadedCase[] = [];
  for (const file of files) {
    const cases = loadFile(file, catalog, problems);
    for (const c of cases) {
      const first = loaded.find((other) => other.id === c.id);
      if (first) {
        problems.push({
          file,
          line: c.line,
          column: c.column,
          path: `cases[${cases.indexOf(c)}].id`,
          message: `duplicate id "${c.id}": ${where(first)} has it too`,
        });
      } else loaded.push(c);
    }
  }
  if (problems.length > 0) throw new EvalCaseError(problems);
  return loaded;
}

function loadFile(file: string, catalog: Catalog, problems: EvalCaseProblem[]): LoadedCase[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ file, path: '', message: `cannot read the file: ${(error as Error).message}` });
    return [];
  }
  const source = parseYamlSource(text);
  if (!source.ok) {
    problems.push(...source.errors.map((e) => ({ file, ...e, path: '', message: `YAML: ${e.message}` })));
    return [];
  }
  const problem = (path: DataPath, message: string) =>
    problems.push({ file, path: formatPath(path), message, ...source.locate(path) });

  const report = (issues: z.core.$ZodIssue[], at: DataPath) => {
    for (const issue of issues) {
      const base = [...at, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
      // One problem per unknown key, pointing at the key itself.
      if (issue.code === 'unrecognized_keys')
        for (const key of issue.keys) problem([...base, key], `unknown key "${key}"`);
      else problem(base, issue.message);
    }
  };

  // The file's shape first, then each case on its own, so one broken case does not hide another's problems.
  const shape = fileShape.safeParse(source.data);
  if (!shape.success) {
    report(shape.error.issues, []);
    return [];
  }
  const cases: LoadedCase[] = [];
  const before = problems.length;
  shape.data.cases.forEach((raw, i) => {
    const parsed = evalCaseSchema.safeParse(raw);
    if (!parsed.success) return report(parsed.error.issues, ['cases', i]);
    const found = catalogProblems(parsed.data, catalog);
    for (const [path, message] of found) problem(['cases', i, ...path], message);
    const at: SourcePosition = source.locate(['cases', i, 'id']) ?? { line: 1, column: 1 };
    cases.push({ ...parsed.data, file, ...at });
  });
  return problems.length > before ? [] : cases;
}

/** What the schema cannot know: the entitlements a case names exist and allow what it asks. */
function catalogProblems(c: EvalCase, catalog: Catalog): [DataPath, string][] {
  const s = c.scenario;
  const out: [DataPath, string][] = [];
  const known = catalog.entitlements.map((e) => e.id).join(', ');
  const tooLong = (text: string | undefined, max: number, path: DataPath, what: string) => {
    const seconds = text === undefined ? undefined : parseDuration(text);
    if (seconds !== undefined && seconds > max) {
      out.push([
        path,
        `${formatDuration(seconds)} is longer than the ${formatDuration(max)} maximum ${what}`,
      ]);
    }
  };

  const entitlement = entitlementById(catalog, s.entitlement);
  if (!entitlement) {
    out.push([
      ['scenario', 'entitlement'],
      `no entitlement "${s.entitlement}" in the catalog: use one of ${known}`,
    ]);
  } else {
    tooLong(s.duration, entitlement.duration.max, ['scenario', 'duration'], `for ${entitlement.id}`);
    if (s.breakGlass && !entitlement.breakGlass.allowed) {
      out.push([['scenario', 'breakGlass'], `${entitlement.id} does not allow break-glass`]);
    } else if (s.breakGlass && entitlement.breakGlass.allowed) {
      tooLong(s.duration, entitlement.breakGlass.maxDuration, ['scenario', 'duration'], 'for break-glass');
    }
    s.precedents.forEach((p, i) =>
      tooLong(
        p.duration,
        entitlement.duration.max,
        ['scenario', 'precedents', i, 'duration'],
        `for ${entitlement.id}`,
      ),
    );
    if (entitlement.action.kind !== 'okta-group' && s.peers?.holding !== undefined) {
      out.push([
        ['scenario', 'peers', 'holding'],
        'peers holding it are counted for Okta-group entitlements only: give just the total',
      ]);
    }
  }
  s.history.forEach((h, i) => {
    const earlier = entitlementById(catalog, h.entitlement);
    if (!earlier) {
      out.push([
        ['scenario', 'history', i, 'entitlement'],
        `no entitlement "${h.entitlement}" in the catalog: use one of ${known}`,
      ]);
    } else {
      tooLong(h.duration, earlier.duration.max, ['scenario', 'history', i, 'duration'], `for ${earlier.id}`);
    }
  });
  return out;
}

// --- building the context ---------------------------------------------------------

const DOMAIN = 'example.com';
const AWS_ACCOUNT = '111122223333';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Triage runs a moment after the ticket is filed. */
const TRIAGE_DELAY_MS = 60_000;
/** The Jira custom field the justification arrives in, read by intake's own code. */
const JUSTIFICATION_FIELD = 'customfield_10050';
/** gather.ts's reason for IAM entitlements, where peers' holdings are not counted. */
const PEERS_NOT_COUNTED = 'peers holding it are counted for Okta-group entitlements only';
const APPROVER = `lee.chen@${DOMAIN}`;
const COLLEAGUES = ['priya.shah', 'tomas.novak', 'kim.park', 'noor.haddad', 'jon.baker', 'mei.wong'];
const FACTOR_PROVIDERS: Record<string, string> = {
  webauthn: 'FIDO',
  u2f: 'FIDO',
  'token:software:totp': 'GOOGLE',
  'token:hardware': 'RSA',
};

interface Person {
  name: string;
  email: string;
  title?: string;
  department?: string;
  status: string;
  tenureDays: number;
  manager?: string;
  country: string;
  city: string;
  mfa: readonly string[];
  groups: readonly string[];
}

/** The requester with every default filled in. */
function personOf(r: EvalCase['scenario']['requester']): Person {
  const name = r.name ?? 'Alex Morgan';
  const department = r.department === null ? undefined : (r.department ?? 'Engineering');
  return {
    name,
    email: r.email ?? emailOf(name),
    title: r.title === null ? undefined : (r.title ?? 'Software Engineer'),
    department,
    status: r.status ?? 'ACTIVE',
    tenureDays: r.tenureDays ?? 730,
    manager: r.manager === null ? undefined : (r.manager ?? 'Maria Gonzalez'),
    country: r.country ?? 'Ireland',
    city: r.city ?? (r.country === undefined ? 'Dublin' : ''),
    mfa: r.mfa ?? ['push', 'webauthn'],
    groups: r.groups ?? (department ? [department.toLowerCase()] : []),
  };
}

/** The context triage would have gathered for the case, and the moment triage runs. Deterministic. */
export function caseContext(c: EvalCase, catalog: Catalog): { context: RequestContext; now: Date } {
  const s = c.scenario;
  const entitlement = entitlementById(catalog, s.entitlement);
  if (!entitlement)
    throw new ValidationError(`case ${c.id}: no entitlement "${s.entitlement}" in the catalog`);
  const createdAt = new Date(s.createdAt ?? DEFAULT_CREATED_AT);
  const now = new Date(createdAt.getTime() + TRIAGE_DELAY_MS);
  const person = personOf(s.requester);
  const daysBefore = (days: number) => new Date(createdAt.getTime() - days * DAY_MS);

  const request: AccessRequest = {
    id: `eval-${c.id}`,
    jiraIssueKey: `EVAL-${100 + (parseInt(digest(c.id, 8, 'hex'), 16) % 9900)}`,
    requester: { jiraAccountId: jiraAccountOf(person.email), email: person.email, displayName: person.name },
    entitlementId: entitlement.id,
    durationSeconds:
      s.duration === undefined ? entitlement.duration.default : (parseDuration(s.duration) ?? 0),
    justification: justificationOf(s),
    breakGlass: s.breakGlass,
    state: 'TRIAGING',
    version: 2,
    createdAt: createdAt.toISOString(),
    updatedAt: now.toISOString(),
    decisions: [],
  };

  const sourced = <T>(reason: string | undefined, value: () => T): Sourced<T> =>
    reason === undefined ? { status: 'ok', value: value() } : { status: 'unavailable', reason };
  const u = s.unavailable;
  const mappedToIam = person.email.toLowerCase().endsWith(`@${DOMAIN}`);

  const context: RequestContext = {
    request,
    entitlement,
    gatheredAt: now.toISOString(),
    directory: sourced(u.okta, () => profileOf(s, person, entitlement, createdAt, daysBefore)),
    // As in production, only people of the company's domain map to an IAM user.
    cloud: sourced(u.iam ?? (mappedToIam ? undefined : 'no IAM principal is mapped for the requester'), () =>
      accessOf(s, person, entitlement, daysBefore),
    ),
    chat: sourced(u.slack, () => s.chat.map((m, i) => messageOf(m, i, person, createdAt))),
    onCall: sourced(u.pagerduty, () => shiftsOf(s.onCall, entitlement, createdAt)),
    history: sourced(u.history, () => historyOf(c, person, entitlement, catalog, now, daysBefore)),
  };
  // gather.ts counts peers through the directory: when Okta does not answer, neither does the count.
  if (u.okta !== undefined && context.history.status === 'ok') {
    context.history.value.peers = { total: 0, holding: 0, notCounted: u.okta };
  }
  return { context, now };
}

/** The justification as intake reads it from the ticket's justification field (ADF flattened, trimmed). */
function justificationOf(s: EvalCase['scenario']): string {
  const ticket: Ticket = {
    id: '10001',
    key: 'EVAL-1',
    projectKey: 'EVAL',
    issueType: 'Access request',
    summary: `Access to ${s.entitlement}`,
    description: '',
    fields: { [JUSTIFICATION_FIELD]: s.justificationAdf ?? s.justification },
  };
  return requestParts(ticket, { justification: JUSTIFICATION_FIELD }).justification ?? '';
}

function profileOf(
  s: EvalCase['scenario'],
  person: Person,
  entitlement: Entitlement,
  createdAt: Date,
  daysBefore: (days: number) => Date,
): DirectoryProfile {
  const manager =
    person.manager === undefined
      ? undefined
      : directoryUser(person.manager, emailOf(person.manager), daysBefore(3000));
  const user: DirectoryUser = {
    ...directoryUser(person.name, person.email, daysBefore(person.tenureDays)),
    status: person.status,
    ...(person.title !== undefined ? { title: person.title } : {}),
    ...(person.department !== undefined ? { department: person.department } : {}),
    ...(manager ? { managerId: manager.id } : {}),
  };
  const groups = ['Everyone', ...person.groups].map((name) => ({ id: oktaId('00g', name), name }));
  if (s.holdsAlready && entitlement.action.kind === 'okta-group') {
    groups.push({ id: entitlement.action.groupId, name: oktaGroupName(entitlement) });
  }
  const factors: MfaFactor[] = person.mfa.map((type) => ({
    type,
    provider: FACTOR_PROVIDERS[type] ?? 'OKTA',
    status: 'ACTIVE',
  }));

  const r = s.requester;
  const given = (list: NonNullable<typeof r.signIns>) =>
    list.map((entry): SignIn => {
      const day = daysBefore(entry.daysAgo);
      const at =
        entry.hour === undefined
          ? new Date(day.getTime() - HOUR_MS)
          : new Date(day.setUTCHours(entry.hour, 0, 0, 0));
      const country = entry.country ?? person.country;
      const city = entry.city ?? (entry.country === undefined ? person.city : '');
      return signInAt(at, country, city, entry.outcome === 'success' ? 'SUCCESS' : 'FAILURE');
    });
  const signIns = [
    ...(r.signIns
      ? given(r.signIns)
      : [...usualSignIns(person, createdAt, daysBefore), ...given(r.extraSignIns ?? [])]),
  ]
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
    .map((signIn, i) => ({
      ...signIn,
      ip: `${signIn.country === person.country ? '198.51.100' : '203.0.113'}.${(i % 250) + 1}`,
    }));

  return { user, ...(manager ? { manager } : {}), groups, factors, signIns };
}

/**
 * Weekdays of the 30 days before the request (none before the account existed), in working hours
 * (08:00–15:00 UTC in turn), and once today unless the account is not ACTIVE (a suspended or
 * locked-out account does not sign in).
 */
function usualSignIns(person: Person, createdAt: Date, daysBefore: (days: number) => Date): SignIn[] {
  const out =
    person.status === 'ACTIVE'
      ? [signInAt(new Date(createdAt.getTime() - HOUR_MS), person.country, person.city, 'SUCCESS')]
      : [];
  let turn = 0;
  for (let days = 1; days <= Math.min(30, person.tenureDays - 1); days++) {
    const day = daysBefore(days);
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    out.push(
      signInAt(new Date(day.setUTCHours(8 + (turn++ % 8), 0, 0, 0)), person.country, person.city, 'SUCCESS'),
    );
  }
  return out;
}

function signInAt(at: Date, country: string, city: string, outcome: string): SignIn {
  return { at: at.toISOString(), outcome, country, ...(city ? { city } : {}), device: 'Chrome on macOS' };
}

function accessOf(
  s: EvalCase['scenario'],
  person: Person,
  entitlement: Entitlement,
  daysBefore: (days: number) => Date,
): PrincipalAccess {
  const { action } = entitlement;
  const local = person.email.slice(0, person.email.indexOf('@'));
  const principal =
    action.kind === 'aws-iam-policy' && action.principalType === 'role'
      ? { kind: 'role' as const, name: `${local}-ops`, arn: `arn:aws:iam::${AWS_ACCOUNT}:role/${local}-ops` }
      : { kind: 'user' as const, name: local, arn: `arn:aws:iam::${AWS_ACCOUNT}:user/${local}` };
  const attachedPolicies = (s.iam?.attachedPolicies ?? []).map((p) =>
    p.startsWith('arn:')
      ? { name: p.slice(p.lastIndexOf('/') + 1), arn: p }
      : { name: p, arn: `arn:aws:iam::${AWS_ACCOUNT}:policy/${p}` },
  );
  const inlinePolicies: PrincipalAccess['inlinePolicies'] = [];
  if (s.holdsAlready && action.kind === 'aws-iam-policy') {
    if (action.policyArn !== undefined) {
      attachedPolicies.push({
        name: action.policyArn.slice(action.policyArn.lastIndexOf('/') + 1),
        arn: action.policyArn,
      });
    } else {
      // How loopgate itself grants an inline entitlement, URL-encoded as IAM returns documents.
      inlinePolicies.push({
        name: `loopgate-${entitlement.id}`,
        document: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: action.statements })),
      });
    }
  }
  return {
    principal,
    attachedPolicies,
    inlinePolicies,
    groups: [],
    lastAccessed: (s.iam?.lastAccessed ?? []).map((l) => ({
      service: l.service,
      namespace: l.namespace,
      ...(l.daysAgo === undefined ? {} : { lastAuthenticated: daysBefore(l.daysAgo).toISOString() }),
    })),
  };
}

function messageOf(
  m: EvalCase['scenario']['chat'][number],
  index: number,
  person: Person,
  createdAt: Date,
): ChatMessage {
  const author = m.author ?? person.name;
  const channelId = `C${digest(`channel:${m.channel}`, 10, 'upper')}`;
  const at = new Date(createdAt.getTime() - m.hoursAgo * HOUR_MS);
  // Slack message ids are "<epoch seconds>.<6 digits>"; the permalink drops the dot.
  const ts = `${Math.floor(at.getTime() / 1000)}${String(index).padStart(6, '0')}`;
  return {
    channelId,
    channelName: m.channel,
    authorId: `U${digest(`person:${author}`, 10, 'upper')}`,
    authorName: author,
    text: m.text,
    at: at.toISOString(),
    permalink: `https://example.slack.com/archives/${channelId}/p${ts}`,
  };
}

function shiftsOf(onCall: boolean, entitlement: Entitlement, createdAt: Date): OnCallShift[] {
  if (!onCall) return [];
  const policy = entitlement.owners.escalationPolicy;
  return [
    {
      escalationPolicyId: policy,
      escalationPolicyName: `${entitlement.id} owners`,
      scheduleId: `P${digest(`schedule:${policy}`, 6, 'upper')}`,
      level: 1,
      start: new Date(createdAt.getTime() - 6 * HOUR_MS).toISOString(),
      end: new Date(createdAt.getTime() + 18 * HOUR_MS).toISOString(),
    },
  ];
}

function historyOf(
  c: EvalCase,
  person: Person,
  entitlement: Entitlement,
  catalog: Catalog,
  now: Date,
  daysBefore: (days: number) => Date,
): History {
  const s = c.scenario;
  // Decided two hours before the request's time of day: `daysAgo: 0` is earlier the same day.
  const decidedAt = (days: number) => new Date(daysBefore(days).getTime() - 2 * HOUR_MS);
  const secondsOf = (text: string | undefined, of: Entitlement) =>
    text === undefined ? of.duration.default : (parseDuration(text) ?? of.duration.default);
  const mine = s.history.map((h, i) => {
    const of = entitlementById(catalog, h.entitlement) ?? entitlement;
    return decided({
      id: `eval-${c.id}-mine-${i + 1}`,
      key: `ACCESS-${2001 + i}`,
      email: person.email,
      name: person.name,
      entitlementId: of.id,
      durationSeconds: secondsOf(h.duration, of),
      outcome: h.outcome,
      decidedAt: decidedAt(h.daysAgo),
      reason: h.reason,
      now,
    });
  });
  const others = s.precedents.map((p, i) => {
    const email = p.requester ?? `${COLLEAGUES[i % COLLEAGUES.length]}@${DOMAIN}`;
    return decided({
      id: `eval-${c.id}-precedent-${i + 1}`,
      key: `ACCESS-${1001 + i}`,
      email,
      entitlementId: entitlement.id,
      durationSeconds: secondsOf(p.duration, entitlement),
      outcome: p.outcome,
      decidedAt: decidedAt(p.daysAgo),
      reason: p.reason,
      now,
    });
  });
  // Ticket keys follow filing order, as Jira numbers issues: the oldest decided request has the lowest.
  const byTime = [...mine, ...others].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  byTime.forEach((r, i) => (r.jiraIssueKey = `ACCESS-${1001 + i}`));
  const newestFirst = (list: AccessRequest[]) =>
    [...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const peers = s.peers ?? { total: 8, holding: 5 };
  return {
    requesterRequests: newestFirst(mine),
    // The store lists every decided request for the entitlement, the requester's own included.
    entitlementDecisions: newestFirst([...others, ...mine.filter((r) => r.entitlementId === entitlement.id)]),
    peers:
      entitlement.action.kind === 'okta-group'
        ? { total: peers.total, holding: peers.holding ?? Math.round((peers.total * 5) / 8) }
        : { total: peers.total, holding: 0, notCounted: PEERS_NOT_COUNTED },
  };
}

/** A decided request: denied, or approved and granted (revoked once its duration ran out). */
function decided(d: {
  id: string;
  key: string;
  email: string;
  name?: string;
  entitlementId: string;
  durationSeconds: number;
  outcome: DecisionOutcome;
  decidedAt: Date;
  reason: string | undefined;
  now: Date;
}): AccessRequest {
  const ends = new Date(d.decidedAt.getTime() + d.durationSeconds * 1000);
  const state = d.outcome === 'deny' ? 'DENIED' : ends > d.now ? 'GRANTED' : 'REVOKED';
  return {
    id: d.id,
    jiraIssueKey: d.key,
    requester: {
      jiraAccountId: jiraAccountOf(d.email),
      email: d.email,
      ...(d.name ? { displayName: d.name } : {}),
    },
    entitlementId: d.entitlementId,
    durationSeconds: d.durationSeconds,
    justification: d.reason ?? 'Earlier request',
    breakGlass: false,
    state,
    version: state === 'REVOKED' ? 6 : 4,
    createdAt: new Date(d.decidedAt.getTime() - 15 * 60_000).toISOString(),
    updatedAt: (state === 'REVOKED' ? ends : d.decidedAt).toISOString(),
    decisions: [
      {
        outcome: d.outcome,
        actor: { kind: 'person', id: APPROVER },
        decidedAt: d.decidedAt.toISOString(),
        ...(d.reason ? { comment: d.reason } : {}),
      },
    ],
  };
}

function directoryUser(name: string, email: string, created: Date): DirectoryUser {
  return {
    id: oktaId('00u', email),
    login: email,
    email,
    status: 'ACTIVE',
    displayName: name,
    createdAt: created.toISOString(),
  };
}

/** `Okta group prod-readonly` in the catalog's description, else the entitlement's id. */
function oktaGroupName(entitlement: Entitlement): string {
  return /Okta group ([\w-]+)/.exec(entitlement.description)?.[1] ?? entitlement.id;
}

/** `Lucía Gómez` → `lucia.gomez@example.com`. */
const emailOf = (name: string) =>
  `${name
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.|\.$/g, '')}@${DOMAIN}`;

const jiraAccountOf = (email: string) => `712020:${digest(`jira:${email}`, 24, 'hex')}`;

/** Okta ids are 20 characters: a 3-character prefix (00u users, 00g groups) and 17 more. */
const oktaId = (prefix: string, seed: string) => `${prefix}${digest(`okta:${seed}`, 17, 'alnum')}`;

/** A stable id fragment derived from text. */
function digest(text: string, length: number, alphabet: 'hex' | 'upper' | 'alnum'): string {
  const hex = createHash('sha256').update(text).digest('hex');
  if (alphabet === 'hex') return hex.slice(0, length);
  const chars =
    alphabet === 'upper' ? 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789' : 'abcdefghijkmnopqrstuvwxyz0123456789';
  return Array.from(
    { length },
    (_, i) => chars[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % chars.length],
  ).join('');
}

// --- scenarios that can be true ------------------------------------------------------

/**
 * What makes a case's world impossible, one sentence each, checked on the context the case builds
 * (defaults included): sign-ins, messages and the requester's own requests before their account
 * existed; anything dated after the request; a suspended or locked-out account that signed in
 * successfully in the 12 hours before the request; ticket keys used twice, or out of filing order.
 */
/** A suspended or locked-out account may have signed in the day before; not in the last hours. */
const FRESH_SIGN_IN_MS = 12 * HOUR_MS;

export function scenarioProblems(c: EvalCase, catalog: Catalog): string[] {
  const { context } = caseContext(c, catalog);
  const problems: string[] = [];
  const filed = Date.parse(context.request.createdAt);
  const directory = context.directory.status === 'ok' ? context.directory.value : undefined;
  const created = directory ? Date.parse(directory.user.createdAt) : undefined;
  const before = (at: string) => created !== undefined && Date.parse(at) < created;
  const after = (at: string) => Date.parse(at) > filed;

  if (directory) {
    const early = directory.signIns.filter((s) => before(s.at)).length;
    if (early) problems.push(`${early} sign-in(s) before the account was created`);
    const late = directory.signIns.filter((s) => after(s.at)).length;
    if (late) problems.push(`${late} sign-in(s) after the request was filed`);
    if (directory.user.status.toUpperCase() !== 'ACTIVE') {
      const fresh = directory.signIns.filter(
        (s) => s.outcome === 'SUCCESS' && filed - Date.parse(s.at) < FRESH_SIGN_IN_MS && !after(s.at),
      ).length;
      if (fresh)
        problems.push(
          `the account is ${directory.user.status} yet signed in successfully ${fresh} time(s) in the 12 hours before the request`,
        );
    }
  }
  if (context.chat.status === 'ok') {
    const mine = context.chat.value.filter((m) => m.authorName === context.request.requester.displayName);
    if (mine.some((m) => before(m.at)))
      problems.push('the requester wrote in Slack before their account existed');
  }
  if (context.history.status === 'ok') {
    const { requesterRequests, entitlementDecisions } = context.history.value;
    if (requesterRequests.some((r) => before(r.createdAt)))
      problems.push("the requester's own earlier request predates their account");
    const all = [...new Map([...requesterRequests, ...entitlementDecisions].map((r) => [r.id, r])).values()];
    if (all.some((r) => after(r.createdAt))) problems.push('an earlier request is dated after this one');
    const keys = [context.request.jiraIssueKey, ...all.map((r) => r.jiraIssueKey)];
    const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
    if (twice.length) problems.push(`ticket key(s) used twice: ${[...new Set(twice)].join(', ')}`);
    const numbered = all
      .map((r) => ({ at: r.createdAt, n: Number(/^ACCESS-(\d+)$/.exec(r.jiraIssueKey)?.[1] ?? NaN) }))
      .filter((r) => !Number.isNaN(r.n))
      .sort((a, b) => a.at.localeCompare(b.at));
    if (numbered.some((r, i) => i > 0 && r.n < (numbered[i - 1]?.n ?? 0)))
      problems.push('ticket keys are out of filing order');
  }
  return problems;
}
