// One structured JSON logger. A line per event on stdout (CloudWatch reads it),
// with persistent keys for the invocation (upstream ids such as the Jira
// delivery id or the request id), the Lambda invocation's keys (request id,
// cold start, function, trace id) and redaction of anything that looks secret.

import type { LogLevel } from './env';
import { invocationKeys } from './lambda-context';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values are never logged, whatever they hold. */
const SECRET_KEY =
  /pass(word)?|secret|token|api[-_]?key|authorization|cookie|signature|credential|private[-_]?key|session/i;

/** Secrets that turn up inside ordinary strings (headers copied into messages, URLs, error texts). */
const SECRET_IN_TEXT: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic|SSWS)\s+[\w\-.~+/=]+/gi, '$1 [REDACTED]'],
  [/\bToken token=[\w\-.~+/=]+/gi, 'Token token=[REDACTED]'],
  [/\bxox[abposr]-[\w-]+/g, 'xox?-[REDACTED]'],
  [/\bsk-[\w-]{8,}/g, 'sk-[REDACTED]'],
  [/\b(sha256|v1)=[0-9a-f]{32,}/gi, '$1=[REDACTED]'],
  [/([?&](?:token|key|secret|signature|sig)=)[^&\s]+/gi, '$1[REDACTED]'],
];

export const REDACTED = '[REDACTED]';

export function redactText(text: string): string {
  return SECRET_IN_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** A JSON-safe copy of a value with secrets removed; errors become {name, message, code, stack, cause}. */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: redactText(value.message),
      ...(code === undefined ? {} : { code }),
      ...(value.stack ? { stack: redactText(value.stack) } : {}),
      ...(value.cause === undefined ? {} : { cause: redact(value.cause, seen) }),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, seen));
  if (value instanceof Date) return value.toISOString();
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redact(v, seen)]),
  );
}

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where lines go; stdout unless a test captures them. */
  write?: (line: string) => void;
  now?: () => Date;
}

export class Logger {
  private keys: Record<string, unknown> = {};
  private readonly threshold: number;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(private readonly options: LoggerOptions) {
    this.threshold = LEVEL_ORDER[options.level ?? 'info'];
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
  }

  /**
   * A logger for one event: every line carries `keys` (the upstream ids: Jira delivery id, request id).
   * Safer than appendKeys when events are handled concurrently, as in the sandbox.
   */
  child(keys: Record<string, unknown>): Logger {
    const child = new Logger(this.options);
    child.keys = { ...this.keys, ...keys };
    return child;
  }

  /** Keys added to every line until resetKeys(): use the upstream ids of the event being handled. */
  appendKeys(keys: Record<string, unknown>): void {
    Object.assign(this.keys, keys);
  }

  /** Call at the start of every invocation so one event's ids never leak into the next. */
  resetKeys(): void {
    this.keys = {};
  }

  debug(message: string, attributes?: Record<string, unknown>): void {
    this.log('debug', message, attributes);
  }
  info(message: string, attributes?: Record<string, unknown>): void {
    this.log('info', message, attributes);
  }
  warn(message: string, attributes?: Record<string, unknown>): void {
    this.log('warn', message, attributes);
  }
  error(message: string, attributes?: Record<string, unknown>): void {
    this.log('error', message, attributes);
  }

  private log(level: LogLevel, message: string, attributes?: Record<string, unknown>): void {
    if (LEVEL_ORDER[level] < this.threshold) return;
    const line = {
      level,
      timestamp: this.now().toISOString(),
      service: this.options.service,
      message: redactText(message),
      ...invocationKeys(),
      ...(redact({ ...this.keys, ...attributes }) as Record<string, unknown>),
    };
    this.write(JSON.stringify(line));
  }
}
