// The sweeper's metrics as CloudWatch reads them from its log (Embedded Metric
// Format): every metric carries the stage as its dimension, so a FAILED request
// in dev never reaches prod's alarm. The sandbox's functions run as stage "sandbox".
// The functions log errors only here: the metric line must not depend on the log level.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMESPACE, STAGE_DIMENSION } from '../../lambdas/handlers/sweeper';
import { PROVISION_FUNCTIONS } from '../../sandbox/loopgate-host';
import { Sandbox } from '../../sandbox/world';

let sandbox: Sandbox;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  sandbox = await Sandbox.start({
    log: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    environment: { LOG_LEVEL: 'error' },
  });
});

afterAll(() => sandbox.stop());

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

describe('the sweeper, with the log level at error', () => {
  it('still emits its counts with the Stage dimension, valued with its stage', async () => {
    await sandbox.host.invoker.invoke(PROVISION_FUNCTIONS.sweeper, {}, 'scheduler');

    // The info line is dropped at this level; the metric line is not.
    expect(lines.filter((l) => l.message === 'sweep done')).toEqual([]);
    const emitted = lines.filter((l) => '_aws' in l) as EmfLine[];
    expect(emitted).toHaveLength(1);
    const [line] = emitted as [EmfLine];
    expect(line.service).toBe('sweeper');
    // Lambda reads a line without "level" as INFO; the stack's log filter must let INFO through.
    expect(line).not.toHaveProperty('level');
    expect(line[STAGE_DIMENSION]).toBe('sandbox');
    const [directive] = line._aws.CloudWatchMetrics;
    expect(line._aws.CloudWatchMetrics).toHaveLength(1);
    expect(directive?.Namespace).toBe(METRIC_NAMESPACE);
    expect(directive?.Dimensions).toEqual([[STAGE_DIMENSION]]);
    const names = directive?.Metrics.map((m) => m.Name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['FailedRequests', 'SweepErrors']));
    for (const name of names) expect(line[name]).toEqual(expect.any(Number));
  });
});
