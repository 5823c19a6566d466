// Approval in stages. A request is decided by the entitlement's stages in
// order (e.g. the requester's manager), then by its owners (the entitlement's
// own approvers), then by the approvers of every separation-of-duties conflict
// triage found. Each stage has its own quorum; an approval counts only in the
// stage that is open, so an owner approving during the manager's stage does not
// skip it. One person approves in one stage only: the point of a second stage is
// a second person (the same rule as "each person counts once" in a quorum).
// A stage whose only approver is the manager follows the catalog's
// withoutManager when the directory names no ACTIVE manager (or names the
// requester themself): skipped, or decided by the people it names instead.

import {
  type Catalog,
  type Entitlement,
  isManagerOnly,
  type Approvers,
  type WithoutManager,
} from '../catalog';
import type { DirectoryUser } from '../context';
import type { AccessRequest, Decision } from '../model';
import type { Directory } from '../ports';
import { describeApprovers } from './authorize';

export const OWNERS_STAGE = 'owners';

export interface PlannedStage {
  /** Recorded on each approval (Decision.stage): `owners`, a stage's name, `stage-2`, `conflict:<id>`. */
  key: string;
  /** For people: "manager", "owners", "separation of duties (deploy-vs-audit)". */
  label: string;
  /** The entitlement as this stage's approvers see it: authorizeApprover checks authors against it. */
  rules: Entitlement;
  required: number;
  /** Who may approve in this stage, in words. */
  who: string;
}

export interface ApprovalPlan {
  stages: PlannedStage[];
  /** What the page and the notes must say about the plan (a failover taken, a stage skipped). */
  notes: string[];
}

/** Whether the request is decided by more than the entitlement's own approvers (else the plain quorum applies). */
export function hasStages(entitlement: Entitlement, request: Pick<AccessRequest, 'conflicts'>): boolean {
  return (
    (entitlement.stages?.length ?? 0) > 0 ||
    entitlement.approvers?.manager === true ||
    (request.conflicts?.length ?? 0) > 0
  );
}

/**
 * The stages that decide this request, in order. Reads the requester's manager from the directory
 * when a stage names them; a directory that does not answer throws (the caller retries).
 */
export async function approvalPlan(
  deps: { directory: Directory; catalog: Catalog },
  request: AccessRequest,
  entitlement: Entitlement,
): Promise<ApprovalPlan> {
  const notes: string[] = [];
  const usesManager = [entitlement.approvers, ...(entitlement.stages ?? []).map((s) => s.approvers)].some(
    (a) => a?.manager === true,
  );
  const manager = usesManager ? await managerOf(deps.directory, request) : undefined;
  const stages: PlannedStage[] = [];

  const add = (
    key: string,
    label: string,
    approvers: Approvers,
    required: number,
    failover: WithoutManager | undefined,
    base: Entitlement = entitlement,
  ) => {
    if (isManagerOnly(approvers) && manager?.kind !== 'found') {
      const why = manager?.why ?? 'the directory names no manager for the requester';
      if (failover === 'skip' || failover === undefined) {
        notes.push(`${why}: the ${label} stage is skipped, as the catalog says.`);
        return;
      }
      const rules = { ...base, approvers: failover.approvers };
      notes.push(
        `${why}: the ${label} stage is decided by ${describeApprovers(rules)} instead, as the catalog says.`,
      );
      stages.push({ key, label, rules, required: failover.approvalsRequired, who: describeApprovers(rules) });
      return;
    }
    const rules = { ...base, approvers };
    const who =
      approvers.manager === true && manager?.kind === 'found'
        ? describeApprovers(rules).replace(
            "the requester's manager (as the directory names them)",
            `the requester's manager, ${manager.user.displayName} <${manager.user.login}> (Okta ${manager.user.id})`,
          )
        : describeApprovers(rules);
    stages.push({ key, label, rules, required, who });
  };

  (entitlement.stages ?? []).forEach((s, i) => {
    const name = s.name ?? `stage-${i + 1}`;
    add(name, s.name ?? `stage ${i + 1}`, s.approvers, s.approvalsRequired, s.withoutManager);
  });
  if (entitlement.approvers) {
    add(
      OWNERS_STAGE,
      'owners',
      entitlement.approvers,
      entitlement.approvalsRequired,
      entitlement.withoutManager,
    );
  }
  for (const found of request.conflicts ?? []) {
    const conflict = deps.catalog.conflicts.find((c) => c.id === found.id);
    if (!conflict) {
      // The catalog dropped the conflict after triage: nobody is left who could approve through it.
      notes.push(`conflict ${found.id} is no longer in the catalog; its approvers are not asked.`);
      continue;
    }
    const { escalationPolicy, emails, oktaGroup } = conflict.approvers;
    add(
      `conflict:${conflict.id}`,
      `separation of duties (${conflict.id})`,
      { onCall: escalationPolicy !== undefined, emails, ...(oktaGroup ? { oktaGroup } : {}) },
      conflict.approvalsRequired,
      undefined,
      conflictRules(entitlement, escalationPolicy),
    );
  }
  return { stages, notes };
}

