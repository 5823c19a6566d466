// The page: the PagerDuty incident an approver reads and answers. Plain text in
// a fixed order (who, what, why, the model's advice, the signals, what they hold
// and what their peers hold, precedents, what is unknown, the rest of the
// evidence, how to answer), kept under PagerDuty's comfortable reading size by
// cutting the least important lines first and saying what was cut. Everything
// here is already safe text: evidence statements are flattened and quoted, and
// the advice is checked model output.

import { type AdviceRecord, adviceText } from '../advice/advise';
import type { Entitlement } from '../catalog';
import type { Evidence, EvidenceBundle } from '../context';
import { describeApprovers } from '../decide/authorize';
import type { AccessRequest } from '../model';
import { describeOnCallRule, onCallLevels } from '../on-call';
import type { Urgency } from '../ports';
import { signalRef } from '../triage/bundle';
import { duration, oneLine } from '../triage/text';

/** PagerDuty takes more, but a page is read on a phone: under 16 KB. */
export const MAX_PAGE_BYTES = 16_000;
const MAX_TITLE = 200;

export interface Page {
  title: string;
  urgency: Urgency;
  details: string;
  /** Lines left out to fit, by section. */
  cut: Record<string, number>;
}

export interface PageInput {
  request: AccessRequest;
  entitlement: Entitlement;
  bundle: EvidenceBundle;
  advice: AdviceRecord;
  /** The Jira issue's web address. */
  ticketUrl?: string;
  /** How to answer: the command syntax. */
  answerSyntax: string;
  /** Shown first: a catalog rule already approved the request (audit-only, on-call, break-glass). */
  banner?: string;
  /** The approval stages in order, and what is open (decide/stages.ts describePlan). */
  stages?: string[];
}

interface Section {
  heading: string;
  lines: string[];
  /** Lower is cut later; 0 is never cut. */
  cutOrder: number;
}

/** The evidence key names what a fact is about (`okta.account`, `history.precedents`); see triage/evidence.ts. */
const keyOf = (e: Evidence) => (e as Evidence & { key?: string }).key ?? '';

