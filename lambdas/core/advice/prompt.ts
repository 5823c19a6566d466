// The prompt: two Markdown templates kept in prompts/recommendation/, with
// named slots filled from the request and its evidence bundle. Every slot's
// content is untrusted data (ticket text, chat, profile fields), so it is
// always wrapped in a delimited data section here, whatever the template does,
// and the delimiters cannot be forged from inside.

import { createHash } from 'node:crypto';
import { type Catalog, type Entitlement, entitlementById } from '../catalog';
import type { EvidenceBundle } from '../context';
import { ConfigurationError } from '../errors';
import type { AccessRequest } from '../model';
import { bundleLines, signalRef } from '../triage/bundle';
import { duration, oneLine } from '../triage/text';

export const PROMPT_SLOTS = [
  'request',
  'signals',
  'evidence',
  'precedents',
  'policy',
  'alternatives',
] as const;
export type PromptSlot = (typeof PROMPT_SLOTS)[number];

export interface PromptTemplates {
  system: string;
  user: string;
  /** Names the templates in errors, usually their folder. */
  source: string;
}

export interface PromptMessage {
  role: 'system' | 'user';
  content: string;
}

export interface RenderedPrompt {
  messages: PromptMessage[];
  /** A hash of the templates: which wording produced an answer. */
  version: string;
  /** Ids the answer may cite: every id the prompt shows (evidence, signals, policy excerpts), and nothing else. */
  citable: string[];
  /** Entitlement ids the answer may suggest instead. */
  alternatives: string[];
}

const SLOT = /\{\{\s*([a-zA-Z-]+)\s*\}\}/g;

/** `p-` and 12 hex digits of SHA-256 over both templates. */
export function promptVersion(templates: Pick<PromptTemplates, 'system' | 'user'>): string {
  const hash = createHash('sha256')
    .update(templates.system)
    .update('\0')
    .update(templates.user)
    .digest('hex');
  return `p-${hash.slice(0, 12)}`;
}

/**
 * Throws naming every problem: an unknown slot, a slot in the system template (data never goes
 * there), a slot missing from the user template or used twice (data would be lost or doubled).
 */
export function checkTemplates(templates: PromptTemplates): void {
  const problems: string[] = [];
  const systemSlots = [...templates.system.matchAll(SLOT)].map((m) => m[1]);
  if (systemSlots.length > 0) {
    problems.push(`system.md has slots (${systemSlots.join(', ')}); data belongs in user.md only`);
  }
  const used = [...templates.user.matchAll(SLOT)].map((m) => m[1] ?? '');
  for (const name of used) {
    if (!(PROMPT_SLOTS as readonly string[]).includes(name)) {
      problems.push(`user.md has an unknown slot {{${name}}}; the slots are ${PROMPT_SLOTS.join(', ')}`);
    }
  }
  for (const slot of PROMPT_SLOTS) {
    const count = used.filter((name) => name === slot).length;
    if (count !== 1) {
      problems.push(`user.md must use {{${slot}}} exactly once, found ${count}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigurationError(
      `${templates.source}: the prompt templates are invalid:\n  ${problems.join('\n  ')}`,
    );
  }
}

export interface PromptInput {
  /** When the advice is asked for: the model has no clock, and dates in the evidence are read against it. */
  now: Date;
  request: AccessRequest;
  entitlement: Entitlement;
  catalog: Catalog;
  bundle: EvidenceBundle;
}

export function renderPrompt(templates: PromptTemplates, input: PromptInput): RenderedPrompt {
  checkTemplates(templates);
  const lines = bundleLines(input.bundle);
  const alternatives = input.entitlement.narrowerAlternatives.flatMap((id) => {
    const alternative = entitlementById(input.catalog, id);
    return alternative ? [alternative] : [];
  });
  const isHistory = (line: (typeof lines.evidence)[number]) => line.evidence.source === 'history';
  const leftOut = input.bundle.cut.length
    ? [
        `(${input.bundle.cut.length} lower-priority facts left out to fit the budget: ${input.bundle.cut.join(', ')})`,
      ]
    : [];
  const slots: Record<PromptSlot, string[]> = {
    request: requestLines(input.request, input.entitlement, input.now),
    signals: lines.signals.length ? lines.signals : ['none raised'],
    evidence: [...lines.evidence.filter((l) => !isHistory(l)).map((l) => l.line), ...leftOut],
    precedents: orNone(lines.evidence.filter(isHistory).map((l) => l.line)),
    policy: orNone(lines.policy),
    alternatives: orNone(
      alternatives.map(
        (a) =>
          `${a.id}: ${oneLine(a.description, 200)} (risk tier ${a.riskTier}, at most ${duration(a.duration.max)})`,
      ),
    ),
  };
  const user = templates.user.replace(SLOT, (_, name: PromptSlot) => dataSection(name, slots[name]));
  const keptPolicy = new Set(input.bundle.kept.policy);
  const keptSignals = new Set(input.bundle.kept.signals);
  return {
    messages: [
      { role: 'system', content: templates.system.trim() },
      { role: 'user', content: user.trim() },
    ],
    version: promptVersion(templates),
    citable: [
      ...lines.evidence.map((l) => l.evidence.id),
      ...input.bundle.signals.flatMap((s, i) => (keptSignals.has(s.id) ? [signalRef(i)] : [])),
      ...input.bundle.policy.filter((p) => keptPolicy.has(p.id)).map((p) => p.id),
    ],
    alternatives: alternatives.map((a) => a.id),
  };
}

/** The request as the catalog and the ticket state it; the justification is evidence (quoted there). */
function requestLines(request: AccessRequest, entitlement: Entitlement, now: Date): string[] {
  const who = [request.requester.displayName, request.requester.email].filter(Boolean).join(', ');
  return [
    `Now: ${now.toISOString().slice(0, 16)}Z (UTC); the request was filed ${request.createdAt.slice(0, 16)}Z`,
    `Request ${request.id} from Jira issue ${request.jiraIssueKey}`,
    `Requester: ${oneLine(who || `Jira account ${request.requester.jiraAccountId}`, 200)}`,
    `Entitlement: ${entitlement.id}: ${oneLine(entitlement.description, 300)}`,
    `Risk tier: ${entitlement.riskTier}; approvals required: ${entitlement.approvalsRequired}; mode: ${entitlement.mode}`,
    `Duration asked: ${duration(request.durationSeconds)} (catalog default ${duration(entitlement.duration.default)}, maximum ${duration(entitlement.duration.max)})`,
    `Break-glass: ${request.breakGlass ? 'yes (the access is granted at once; this advice is for the review after)' : 'no'}`,
  ];
}

function orNone(lines: string[]): string[] {
  return lines.length ? lines : ['none'];
}

/**
 * A data section: `<name>` … `</name>`. Angle brackets inside become look-alikes, so no text in the
 * data can close the section or open another; the model is told that nothing inside is an instruction.
 */
function dataSection(name: string, lines: readonly string[]): string {
  const body = lines.map((line) => line.replace(/</g, '‹').replace(/>/g, '›')).join('\n');
  return `<${name}>\n${body}\n</${name}>`;
}
