// Bundle bench (a benchmark, not a test: nothing here asserts). Builds each
// function with esbuild exactly as the CDK construct does (lib/functions.ts:
// ESBUILD), then measures its cold start in a fresh `node` process with Lambda's
// NODE_OPTIONS and the sandbox's configuration: loading the bundle, and the first
// invocation (reading the configuration, building the clients, handling one
// event). The events cost the vendors nothing, so the figure is loopgate's own:
// a webhook delivery without a signature (refused after the build), an empty SQS
// batch, a sweep of the sandbox's empty table in DynamoDB Local.
// Run alone: `node --import tsx test/bench/bundles.ts [--runs N]`.
//
// The bundles go under node_modules/.cache, out of the way of the sources.

import { spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { ESBUILD, entryOf, FUNCTION_NAMES, NODE_OPTIONS, PROJECT_ROOT } from '../../lib/functions';
import { Sandbox } from '../../sandbox/world';

export interface BundleBench {
  function: string;
  bytes: number;
  /** Loading the bundle. */
  coldInitMs: { median: number; p95: number };
  /** Loading the bundle and the first invocation, as Lambda's first request waits for both. */
  firstInvocationMs: { median: number; p95: number };
}

/** One event per function that reaches the handler's build and costs no vendor call. */
const FIRST_EVENTS: Record<string, unknown> = {
  'jira-webhook': { headers: {}, body: '{}', isBase64Encoded: false },
  'pagerduty-webhook': { headers: {}, body: '{}', isBase64Encoded: false },
  triage: { Records: [] },
  decide: { Records: [] },
  provision: { Records: [] },
  revoke: { Records: [] },
  sweeper: { source: 'aws.scheduler', 'detail-type': 'Scheduled Event', detail: {} },
};

const OUT_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'loopgate-bundles');

export async function benchBundles(
  progress: (line: string) => void,
  options: { runs?: number } = {},
): Promise<BundleBench[]> {
  const runs = options.runs ?? 10;
  const results: BundleBench[] = [];
  progress("starting a sandbox for the functions' configuration …");
  const sandbox = await Sandbox.start({ progress });
  try {
    for (const name of FUNCTION_NAMES) {
      results.push(await benchOne(name, runs, sandbox.loopgateEnvironment(), progress));
    }
  } finally {
    await sandbox.stop();
  }
  return results;
}

async function benchOne(
  name: (typeof FUNCTION_NAMES)[number],
  runs: number,
  environment: Record<string, string>,
  progress: (line: string) => void,
): Promise<BundleBench> {
  const dir = join(OUT_DIR, name);
  mkdirSync(dir, { recursive: true });
  // As in the Lambda asset: no package.json "type": the .js bundle is CommonJS.
  writeFileSync(join(dir, 'package.json'), '{}\n');
  const file = join(dir, 'index.js');
  const { metafile } = await build({
    entryPoints: [entryOf(name)],
    bundle: true,
    platform: 'node',
    target: ESBUILD.target,
    format: ESBUILD.format,
    minify: ESBUILD.minify,
    keepNames: ESBUILD.keepNames,
    sourcemap: ESBUILD.sourcemap,
    sourcesContent: ESBUILD.sourcesContent,
    external: [...ESBUILD.external],
    outfile: file,
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = statSync(file).size;
  progress(`${name}: ${kb(bytes)} KB; largest parts: ${largestPackages(metafile, 4)}`);
  const event = FIRST_EVENTS[name];
  await coldStart(file, environment, event); // unmeasured, so the file is in the page cache for every run
  const loads: number[] = [];
  const firsts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { loadMs, firstMs } = await coldStart(file, environment, event);
    loads.push(loadMs);
    firsts.push(firstMs);
  }
  loads.sort((a, b) => a - b);
  firsts.sort((a, b) => a - b);
  const result = {
    function: name,
    bytes,
    coldInitMs: { median: percentile(loads, 50), p95: percentile(loads, 95) },
    firstInvocationMs: { median: percentile(firsts, 50), p95: percentile(firsts, 95) },
  };
  progress(
    `${name}: load median ${result.coldInitMs.median} ms; load + first invocation median ` +
      `${result.firstInvocationMs.median} ms, p95 ${result.firstInvocationMs.p95} ms (${runs} runs)`,
  );
  return result;
}

/**
 * A fresh node process loads the bundle and handles `event` once; Node's own start-up is excluded.
 * Log lines go to stderr and are dropped: only the two times come back, on stdout.
 */
function coldStart(
  file: string,
  environment: Record<string, string>,
  event: unknown,
): Promise<{ loadMs: number; firstMs: number }> {
  const script = [
    'const t = performance.now();',
    `const { handler } = require(${JSON.stringify(file)});`,
    'const loaded = performance.now() - t;',
    'const write = process.stdout.write.bind(process.stdout);',
    'process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);',
    `const context = { awsRequestId: 'bench', functionName: 'bench', functionVersion: '$LATEST', getRemainingTimeInMillis: () => 60000 };`,
    `handler(${JSON.stringify(event)}, context).then(`,
    '  () => write(JSON.stringify({ loadMs: loaded, firstMs: performance.now() - t })),',
    '  (error) => { console.error(error); process.exitCode = 1; },',
    ');',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      env: { ...environment, PATH: process.env.PATH ?? '', NODE_OPTIONS, AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(out) as { loadMs: number; firstMs: number });
      } catch (error) {
        reject(new Error(`the cold start of ${file} failed (${String(error)}): ${err.trim().slice(-2000)}`));
      }
    });
  });
}

/** The packages (or loopgate's own code) that take the most bytes of the output. */
function largestPackages(metafile: Metafile, count: number): string {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const owner = match?.[1] ?? 'loopgate';
      bytes.set(owner, (bytes.get(owner) ?? 0) + bytesInOutput);
    }
  }
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([owner, n]) => `${owner} ${kb(n)} KB`)
    .join(', ');
}

function percentile(sorted: number[], p: number): number {
  const value = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  return Math.round(value * 10) / 10;
}

const kb = (bytes: number) => Math.round(bytes / 1024);

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  const runs = values.runs === undefined ? 10 : Number(values.runs);
  const results = await benchBundles((line) => process.stderr.write(`bench: ${line}\n`), { runs });
  const rows = results.map((r) => ({
    function: r.function,
    'bundle KB': kb(r.bytes),
    'load median ms': r.coldInitMs.median,
    'load + first invocation median ms': r.firstInvocationMs.median,
    'load + first invocation p95 ms': r.firstInvocationMs.p95,
  }));
  console.table(rows);
}
