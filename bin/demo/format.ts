// Text helpers for the demo: colour that switches off cleanly (plain text in
// pipes, logs and tests), headers, indented blocks, the page's box and the
// closing table. Widths are measured without colour codes so tables line up
// either way.

const ESC = String.fromCharCode(27);

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
} as const;

export type StyleName = keyof typeof CODES;
export type Style = Record<StyleName, (text: string) => string>;

export function style(color: boolean): Style {
  const entries = Object.entries(CODES).map(([name, [open, close]]) => [
    name,
    color ? (text: string) => (text === '' ? text : `${ESC}[${open}m${text}${ESC}[${close}m`) : String,
  ]);
  return Object.fromEntries(entries) as Style;
}

const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

export const stripAnsi = (text: string): string => text.replace(ANSI, '');
export const visibleLength = (text: string): number => [...stripAnsi(text)].length;

const padEnd = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - visibleLength(text)));

/** Every line of `text` prefixed with `prefix` (empty lines keep the prefix, trimmed). */
export function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? prefix.trimEnd() : prefix + line))
    .join('\n');
}

/** A block with a left rule and a caption: the page as the approver reads it. */
export function boxed(s: Style, caption: string, body: string, prefix = '  '): string {
  const lines = body.split('\n');
  return [
    `${prefix}${s.dim('┌─')} ${caption}`,
    ...lines.map((line) => `${prefix}${s.dim('│')} ${line}`.trimEnd()),
    `${prefix}${s.dim('└─')}`,
  ].join('\n');
}

/** A ticket's header: a rule with the title in it. */
export function heading(s: Style, title: string, width = 100): string {
  const text = ` ${title} `;
  const rest = Math.max(4, width - visibleLength(text) - 4);
  return `\n${s.bold(s.cyan(`━━━${text}${'━'.repeat(rest)}`))}\n`;
}

/** `label  value` lines with the labels aligned. */
export function fields(s: Style, rows: [string, string][], prefix = '  '): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows
    .map(([label, value]) => {
      const [first = '', ...more] = value.split('\n');
      const pad = ' '.repeat(prefix.length + width + 2);
      return [`${prefix}${s.dim(label.padEnd(width))}  ${first}`, ...more.map((m) => pad + m)].join('\n');
    })
    .join('\n');
}

/** A plain table: a header row, a rule, then the rows; cells never wrap. */
export function table(s: Style, header: string[], rows: string[][], prefix = '  '): string {
  const widths = header.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    prefix +
    cells
      .map((cell, i) => padEnd(cell, widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(header.map((h) => s.bold(h))),
    prefix + widths.map((w) => '─'.repeat(w)).join('  '),
    ...rows.map(line),
  ].join('\n');
}

/** Wall-clock milliseconds as people read them: 840 ms, 3.2 s. */
export function millis(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Seconds of access as the catalog writes them: 45m, 4h, 1h 30m, 2d. */
export function span(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48 || hours % 24 !== 0) return rest ? `${hours}h ${rest}m` : `${hours}h`;
  return `${hours / 24}d`;
}

/** Sandbox time, to the second, in UTC: what the stand-ins stamp on everything. */
export function clockTime(iso: string | Date): string {
  const at = typeof iso === 'string' ? new Date(iso) : iso;
  return Number.isNaN(at.getTime()) ? String(iso) : at.toISOString().replace('T', ' ').slice(0, 19);
}

/** Long single values cut with an ellipsis, for table cells and one-line summaries. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
