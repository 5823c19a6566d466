// Benchmarks (not tests: nothing here asserts a time). `npm run bench -- intake | gather [--json]`.
//   intake: signed Jira webhooks through the jira-webhook function (Function URL, Jira and Okta
//           stand-ins, DynamoDB Local, SQS), one after another: latency percentiles.
//   gather: triage's context gathering with stand-in latencies Okta 300 ms, IAM 200 ms,
//           Slack 400 ms, PagerDuty 150 ms, Jira 250 ms: gather wall time / the slowest source alone.

import { createHmac, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { entitlementById } from '../../lambdas/core/catalog';
import { gatherContext } from '../../lambdas/core/triage/gather';
import { Env, readTriageConfig } from '../../lambdas/platform/env';
import { wireTriage } from '../../lambdas/wiring/triage';
import { Sandbox } from '../../sandbox/world';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'boolean' }, count: { type: 'string' } },
});
const which = positionals[0] ?? 'all';
const count = values.count === undefined ? undefined : Number(values.count);
if (
  !['intake', 'gather', 'all'].includes(which) ||
  (count !== undefined && !(Number.isInteger(count) && count > 0))
) {
  process.stderr.write('usage: npm run bench -- [intake | gather | all] [--count N] [--json]\n');
  process.exit(2);
}
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function intake(sandbox: Sandbox, count: number) {
  // Measure intake alone: triage of the queued requests would compete for the same two cores.
  await sandbox.host.sqs.stopPolling();
  const reporter = sandbox.scenario.people.find((p) => p.id === 'dana');
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({
      webhookEvent: 'jira:issue_created',
      timestamp: Date.now(),
      issue: {
        id: String(50_000 + i),
        key: `ACCESS-${50_000 + i}`,
        fields: {
          summary: 'Access to prod-readonly',
          description: 'Entitlement: okta-prod-readonly\nDuration: 4h\nReason: INC-4411 checkout latency',
          reporter: { accountId: reporter?.jira.accountId, displayName: reporter?.name },
          project: { key: 'ACCESS' },
          issuetype: { name: 'Access Request' },
        },
      },
    });
    const headers = {
      'content-type': 'application/json',
      'x-hub-signature': `sha256=${createHmac('sha256', sandbox.secrets.jira).update(body).digest('hex')}`,
      'x-atlassian-webhook-identifier': randomUUID(),
    };
    const started = performance.now();
    const response = await fetch(sandbox.webhookUrl('jira'), { method: 'POST', headers, body });
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if ((i + 1) % 100 === 0) progress(`intake ${i + 1}/${count}`);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    webhooks: count,
    statuses: Object.fromEntries(statuses),
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? NaN),
  };
}

async function gather(sandbox: Sandbox, rounds: number) {
  const latencies = { okta: 300, iam: 200, slack: 400, pagerduty: 150, jira: 250 } as const;
  for (const [service, delayMs] of Object.entries(latencies)) {
    sandbox.services[service as keyof typeof latencies].faults.set('*', { delayMs });
  }
  const { deps, settings } = wireTriage(readTriageConfig(new Env(sandbox.loopgateEnvironment())), {
    log: () => {},
  });
  const entitlement = entitlementById(deps.catalog, 'okta-prod-readonly');
  if (!entitlement) throw new Error('the catalog lacks okta-prod-readonly');
  const { key } = sandbox.jira.fileTicket({
    reporter: 'dana',
    entitlement: entitlement.id,
    justification: 'INC-4411',
  });
  await sandbox.jira.settled();
  const request = await deps.store.getByJiraIssueKey(key);
  if (!request?.requester.email) throw new Error('the bench request was not stored');
  const email = request.requester.email;
  const since = new Date(Date.now() - 30 * 86_400_000);

  const time = async (work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };
  // Each source alone, the way gather calls it.
  const alone = {
    okta: () =>
      time(async () => {
        const user = await deps.directory.findUserByEmail(email);
        if (user) await deps.directory.profile(user.id, since);
      }),
    iam: () => time(() => deps.cloud.principalAccess({ kind: 'user', name: email.split('@')[0] ?? '' })),
    slack: () =>
      time(() => deps.chat.recentMessages({ terms: [key, entitlement.id], authorEmail: email, since })),
    pagerduty: () => time(() => deps.onCall.shiftsOf(email, new Date())),
    history: () =>
      time(async () => {
        await Promise.all([deps.store.listByRequester(email), deps.store.listByEntitlement(entitlement.id)]);
        const user = await deps.directory.findUserByEmail(email);
        if (user && entitlement.action.kind === 'okta-group') {
          await Promise.all([
            deps.directory.peersOf(user),
            deps.directory.groupMemberIds(entitlement.action.groupId),
          ]);
        }
      }),
  };
  const ratios: number[] = [];
  const walls: number[] = [];
  const slowest: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const sources: Record<string, number> = {};
    for (const [name, run] of Object.entries(alone)) sources[name] = await run();
    const wall = await time(() => gatherContext(deps, request, entitlement, settings.gather));
    const max = Math.max(...Object.values(sources));
    walls.push(wall);
    slowest.push(max);
    ratios.push(wall / max);
    progress(
      `gather round ${i + 1}/${rounds}: wall ${round(wall)} ms, slowest source alone ${round(max)} ms (${Object.entries(
        sources,
      )
        .map(([n, t]) => `${n} ${Math.round(t)}`)
        .join(', ')})`,
    );
  }
  for (const service of Object.keys(latencies))
    sandbox.services[service as keyof typeof latencies].faults.clear('*');
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  return {
    latenciesMs: latencies,
    rounds,
    medianWallMs: round(median(walls)),
    medianSlowestSourceMs: round(median(slowest)),
    medianRatio: Math.round(median(ratios) * 1000) / 1000,
    worstRatio: Math.round(Math.max(...ratios) * 1000) / 1000,
  };
}

// Okta's default 600 user reads a minute would cap intake at 10 webhooks a second (intake looks
// every requester up): raised here so the benchmark measures loopgate, and said in the output.
const oktaRateLimits = { users: 100_000, groups: 100_000, logs: 100_000 };
const errors: string[] = [];
const sandbox = await Sandbox.start({
  progress,
  oktaRateLimits,
  log: (line) => {
    if (line.includes('"level":"error"')) errors.push(line);
  },
});
try {
  const results: Record<string, unknown> = { note: 'Okta stand-in rate limits raised to 100,000 a minute' };
  if (which === 'intake' || which === 'all') results.intake = await intake(sandbox, count ?? 1000);
  if (which === 'gather' || which === 'all') results.gather = await gather(sandbox, count ?? 10);
  process.stdout.write(
    values.json ? `${JSON.stringify(results)}\n` : `${JSON.stringify(results, null, 2)}\n`,
  );
  if (errors.length) progress(`${errors.length} errors logged; the first: ${errors[0]?.slice(0, 300)}`);
} finally {
  await sandbox.stop();
}
