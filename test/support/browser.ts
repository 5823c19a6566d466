// Opens a local HTML file in headless Chromium (Debian's `chromium`, which
// .ci/run installs; CHROMIUM_PATH to use another) through playwright-core, and
// reports what a person would see go wrong: console errors, page errors, any
// request beyond the file itself, and each SVG chart's drawn paths.

import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

export interface SeenInBrowser {
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  headings: string[];
  text: string;
  /** Per `svg.chart`: its rendered width, whether it is the "no data" placeholder, and paths with a non-empty box. */
  charts: { width: number; empty: boolean; drawnPaths: number }[];
}

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error(
      'chromium is not installed: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH',
    );
  }
}

export async function inChromium(
  file: string,
  options: { screenshot?: string } = {},
): Promise<SeenInBrowser> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const seen = { consoleErrors: [] as string[], pageErrors: [] as string[], requests: [] as string[] };
    page.on('console', (m) => {
      if (m.type() === 'error') seen.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => seen.pageErrors.push(e.message));
    page.on('request', (r) => seen.requests.push(r.url()));
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    // Evaluated in the page (a string, as this project compiles without the DOM's types).
    const drawn = (await page.evaluate(`(() => ({
      headings: [...document.querySelectorAll('h2')].map((h) => h.textContent ?? ''),
      text: document.body.innerText,
      charts: [...document.querySelectorAll('svg.chart')].map((svg) => ({
        width: svg.getBoundingClientRect().width,
        empty: svg.classList.contains('empty'),
        drawnPaths: [...svg.querySelectorAll('path')].filter((p) => {
          const box = p.getBBox();
          return (p.getAttribute('d') ?? '').trim() !== '' && (box.width > 0 || box.height > 0);
        }).length,
      })),
    }))()`)) as Pick<SeenInBrowser, 'headings' | 'text' | 'charts'>;
    if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
    return { ...seen, ...drawn };
  } finally {
    await browser.close();
  }
}
