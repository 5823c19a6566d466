// The sandbox as a user runs it: a real process, its first stdout line, and a signal to stop it.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { SandboxSummary } from '../../sandbox/world';

/** Command lines of running DynamoDB Local processes listening on `port`. */
function dynamoProcessesOn(port: string): string[] {
  const lines = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n');
  return lines.filter((l) => l.includes('DynamoDBLocal.jar') && l.includes(`-port ${port}`));
}

async function started(child: ChildProcess) {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    if (!child.stdout) throw new Error('no stdout');
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the sandbox exited (${code}) before printing`)));
  });
  const summary = JSON.parse(firstLine) as SandboxSummary;
  return { summary, exited, dynamoPort: new URL(summary.services.dynamodb).port };
}

describe('the sandbox process', () => {
  it('npm run --silent sandbox: prints the JSON line first; SIGTERM leaves no process or port behind', async () => {
    const child = spawn('npm', ['run', '--silent', 'sandbox'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const { summary, exited, dynamoPort } = await started(child);
    expect(dynamoProcessesOn(dynamoPort)).toHaveLength(1);
    expect((await fetch(`${summary.control}/clock`)).status).toBe(200);

    child.kill('SIGTERM');

    // The script execs node, so npm's child is loopgate itself: npm forwards the signal and exits as loopgate did.
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(dynamoProcessesOn(dynamoPort)).toEqual([]);
    await expect(fetch(summary.control)).rejects.toThrow();
  }, 60_000);

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'loopgate sandbox exits 0 on %s after stopping everything',
    async (signal) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bin/loopgate.ts', 'sandbox'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const { exited, dynamoPort } = await started(child);

      child.kill(signal);

      expect(await exited).toEqual({ code: 0, signal: null });
      expect(dynamoProcessesOn(dynamoPort)).toEqual([]);
    },
    60_000,
  );
});
