// Schedule overrides in a scenario: who takes over, from when to when; a bad
// one is refused naming the schedule and the override.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_SCENARIO_FILE, resolveScenario } from '../../sandbox/scenario/load';

const start = new Date('2026-11-21T09:00:00.000Z');

function withOverrides(overrides: unknown[]) {
  const doc = parse(readFileSync(DEFAULT_SCENARIO_FILE, 'utf8')) as {
    pagerduty: { schedules: { id: string; overrides?: unknown[] }[] };
  };
  const schedule = doc.pagerduty.schedules.find((s) => s.id === 'PDBASCH');
  if (schedule) schedule.overrides = overrides;
  return doc;
}

describe('scenario schedule overrides', () => {
  it('resolves relative moments and keeps the order given', () => {
    const scenario = resolveScenario(
      withOverrides([
        { person: 'tomas', start: '+1h', end: '+5h' },
        { person: 'kenji', start: '2026-11-21T12:00:00Z', end: '2026-11-21T13:00:00Z' },
      ]),
      'scenario.yaml',
      start,
    );
    expect(scenario.pagerduty.schedules.find((s) => s.id === 'PDBASCH')?.overrides).toEqual([
      { person: 'tomas', start: new Date('2026-11-21T10:00:00Z'), end: new Date('2026-11-21T14:00:00Z') },
      { person: 'kenji', start: new Date('2026-11-21T12:00:00Z'), end: new Date('2026-11-21T13:00:00Z') },
    ]);
    expect(scenario.pagerduty.schedules.find((s) => s.id === 'PSRESCH')?.overrides).toEqual([]);
  });

  it('refuses an unknown person and an override that ends before it starts, naming where', () => {
    const doc = withOverrides([
      { person: 'nobody', start: '+1h', end: '+2h' },
      { person: 'tomas', start: '+2h', end: '2026-11-21T10:00:00Z' },
    ]);
    expect(() => resolveScenario(doc, 'scenario.yaml', start)).toThrow(
      'scenario.yaml: the scenario is invalid\n' +
        '  pagerduty.schedules.PDBASCH.overrides[0]: unknown person "nobody"\n' +
        '  pagerduty.schedules.PDBASCH.overrides[1]: an override must end after it starts',
    );
  });

  it('refuses an override with a key the schema does not have', () => {
    const doc = withOverrides([{ person: 'tomas', start: '+1h', end: '+2h', level: 1 }]);
    expect(() => resolveScenario(doc, 'scenario.yaml', start)).toThrow(/overrides\.0: Unrecognized key/i);
  });
});
