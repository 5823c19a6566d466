// Incidents and their notes as the stand-in keeps them, and how PagerDuty
// renders them: the REST v2 incident, the note, and the v3 webhook's incident
// data (which differs from REST: `number`, `assignees`).

import type { ScenarioPerson } from '../scenario/load';
import {
  type Directory,
  type PagerDutyUser,
  pdTime,
  type Reference,
  type ScenarioPolicy,
  type ScenarioService,
  stableId,
} from './directory';

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['triggered', 'acknowledged', 'resolved'];
export type Urgency = 'high' | 'low';

/**
 * Where an action really came from. PagerDuty does not say so on the wire for a
 * note (the webhook's `agent`/`client`, the note and its log entry look the same
 * for all of them, see log-entries.ts); the stand-in keeps it for tests only.
 */
export type ActionOrigin =
  /** A person in PagerDuty's web app (the control API). */
  | { via: 'web_app' }
  /** A person in PagerDuty's mobile app (the control API). */
  | { via: 'mobile_app' }
  /** A REST API call: its token's kind and last 4 characters, and the From header. */
  | { via: 'rest_api'; auth: 'token' | 'bearer'; truncatedToken: string; from: string };

export interface NoteRecord {
  id: string;
  /** The PagerDuty user who wrote it, and the person who holds that user. */
  user: PagerDutyUser;
  person: ScenarioPerson;
  content: string;
  createdAt: Date;
  origin: ActionOrigin;
  logEntryId: string;
}

export interface StatusChangeRecord {
  at: Date;
  user: PagerDutyUser;
  origin: ActionOrigin;
  logEntryId: string;
}

export interface IncidentRecord {
  id: string;
  number: number;
  title: string;
  status: IncidentStatus;
  urgency: Urgency;
  incidentKey: string;
  service: ScenarioService;
  policy: ScenarioPolicy;
  assignments: { at: Date; user: PagerDutyUser; person: ScenarioPerson }[];
  /** Who the incident was first assigned to (its assign and notify log entries). */
  initialAssignees: PagerDutyUser[];
  acknowledgements: { at: Date; user: PagerDutyUser; person: ScenarioPerson }[];
  details: string | undefined;
  createdAt: Date;
  updatedAt: Date;
  lastStatusChangeAt: Date;
  lastStatusChangeBy: Reference;
  resolvedAt: Date | undefined;
  notes: NoteRecord[];
  /** Every acknowledgement and the resolution, in order, for the incident's log entries. */
  statusChanges: (StatusChangeRecord & { status: 'acknowledged' | 'resolved' })[];
}

/** PagerDuty caps the notes of one incident. */
export const MAX_NOTES_PER_INCIDENT = 2000;
/** Longest note content the REST API accepts (unconfirmed; PagerDuty documents no figure we could find). */
export const MAX_NOTE_LENGTH = 25_000;

/** Incident ids: 14 characters starting with Q, like PagerDuty's current ones. */
export function incidentId(seed: string, number: number): string {
  return stableId(`incident:${seed}:${number}`, 14, 'Q');
}

export function noteId(seed: string, sequence: number): string {
  return stableId(`note:${seed}:${sequence}`);
}

/** Log entry ids: 14 characters starting with R, like PagerDuty's (`Q02JTSNZWHSEKV`, `R…`). */
export function logEntryId(seed: string): string {
  return stableId(`log:${seed}`, 14, 'R');
}

export function isOpen(incident: IncidentRecord): boolean {
  return incident.status !== 'resolved';
}

export function incidentRef(directory: Directory, incident: IncidentRecord): Reference {
  return directory.ref(
    'incidents',
    'incident_reference',
    incident.id,
    `[#${incident.number}] ${incident.title}`,
  );
}

export function renderIncident(directory: Directory, incident: IncidentRecord): Record<string, unknown> {
  const ref = incidentRef(directory, incident);
  return {
    ...ref,
    type: 'incident',
    incident_number: incident.number,
    title: incident.title,
    description: incident.title,
    created_at: pdTime(incident.createdAt),
    updated_at: pdTime(incident.updatedAt),
    status: incident.status,
    incident_key: incident.incidentKey,
    service: directory.serviceRef(incident.service),
    assignments: incident.assignments.map((a) => ({
      at: pdTime(a.at),
      assignee: directory.userRef(a.user),
    })),
    assigned_via: 'escalation_policy',
    last_status_change_at: pdTime(incident.lastStatusChangeAt),
    last_status_change_by: incident.lastStatusChangeBy,
    resolved_at: incident.resolvedAt ? pdTime(incident.resolvedAt) : null,
    first_trigger_log_entry: directory.ref(
      'log_entries',
      'trigger_log_entry_reference',
      logEntryId(`trigger:${incident.id}`),
      'Triggered through the API.',
    ),
    alert_counts: { all: 0, triggered: 0, resolved: 0 },
    is_mergeable: true,
    escalation_policy: directory.policyRef(incident.policy),
    teams: [],
    pending_actions: [],
    acknowledgements: incident.acknowledgements.map((a) => ({
      at: pdTime(a.at),
      acknowledger: directory.userRef(a.user),
    })),
    alert_grouping: null,
    urgency: incident.urgency,
    priority: null,
    resolve_reason: null,
    conference_bridge: null,
    incidents_responders: [],
    responder_requests: [],
    ...(incident.details !== undefined ? { body: { type: 'incident_body', details: incident.details } } : {}),
  };
}

export function renderNote(directory: Directory, note: NoteRecord): Record<string, unknown> {
  return {
    id: note.id,
    user: directory.userRef(note.user),
    // PagerDuty's own example for a user's note, whatever it was written with.
    channel: { summary: 'The PagerDuty website or APIs' },
    content: note.content,
    created_at: pdTime(note.createdAt),
  };
}

/** `event.data` of incident.* webhooks other than annotated. */
export function webhookIncident(directory: Directory, incident: IncidentRecord): Record<string, unknown> {
  const ref = incidentRef(directory, incident);
  return {
    id: incident.id,
    type: 'incident',
    self: ref.self,
    html_url: ref.html_url,
    number: incident.number,
    status: incident.status,
    incident_key: incident.incidentKey,
    created_at: pdTime(incident.createdAt),
    title: incident.title,
    service: directory.serviceRef(incident.service),
    assignees: incident.assignments.map((a) => directory.userRef(a.user)),
    escalation_policy: directory.policyRef(incident.policy),
    teams: [],
    priority: null,
    urgency: incident.urgency,
    conference_bridge: null,
    resolve_reason: null,
  };
}

/** `event.data` of incident.annotated: the note, its content cut to `trimLength` characters. */
export function webhookNote(
  directory: Directory,
  incident: IncidentRecord,
  note: NoteRecord,
  trimLength: number,
): Record<string, unknown> {
  const trimmed = note.content.length > trimLength;
  return {
    incident: incidentRef(directory, incident),
    id: note.id,
    content: trimmed ? note.content.slice(0, trimLength) : note.content,
    trimmed,
    type: 'incident_note',
  };
}