export function renderPage(input: PageInput, maxBytes = MAX_PAGE_BYTES): Page {
  const { request, entitlement, bundle, advice } = input;
  const used = new Set<string>();
  const take = (match: (key: string) => boolean) =>
    bundle.evidence
      .filter((e) => !used.has(e.id) && match(keyOf(e)))
      .map((e) => {
        used.add(e.id);
        return `${e.id}  ${e.statement}`;
      });
  const who = request.requester.displayName ?? request.requester.email ?? request.requester.jiraAccountId;

  const sections: Section[] = [
    ...(input.banner ? [{ heading: 'ALREADY APPROVED', lines: [input.banner], cutOrder: 0 }] : []),
    // Separation of duties comes before anything else: the approver must not miss it.
    ...(bundle.evidence.some((e) => keyOf(e).startsWith('conflict:'))
      ? [
          {
            heading: 'SEPARATION OF DUTIES: CONFLICT',
            lines: [
              ...take((k) => k.startsWith('conflict:')),
              "No catalog rule grants through a conflict; the conflict's approvers must approve too (see APPROVAL STAGES).",
            ],
            cutOrder: 0,
          },
        ]
      : []),
    {
      heading: 'WHO',
      lines: [
        ...take((k) => k === 'request' || k === 'okta.account'),
        ...(request.requester.directoryUserId
          ? [
              `identity: Okta user ${request.requester.directoryUserId} (${request.requester.login ?? request.requester.email ?? 'login unknown'})`,
            ]
          : []),
        ...(request.requesterProof?.outcome === 'accepted'
          ? [
              `confirmed: the requester accepted an Okta Verify push for this request at ${request.requesterProof.answeredAt ?? 'an unrecorded time'}`,
            ]
          : []),
      ],
      cutOrder: 0,
    },
    {
      heading: 'WHAT',
      lines: [
        `${entitlement.id}: ${oneLine(entitlement.description, 200)}`,
        `risk tier ${entitlement.riskTier}; for ${duration(request.durationSeconds)} (catalog maximum ${duration(entitlement.duration.max)}); ` +
          approvalLine(entitlement.approvalsRequired, input.banner !== undefined, request.breakGlass),
        ...take((k) => k === 'catalog'),
        ...(input.banner === undefined ? onCallLines(entitlement) : []),
        // For on-call-auto, whether the requester is on call decides: it belongs next to the rule.
        ...(entitlement.mode === 'on-call-auto' ? take((k) => k === 'pagerduty.on-call') : []),
      ],
      cutOrder: 0,
    },
    ...(input.stages?.length ? [{ heading: 'APPROVAL STAGES', lines: input.stages, cutOrder: 0 }] : []),
    {
      heading: 'WHY',
      lines: [
        ...take((k) => k === 'justification'),
        ...(input.ticketUrl ? [`ticket: ${input.ticketUrl}`] : []),
      ],
      cutOrder: 0,
    },
    { heading: 'RECOMMENDATION (advisory; you decide)', lines: adviceText(advice).split('\n'), cutOrder: 0 },
    {
      heading: 'SIGNALS (deterministic, most severe first)',
      lines: bundle.signals.length
        ? // Numbered as the prompt numbers them, so the advice's citations of S1, S2 … can be looked up here.
          bundle.signals.map(
            (s, i) =>
              `${signalRef(i)} [${s.severity}] ${s.id}: ${s.explanation}${s.evidence.length ? ` (${s.evidence.join(', ')})` : ''}`,
          )
        : ['none raised'],
      cutOrder: 0,
    },
    {
      heading: 'WHAT THEY HOLD, AND THEIR PEERS',
      lines: take(
        (k) => k === 'okta.holds' || k === 'iam.holds' || k === 'okta.groups' || k === 'history.peers',
      ),
      cutOrder: 3,
    },
    { heading: 'PRECEDENTS AND HISTORY', lines: take((k) => k.startsWith('history.')), cutOrder: 4 },
    {
      heading: 'WHAT THE SOURCES COULD NOT TELL',
      lines: take((k) => k.startsWith('unavailable:')),
      cutOrder: 1,
    },
    { heading: 'MORE EVIDENCE', lines: take(() => true), cutOrder: 5 },
    {
      heading: 'HOW TO ANSWER (a note on this incident)',
      lines: [
        ...input.answerSyntax.split('\n'),
        'Your note counts as the Okta user your PagerDuty user belongs to (ACTIVE accounts only); ' +
          'the requester cannot decide from any of their accounts, and each person counts once.',
        ...(input.entitlement.stepUp.approvers
          ? [
              'An approve or extend counts only once you accept the Okta Verify push loopgate then sends to your device; ' +
                'loopgate notes here while the push is outstanding.',
            ]
          : []),
      ],
      cutOrder: 0,
    },
  ];

  const cut: Record<string, number> = {};
  let details = layout(sections, cut);
  // Cut from the end of the most expendable section first, one line at a time.
  for (const section of [...sections].filter((s) => s.cutOrder > 0).sort((a, b) => b.cutOrder - a.cutOrder)) {
    while (Buffer.byteLength(details) > maxBytes && section.lines.length > 0) {
      section.lines.pop();
      cut[section.heading] = (cut[section.heading] ?? 0) + 1;
      details = layout(sections, cut);
    }
  }
  if (Buffer.byteLength(details) > maxBytes) {
    // Only the never-cut sections are left; they are bounded, so this is a bug, not data.
    throw new Error(`the page is ${Buffer.byteLength(details)} bytes with every optional line cut`);
  }

  const advised = advice.status === 'advised' ? `advice: ${advice.advice.recommendation}` : 'no advice';
  const title = oneLine(
    `Access: ${who} → ${entitlement.id} for ${duration(request.durationSeconds)} (${request.jiraIssueKey}; ${advised})`,
    MAX_TITLE,
  );
  return { title, urgency: urgencyOf(request, entitlement, bundle), details, cut };
}

function layout(sections: readonly Section[], cut: Record<string, number>): string {
  return sections
    .filter((s) => s.lines.length > 0 || cut[s.heading])
    .map((s) => {
      const dropped = cut[s.heading];
      const note = dropped ? [`(${dropped} more line${dropped === 1 ? '' : 's'} cut to fit the page)`] : [];
      return [`== ${s.heading} ==`, ...s.lines, ...note].join('\n');
    })
    .join('\n\n');
}

/** High when the access or the signals are serious, or for break-glass; otherwise low, so nobody is woken for routine reads. */
export function urgencyOf(request: AccessRequest, entitlement: Entitlement, bundle: EvidenceBundle): Urgency {
  const serious = (s: string) => s === 'high' || s === 'critical';
  return request.breakGlass ||
    serious(entitlement.riskTier) ||
    bundle.signals.some((s) => serious(s.severity))
    ? 'high'
    : 'low';
}

/** Which on-call rule applies and who may approve, when no catalog rule approved the request already. */
function onCallLines(entitlement: Entitlement): string[] {
  const rule = describeOnCallRule(entitlement.owners.escalationPolicy, onCallLevels(entitlement));
  return [
    ...(entitlement.mode === 'on-call-auto'
      ? [`rule on-call-auto did not apply: it grants at once only to ${rule}`]
      : []),
    `who may approve: ${describeApprovers(entitlement)}`,
  ];
}

/** What the page asks of its reader: approvals, nothing (a catalog rule approved), or a break-glass review. */
function approvalLine(required: number, byRule: boolean, breakGlass: boolean): string {
  if (byRule && breakGlass) return 'granted by break-glass: a review after the fact is needed';
  if (byRule) return 'approved by a catalog rule: no approval needed';
  return required === 1 ? '1 approval needed' : `${required} approvals from different people needed`;
}
