// A `.env`-style file for `loopgate dev`: one KEY=VALUE a line. Blank lines and
// lines starting with # are skipped; `export KEY=VALUE` is accepted (so the file
// can be sourced by a shell too); a value in matching single or double quotes
// loses them and is otherwise taken as written, # and all (tokens may hold one).
// Errors name the file and the line, never a value: the file holds secrets.

import { readFileSync } from 'node:fs';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class EnvFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvFileError';
  }
}

/** The file's variables, in order; a key given twice keeps its last value. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    const key = (at < 0 ? line : line.slice(0, at)).replace(/^export\s+/, '').trim();
    if (at < 0 || !KEY.test(key)) {
      throw new EnvFileError(
        `${file}:${index + 1}: not KEY=VALUE (a name of letters, digits and _, then =, then the value)`,
      );
    }
    variables[key] = unquote(line.slice(at + 1).trim());
  }
  return variables;
}

/** Reads and parses the file; undefined when it does not exist and is not `required`. */
export function readEnvFile(file: string, required: boolean): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    const reason = code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message);
    throw new EnvFileError(`${file}: cannot be read (${reason})`);
  }
  return parseEnvFile(text, file);
}

function unquote(value: string): string {
  const quote = value[0];
  if (value.length >= 2 && (quote === '"' || quote === "'") && value.endsWith(quote)) {
    return value.slice(1, -1);
  }
  return value;
}
