// The export as an operator runs it, in its own process, so its peak RSS is its own: runs
// `loopgate audit export` with these arguments and prints {code, maxRssMb} as stderr's last line.

import { run } from '../../bin/loopgate';

const code = await run(['audit', 'export', ...process.argv.slice(2)], {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interrupted: () => new Promise(() => {}),
});
process.stderr.write(
  `${JSON.stringify({ code, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
