// `loopgate dev` runs the seven functions on local Lambda, SQS and Scheduler against
// whatever services its settings (the environment, and a .env-style file) name. Here those are the sandbox's stand-ins,
// standing in for the real ones: a ticket filed in "Jira" reaches dev's
// jira-webhook, is triaged on dev's queue and pages in "PagerDuty".

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devCommand } from '../../bin/dev';
import { Sandbox } from '../../sandbox/world';
import { until } from '../support/sandbox-flow';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

/** The functions' own configuration, minus everything about the sandbox's Lambda host. */
function settings(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(sandbox.loopgateEnvironment()).filter(
      ([name]) => !/QUEUE_URL|SQS_ENDPOINT|SCHEDULER_|SCHEDULE_GROUP|FUNCTION_ARN/.test(name),
    ),
  );
}

/** What no function starts without; dev supplies the queues, the scheduler and the revoke ARN itself. */
const REQUIRED = [
  'LOOPGATE_STAGE',
  'LOOPGATE_TABLE_NAME',
  'AWS_REGION',
  'LOOPGATE_CATALOG_FILE',
  'LOOPGATE_PROMPT_DIR',
  'LOOPGATE_POLICY_DIR',
  'LOOPGATE_COMPANY_EMAIL_DOMAIN',
  'LOOPGATE_JIRA_BASE_URL',
  'LOOPGATE_JIRA_EMAIL',
  'LOOPGATE_JIRA_API_TOKEN',
  'LOOPGATE_JIRA_WEBHOOK_SECRETS',
  'LOOPGATE_JIRA_PROJECTS',
  'LOOPGATE_JIRA_ISSUE_TYPES',
  'LOOPGATE_OKTA_ORG_URL',
  'LOOPGATE_OKTA_TOKEN',
  'LOOPGATE_SLACK_MODE',
  'LOOPGATE_SLACK_TOKEN',
  'LOOPGATE_PAGERDUTY_TOKEN',
  'LOOPGATE_PAGERDUTY_FROM',
  'LOOPGATE_PAGERDUTY_WEBHOOK_SECRETS',
];

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
  it('lists every missing setting in one message and exits 2, leaving nothing running', async () => {
    const run = io();
    const code = await devCommand(run.io, { environment: {} });
    expect(code).toBe(2);
    expect(run.out).toEqual([]);
    // One message, not one start per variable.
    expect(run.err).toHaveLength(1);
    const message = run.err[0] ?? '';
    const listed = [
      ...message.matchAll(
        /^ {2}environment variable (\w+) is required(?: \(a key of the \w+ secret, [\w/<>-]+\))?$/gm,
      ),
    ].map((m) => m[1]);
    expect(message).toMatch(new RegExp(`^loopgate dev: ${listed.length} settings are missing or invalid:\n`));
    // Every setting the functions cannot start without, each once (secrets' keys included).
    expect(listed).toEqual(expect.arrayContaining(REQUIRED));
    expect(new Set(listed).size).toBe(listed.length);
    expect(message).toContain('docs/setup.md, "Running the functions locally"');
    // A secret's key names the secret it belongs in.
    expect(message).toContain(
      'environment variable LOOPGATE_OKTA_TOKEN is required (a key of the okta secret, loopgate/<stage>/okta)',
    );
  });

  it('reads a .env file, lets the environment win over it, and never prints a value', async () => {
    const values = settings();
    // Everything from the file, except the stage, and one value the environment corrects.
    const inFile: Record<string, string> = { ...values, LOOPGATE_SLACK_MODE: 'sometimes' };
    delete inFile.LOOPGATE_STAGE;
    const file = join(mkdtempSync(join(tmpdir(), 'loopgate-dev-')), '.env');
    writeFileSync(
      file,
      ['# loopgate dev against the sandbox', ...Object.entries(inFile).map(([k, v]) => `${k}=${v}`), ''].join(
        '\n',
      ),
    );

    const missingStage = io();
    expect(
      await devCommand(missingStage.io, { environment: {}, envFile: { path: file, required: true } }),
    ).toBe(2);
    const message = missingStage.err.join('');
    expect(message).toContain(`loopgate dev: read ${Object.keys(inFile).length} settings from ${file}\n`);
    expect(message).toContain(
      'loopgate dev: 2 settings are missing or invalid:\n  environment variable LOOPGATE_STAGE is required\n',
    );
    expect(message).toMatch(
      /^ {2}environment variable LOOPGATE_SLACK_MODE must be one of .+, got "sometimes"$/m,
    );
    for (const secret of [
      values.LOOPGATE_JIRA_API_TOKEN,
      values.LOOPGATE_OKTA_TOKEN,
      values.LOOPGATE_PAGERDUTY_TOKEN,
    ]) {
      expect(secret).toEqual(expect.any(String));
      expect(message).not.toContain(secret);
    }

    const started = io();
    const exited = devCommand(started.io, {
      environment: { LOOPGATE_STAGE: 'dev', LOOPGATE_SLACK_MODE: 'search' },
      envFile: { path: file, required: true },
      log: () => {},
    });
    try {
      const first = await until('the first line', async () => started.out[0]);
      expect(JSON.parse(first)).toHaveProperty('webhooks');
    } finally {
      started.stop();
    }
    expect(await exited).toBe(0);
  });

  it('stops on a file named with --settings that does not exist or is not KEY=VALUE, naming the line only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopgate-dev-'));
    const absent = io();
    expect(
      await devCommand(absent.io, {
        environment: {},
        envFile: { path: join(dir, 'nope.env'), required: true },
      }),
    ).toBe(2);
    expect(absent.err.join('')).toBe(
      `loopgate dev: ${join(dir, 'nope.env')}: cannot be read (no such file)\n`,
    );
    const bad = join(dir, 'bad.env');
    writeFileSync(bad, 'LOOPGATE_STAGE=dev\nLOOPGATE_OKTA_TOKEN 00abc-secret\n');
    const broken = io();
    expect(await devCommand(broken.io, { environment: {}, envFile: { path: bad, required: true } })).toBe(2);
    expect(broken.err.join('')).toBe(
      `loopgate dev: ${bad}:2: not KEY=VALUE (a name of letters, digits and _, then =, then the value)\n`,
    );
  });

  it('runs the real handlers against the services its environment names', async () => {
    const run = io();
    const environment = settings();
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
