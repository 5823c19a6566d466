// `loopgate dev` runs the six functions on local Lambda, SQS and Scheduler against
// whatever services its environment names. Here those are the sandbox's stand-ins,
// standing in for the real ones: a ticket filed in "Jira" reaches dev's
// jira-webhook, is triaged on dev's queue and pages in "PagerDuty".

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devCommand } from '../../bin/dev';
import { Sandbox } from '../../sandbox/world';
import { until } from '../support/sandbox-flow';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

function io() {
  let stop = () => {};
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stop: () => stop(),
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      interrupted: () => new Promise<void>((resolve) => (stop = resolve)),
    },
  };
}

describe('loopgate dev', () => {
  it('names the first missing variable and exits 2, leaving nothing running', async () => {
    const run = io();
    const code = await devCommand(run.io, { environment: { AWS_REGION: 'eu-west-1' } });
    expect(code).toBe(2);
    expect(run.err.join('')).toMatch(/^loopgate dev: environment variable LOOPGATE_\w+ is required/);
    expect(run.out).toEqual([]);
  });

  it('runs the real handlers against the services its environment names', async () => {
    const run = io();
    // The functions' own configuration, minus everything about the sandbox's Lambda host.
    const environment = Object.fromEntries(
      Object.entries(sandbox.loopgateEnvironment()).filter(
        ([name]) => !/QUEUE_URL|SQS_ENDPOINT|SCHEDULER_|SCHEDULE_GROUP|FUNCTION_ARN/.test(name),
      ),
    );
    const exited = devCommand(run.io, { environment, log: () => {} });
    try {
      const first = await until('the first line', async () => run.out[0]);
      const { webhooks } = JSON.parse(first) as { webhooks: { jira: string; pagerduty: string } };
      expect(webhooks.jira).not.toBe(sandbox.webhookUrl('jira'));

      sandbox.jira.configureWebhook({ url: webhooks.jira, secret: sandbox.secrets.jira });
      const { key } = sandbox.jira.fileTicket({
        reporter: 'dana',
        entitlement: 'okta-prod-readonly',
        justification: 'INC-4411 checkout latency',
      });
      await sandbox.jira.settled();
      const paged = await until('the page', async () => {
        const request = await sandbox.store.getByJiraIssueKey(key);
        return request?.state === 'PENDING' ? request : undefined;
      });
      expect(sandbox.pagerduty.incident(paged.incidentId ?? '')?.policy.id).toBe('PSREPOL');
      // Triage ran on dev's queue: the sandbox's own triage queue never saw the request.
      const sandboxTriage = sandbox.host.sqs.state().queues.find((q) => q.name === 'loopgate-triage');
      expect(JSON.stringify(sandboxTriage)).not.toContain(paged.id);
    } finally {
      sandbox.jira.configureWebhook({ url: sandbox.webhookUrl('jira'), secret: sandbox.secrets.jira });
      run.stop();
    }
    expect(await exited).toBe(0);
  });
});
