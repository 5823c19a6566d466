// Checks a ticket's request against the catalog. Every problem is phrased for
// the requester, who reads it as a Jira comment and must know exactly what to fix.

import { type Catalog, type Entitlement, entitlementById } from '../catalog';
import { formatDuration, parseDuration } from '../duration';
import type { RequestParts } from './ticket';

export type IntakeField = 'entitlement' | 'duration' | 'justification' | 'requester';

export interface IntakeProblem {
  field: IntakeField;
  message: string;
}

export interface ValidRequest {
  entitlement: Entitlement;
  durationSeconds: number;
  justification: string;
}

export type Validation = { ok: true; value: ValidRequest } | { ok: false; problems: IntakeProblem[] };

/** The requester's own text as loopgate quotes it back: one line, at most 80 characters. */
function quoted(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return `"${line.length > 80 ? `${line.slice(0, 79)}…` : line}"`;
}

export function validateRequest(parts: RequestParts, catalog: Catalog): Validation {
  const problems: IntakeProblem[] = [];
  const validIds = catalog.entitlements.map((e) => e.id).join(', ');
  const entitlement = parts.entitlementId ? entitlementById(catalog, parts.entitlementId.trim()) : undefined;
  if (!parts.entitlementId) {
    problems.push({
      field: 'entitlement',
      message: `Name the access you need on a line "Entitlement: <id>". Valid ids: ${validIds}.`,
    });
  } else if (!entitlement) {
    problems.push({
      field: 'entitlement',
      message: `${quoted(parts.entitlementId)} is not an entitlement loopgate knows. Valid ids: ${validIds}.`,
    });
  }

  let durationSeconds = entitlement?.duration.default;
  if (parts.duration !== undefined) {
    const seconds = parseDuration(parts.duration);
    if (seconds === undefined) {
      problems.push({
        field: 'duration',
        message: `${quoted(parts.duration)} is not a duration: write a whole number and a unit, as in 30m, 4h or 2d.`,
      });
    } else if (entitlement && seconds > entitlement.duration.max) {
      problems.push({
        field: 'duration',
        message: `${formatDuration(seconds)} is longer than the ${formatDuration(entitlement.duration.max)} maximum for ${entitlement.id}; ask for ${formatDuration(entitlement.duration.max)} or less.`,
      });
    } else {
      durationSeconds = seconds;
    }
  }

  const justification = parts.justification?.trim() ?? '';
  if (!justification) {
    problems.push({
      field: 'justification',
      message: 'Say why you need it on a line "Reason: <text>", naming the incident or ticket it is for.',
    });
  }

  if (problems.length > 0 || !entitlement || durationSeconds === undefined) {
    return { ok: false, problems };
  }
  return { ok: true, value: { entitlement, durationSeconds, justification } };
}

/** The Jira comment a rejected requester reads. */
export function rejectionComment(problems: IntakeProblem[]): string {
  return [
    'loopgate could not accept this access request:',
    ...problems.map((p) => `- ${p.message}`),
    'Please file a new ticket with these fixed.',
  ].join('\n');
}
