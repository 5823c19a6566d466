// An incident's log entries (GET /incidents/{id}/log_entries, GET
// /log_entries/{id}) as PagerDuty documents them in its REST OpenAPI
// (PagerDuty/api-schema reference/REST/openapiv3.json, `LogEntry`, `Channel`,
// `AgentReference`).
//
// Provenance, the point of this file: a note's `annotate_log_entry` has the
// user as `agent` and channel type `note` however the note was written (web
// app, mobile app, or the REST API with a token and a `From` header). The spec's
// `Channel` says: "Will be one of `auto`, `email`, `api`, `nagios`, or `timeout`
// if `agent[type]` is `service`. Will be one of `email`, `sms`, `website`,
// `web_trigger`, or `note` if `agent[type]` is `user`." and `AgentReference.type`
// is only `user_reference`, `service_reference` or `integration_reference`: no
// API key, token or app. So nothing here tells loopgate who typed a note.
//
// Acknowledgements and resolutions by a user carry channel `website`, whether
// they came from the web app, the mobile app or the REST API: of the values the
// spec allows for a user agent, it is the only one for an action taken in
// PagerDuty itself, and nothing documents a split by app (`api` is listed for
// service agents only). The true origin stays in the stand-in's state for tests.

import type { Directory, Reference } from './directory';
import { pdTime } from './directory';
import { type IncidentRecord, incidentRef, logEntryId, renderIncident } from './incidents';

export type LogEntryType =
  | 'trigger_log_entry'
  | 'assign_log_entry'
  | 'notify_log_entry'
  | 'annotate_log_entry'
  | 'acknowledge_log_entry'
  | 'resolve_log_entry';

/** `include[]` values the spec lists for log entries (`include_log_entry`). */
export const LOG_ENTRY_INCLUDES = ['incidents', 'services', 'channels', 'teams'] as const;
export type LogEntryInclude = (typeof LOG_ENTRY_INCLUDES)[number];

/**
 * `is_overview=true`: "a subset of log entries that show only the most important
 * changes to the incident" (spec). Which types PagerDuty keeps is not
 * documented; the stand-in drops notifications.
 */
const NOT_IN_OVERVIEW: readonly LogEntryType[] = ['notify_log_entry'];

interface Entry {
  id: string;
  type: LogEntryType;
  at: Date;
  summary: string;
  agent: Reference;
  /** What every response carries: `{type}`. */
  channelType: string;
  /** The rest of the channel, with `include[]=channels`. */
  channelDetails: Record<string, unknown>;
  extra: Record<string, unknown>;
}

/** Every log entry of an incident, oldest first (the trigger is first, as PagerDuty's guide says). */
function entries(directory: Directory, incident: IncidentRecord): Entry[] {
  const service = directory.serviceRef(incident.service);
  const result: Entry[] = [
    {
      id: logEntryId(`trigger:${incident.id}`),
      type: 'trigger_log_entry',
      at: incident.createdAt,
      summary: 'Triggered through the API.',
      agent: service,
      channelType: 'api',
      channelDetails: {
        summary: incident.title,
        description: incident.title,
        incident_key: incident.incidentKey,
        details: {},
      },
      extra: {},
    },
  ];
  const initial = incident.initialAssignees;
  if (initial.length) {
    result.push({
      id: logEntryId(`assign:${incident.id}`),
      type: 'assign_log_entry',
      at: incident.createdAt,
      summary: `Assigned to ${initial.map((u) => u.person.name).join(', ')}.`,
      agent: service,
      channelType: 'auto',
      channelDetails: {},
      extra: { assignees: initial.map((u) => directory.userRef(u)) },
    });
    for (const user of initial) {
      result.push({
        id: logEntryId(`notify:${incident.id}:${user.id}`),
        type: 'notify_log_entry',
        at: incident.createdAt,
        summary: `Notified ${user.person.name} by push notification.`,
        agent: service,
        channelType: 'auto',
        channelDetails: { notification: { type: 'push_notification', status: 'success' } },
        extra: { user: directory.userRef(user) },
      });
    }
  }
  for (const note of incident.notes) {
    result.push({
      id: note.logEntryId,
      type: 'annotate_log_entry',
      at: note.createdAt,
      summary: `Note added by ${note.user.person.name}.`,
      agent: directory.userRef(note.user),
      channelType: 'note',
      channelDetails: { summary: note.content },
      extra: {},
    });
  }
  for (const change of incident.statusChanges) {
    const acknowledged = change.status === 'acknowledged';
    result.push({
      id: change.logEntryId,
      type: acknowledged ? 'acknowledge_log_entry' : 'resolve_log_entry',
      at: change.at,
      summary: `${acknowledged ? 'Acknowledged' : 'Resolved'} by ${change.user.person.name}.`,
      agent: directory.userRef(change.user),
      channelType: 'website',
      channelDetails: {},
      extra: acknowledged ? { acknowledgement_timeout: null } : {},
    });
  }
  // Stable: same-instant entries keep the order above (trigger, assign, notify, then actions).
  return result.sort((a, b) => a.at.getTime() - b.at.getTime());
}

export interface LogEntryQuery {
  includes: readonly string[];
  isOverview: boolean;
  since?: Date;
  until?: Date;
}

function render(
  directory: Directory,
  incident: IncidentRecord,
  entry: Entry,
  includes: readonly string[],
): Record<string, unknown> {
  const ref = incidentRef(directory, incident);
  const channel = includes.includes('channels')
    ? { type: entry.channelType, ...entry.channelDetails }
    : { type: entry.channelType };
  return {
    id: entry.id,
    type: entry.type,
    summary: entry.summary,
    self: `${ref.self.replace(/\/incidents\/[^/]+$/, '')}/log_entries/${entry.id}?incident_id=${incident.id}`,
    html_url: `${ref.html_url}/log_entries/${entry.id}`,
    created_at: pdTime(entry.at),
    agent: entry.agent,
    channel,
    service: includes.includes('services')
      ? directory.serviceObject(incident.service)
      : directory.serviceRef(incident.service),
    incident: includes.includes('incidents') ? renderIncident(directory, incident) : ref,
    teams: [],
    contexts: [],
    event_details: {},
    ...entry.extra,
  };
}

/** The incident's log entries for a query, rendered, oldest first. */
export function listLogEntries(
  directory: Directory,
  incident: IncidentRecord,
  query: LogEntryQuery,
): Record<string, unknown>[] {
  return entries(directory, incident)
    .filter(
      (e) =>
        (!query.isOverview || !NOT_IN_OVERVIEW.includes(e.type)) &&
        (!query.since || e.at >= query.since) &&
        (!query.until || e.at <= query.until),
    )
    .map((e) => render(directory, incident, e, query.includes));
}

/** One log entry by id, among all incidents; undefined when none has it. */
export function findLogEntry(
  directory: Directory,
  incidents: readonly IncidentRecord[],
  id: string,
  includes: readonly string[],
): Record<string, unknown> | undefined {
  for (const incident of incidents) {
    const entry = entries(directory, incident).find((e) => e.id === id);
    if (entry) return render(directory, incident, entry, includes);
  }
  return undefined;
}
