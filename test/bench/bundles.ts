// Bundle bench (a benchmark, not a test: nothing here asserts). Builds each
// function with esbuild exactly as the CDK construct does (lib/functions.ts:
// ESBUILD), then measures its cold init: a fresh `node` process, with Lambda's
// NODE_OPTIONS, loading the bundle, timed from before the load to after it.
// Run alone: `node --import tsx test/bench/bundles.ts [--runs N]`.
//
// The bundles go under node_modules/.cache so that the AWS SDK, left out of the
// bundle as the Lambda runtime provides it, resolves as it does on Lambda.

import { spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { ESBUILD, entryOf, FUNCTION_NAMES, NODE_OPTIONS, PROJECT_ROOT } from '../../lib/functions';

export interface BundleBench {
  function: string;
  bytes: number;
  coldInitMs: { median: number; p95: number };
}

const OUT_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'loopgate-bundles');

export async function benchBundles(
  progress: (line: string) => void,
  options: { runs?: number } = {},
): Promise<BundleBench[]> {
  const runs = options.runs ?? 10;
  const results: BundleBench[] = [];
  for (const name of FUNCTION_NAMES) {
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
    await coldInit(file); // one unmeasured load, so the file is in the page cache for every run
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await coldInit(file));
    times.sort((a, b) => a - b);
    const result = {
      function: name,
      bytes,
      coldInitMs: { median: percentile(times, 50), p95: percentile(times, 95) },
    };
    progress(
      `${name}: cold init median ${result.coldInitMs.median} ms, p95 ${result.coldInitMs.p95} ms (${runs} runs)`,
    );
    results.push(result);
  }
  return results;
}

/** Milliseconds a fresh node process spends loading the bundle (Node's own start-up excluded). */
function coldInit(file: string): Promise<number> {
  const script = `const t = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '', NODE_OPTIONS },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(out);
      if (code !== 0 || !Number.isFinite(ms))
        reject(new Error(`loading ${file} failed (exit ${code}): ${err.trim()}`));
      else resolve(ms);
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
    'cold init median ms': r.coldInitMs.median,
    'cold init p95 ms': r.coldInitMs.p95,
  }));
  console.table(rows);
}