/** The entitlement as a conflict's approvers see it: on call for their policy, at level 1 (the owners' levels are the owners'). */
function conflictRules(entitlement: Entitlement, escalationPolicy: string | undefined): Entitlement {
  const { onCall: _ownersLevels, ...rest } = entitlement;
  return {
    ...rest,
    owners: {
      ...entitlement.owners,
      escalationPolicy: escalationPolicy ?? entitlement.owners.escalationPolicy,
    },
  };
}

type ManagerLookup = { kind: 'found'; user: DirectoryUser } | { kind: 'none'; why: string };

/** The requester's manager as the directory names them: an ACTIVE person who is not the requester. */
async function managerOf(directory: Directory, request: AccessRequest): Promise<ManagerLookup> {
  const requesterId = request.requester.directoryUserId;
  if (!requesterId) return { kind: 'none', why: 'the requester has no directory id' };
  const requester = await directory.userById(requesterId);
  const managerId = requester?.managerId;
  if (!managerId) return { kind: 'none', why: 'the directory names no manager for the requester' };
  if (managerId === requesterId) {
    return { kind: 'none', why: "the directory names the requester as their own manager, which can't count" };
  }
  const manager = await directory.userById(managerId);
  if (!manager)
    return { kind: 'none', why: `the requester's manager (Okta ${managerId}) is not in the directory` };
  if (manager.status !== 'ACTIVE') {
    return { kind: 'none', why: `the requester's manager ${manager.login} is ${manager.status}, not ACTIVE` };
  }
  return { kind: 'found', user: manager };
}

/** The approvals recorded in a stage (older decisions, without a stage, are the owners'). */
export function approvalsIn(decisions: readonly Decision[], key: string): Decision[] {
  return decisions.filter((d) => d.outcome === 'approve' && (d.stage ?? OWNERS_STAGE) === key);
}

/** The first stage whose quorum is not met yet; undefined when every stage is complete. */
export function openStage(
  stages: readonly Pick<PlannedStage, 'key' | 'required'>[],
  decisions: readonly Decision[],
  distinctCount: (approvals: readonly Decision[]) => number,
): number | undefined {
  const index = stages.findIndex((s) => distinctCount(approvalsIn(decisions, s.key)) < s.required);
  return index < 0 ? undefined : index;
}

/** The plan in lines for the page and the ticket: each stage, its quorum, who approves, and what is open. */
export function describePlan(plan: ApprovalPlan, decisions: readonly Decision[] = []): string[] {
  const count = (approvals: readonly Decision[]) => new Set(approvals.map(personKey)).size;
  const open = openStage(plan.stages, decisions, count);
  return [
    ...plan.stages.map((s, i) => {
      const approvals = approvalsIn(decisions, s.key);
      const by = approvals.length ? `; approved by ${approvals.map((d) => d.actor.id).join(', ')}` : '';
      const status =
        open === undefined || i < open ? 'complete' : i === open ? 'OPEN' : 'waits for the stage before';
      return `stage ${i + 1} of ${plan.stages.length}, ${s.label} (${status}): ${s.required === 1 ? '1 approval' : `${s.required} approvals`} from ${s.who}${by}`;
    }),
    ...plan.notes,
  ];
}

/** One person is one approver, by directory id (older decisions: by address). */
export function personKey(d: Decision): string {
  return d.actor.personId ? `person:${d.actor.personId}` : `address:${d.actor.id.toLowerCase()}`;
}
