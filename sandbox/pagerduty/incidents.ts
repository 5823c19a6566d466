// Incidents and their notes as the stand-in keeps them, and how PagerDuty
// renders them: the REST v2 incident, the note, and the v3 webhook's incident
// data (which differs from REST: `number`, `assignees`).

import type { ScenarioPerson } from '../scenario/load';
import {
  type Directory,
  pdTime,
  type Reference,
  type ScenarioPolicy,
  type ScenarioService,
  stableId,
} from './directory';

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['triggered', 'acknowledged', 'resolved'];
export type Urgency = 'high' | 'low';

export interface NoteRecord {
  id: string;
  person: ScenarioPerson;
  content: string;
  createdAt: Date;
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
  assignments: { at: Date; person: ScenarioPerson }[];
  acknowledgements: { at: Date; person: ScenarioPerson }[];
  details: string | undefined;
  createdAt: Date;
  updatedAt: Date;
  lastStatusChangeAt: Date;
  lastStatusChangeBy: Reference;
  resolvedAt: Date | undefined;
  notes: NoteRecord[];
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
      assignee: directory.userRef(a.person),
    })),
    assigned_via: 'escalation_policy',
    last_status_change_at: pdTime(incident.lastStatusChangeAt),
    last_status_change_by: incident.lastStatusChangeBy,
    resolved_at: incident.resolvedAt ? pdTime(incident.resolvedAt) : null,
    first_trigger_log_entry: directory.ref(
      'log_entries',
      'trigger_log_entry_reference',
      stableId(`log:${incident.id}`, 26, 'R'),
      `Triggered through the API.`,
    ),
    alert_counts: { all: 0, triggered: 0, resolved: 0 },
    is_mergeable: true,
    escalation_policy: directory.policyRef(incident.policy),
    teams: [],
    pending_actions: [],
    acknowledgements: incident.acknowledgements.map((a) => ({
      at: pdTime(a.at),
      acknowledger: directory.userRef(a.person),
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
    user: directory.userRef(note.person),
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
    assignees: incident.assignments.map((a) => directory.userRef(a.person)),
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
