import { describe, expect, it } from 'vitest';
import type { TriageDeps } from '../../lambdas/core/triage/triage';
import { createTriageHandler } from '../../lambdas/handlers/triage';
import { Logger } from '../../lambdas/platform/logger';
import { FakeStore } from './triage/fakes';

const record = (messageId: string, body: string) =>
  ({ messageId, body, attributes: { ApproximateReceiveCount: '1' } }) as never;

describe('the triage handler', () => {
  it('reports only the records that failed, so SQS retries just those', async () => {
    const lines: string[] = [];
    // Requests the store does not know are skipped before any source is asked.
    const deps = { store: new FakeStore() } as unknown as TriageDeps;
    const handler = createTriageHandler(
      deps,
      { gather: { budgetMs: 1000 }, tokenBudget: 1000, decisionTimeoutMs: 60_000, provisionDueMs: 60_000 },
      new Logger({ service: 'triage', write: (l) => lines.push(l) }),
    );

    const response = await handler({
      Records: [
        record('m1', 'not json'),
        record('m2', JSON.stringify({ requestId: 'unknown-request' })),
        record('m3', JSON.stringify({ requestId: '' })),
      ],
    });

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm3' }] });
    expect(lines.filter((l) => l.includes('triage done'))).toHaveLength(1);
  });
});
