// The only reader of process.env. Every setting is read once, at cold start,
// through a typed getter that names the variable when it is missing or wrong.

import { ConfigurationError } from '../core/errors';

export type EnvSource = Readonly<Record<string, string | undefined>>;

export class Env {
  constructor(private readonly source: EnvSource = process.env) {}

  /** A non-empty string; throws naming the variable otherwise. */
  string(name: string): string {
    const value = this.source[name]?.trim();
    if (!value) throw new ConfigurationError(`environment variable ${name} is required`);
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.source[name]?.trim() || undefined;
  }

  url(name: string): string {
    return parseUrl(name, this.string(name));
  }

  optionalUrl(name: string): string | undefined {
    const value = this.optionalString(name);
    return value === undefined ? undefined : parseUrl(name, value);
  }

  positiveInt(name: string): number {
    const value = this.string(name);
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      throw new ConfigurationError(
        `environment variable ${name} must be a positive whole number, got "${value}"`,
      );
    }
    return Number(value);
  }

  oneOf<const T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.string(name);
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigurationError(
        `environment variable ${name} must be one of ${allowed.join(', ')}, got "${value}"`,
      );
    }
    return value as T;
  }
}

function parseUrl(name: string, value: string): string {
  try {
    return new URL(value).toString();
  } catch {
    throw new ConfigurationError(`environment variable ${name} must be a URL, got "${value}"`);
  }
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Settings every function shares. Later stages add their own readers here, not elsewhere. */
export interface CommonSettings {
  tableName: string;
  logLevel: LogLevel;
  /** Only set in the sandbox and tests: DynamoDB Local's address. */
  dynamoDbEndpoint?: string;
}

export function readCommonSettings(env = new Env()): CommonSettings {
  return {
    tableName: env.string('LOOPGATE_TABLE_NAME'),
    logLevel: env.optionalString('LOG_LEVEL') === undefined ? 'info' : env.oneOf('LOG_LEVEL', LOG_LEVELS),
    dynamoDbEndpoint: env.optionalUrl('LOOPGATE_DYNAMODB_ENDPOINT'),
  };
}
