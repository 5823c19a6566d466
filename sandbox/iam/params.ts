// Reads an action's form parameters with IAM's input validation: missing or
// out-of-range members give one ValidationError listing every violation in
// the service framework's wording ("1 validation error detected: Value null at
// 'userName' failed to satisfy constraint: Member must not be null"); a bad
// entity name gives IAM's own "The specified value for userName is invalid"
// message, checked after the framework's constraints as the service does.

import { validationError } from './errors';

export interface StringRule {
  min?: number;
  max?: number;
  /** Checked as the framework does: a violation is listed with the pattern's text. */
  pattern?: { regex: RegExp; text: string };
  /** An IAM entity name (`[\w+=,.@-]+`): a violation gets IAM's own message. */
  name?: boolean;
  enum?: readonly string[];
}

const NAME = /^[\w+=,.@-]+$/;

export class Params {
  private readonly violations: string[] = [];
  private nameViolation: string | undefined;

  constructor(private readonly form: URLSearchParams) {}

  required(param: string, rule: StringRule): string {
    const value = this.form.get(param);
    if (value === null) {
      this.violations.push(
        `Value null at '${member(param)}' failed to satisfy constraint: Member must not be null`,
      );
      return '';
    }
    this.checkString(param, value, rule);
    return value;
  }

  optional(param: string, rule: StringRule): string | undefined {
    const value = this.form.get(param);
    if (value === null) return undefined;
    this.checkString(param, value, rule);
    return value;
  }

  integer(param: string, range: { min: number; max: number }): number | undefined {
    const raw = this.form.get(param);
    if (raw === null) return undefined;
    const value = Number(raw);
    const at = `Value '${raw}' at '${member(param)}' failed to satisfy constraint:`;
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) {
      this.violations.push(`${at} Member must be an integer`);
      return undefined;
    }
    if (value < range.min)
      this.violations.push(`${at} Member must have value greater than or equal to ${range.min}`);
    if (value > range.max)
      this.violations.push(`${at} Member must have value less than or equal to ${range.max}`);
    return value;
  }

  /** Throws the ValidationError for everything found so far; call before acting on the values. */
  check(): void {
    const count = this.violations.length;
    if (count > 0) {
      throw validationError(
        `${count} validation error${count === 1 ? '' : 's'} detected: ${this.violations.join('; ')}`,
      );
    }
    if (this.nameViolation) throw validationError(this.nameViolation);
  }

  private checkString(param: string, value: string, rule: StringRule): void {
    const at = `Value '${value}' at '${member(param)}' failed to satisfy constraint:`;
    const length = [...value].length;
    if (rule.min !== undefined && length < rule.min) {
      this.violations.push(`${at} Member must have length greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && length > rule.max) {
      this.violations.push(`${at} Member must have length less than or equal to ${rule.max}`);
    }
    if (rule.enum && !rule.enum.includes(value)) {
      this.violations.push(`${at} Member must satisfy enum value set: [${rule.enum.join(', ')}]`);
    }
    if (rule.pattern && value.length > 0 && !rule.pattern.regex.test(value)) {
      this.violations.push(`${at} Member must satisfy regular expression pattern: ${rule.pattern.text}`);
    }
    if (rule.name && value.length > 0 && !NAME.test(value) && !this.nameViolation) {
      this.nameViolation =
        `The specified value for ${member(param)} is invalid. ` +
        'It must contain only alphanumeric characters and/or the following: +=,.@_-';
    }
  }
}

/** The framework names members in lower camel case: `UserName` → `userName`. */
function member(param: string): string {
  return param.charAt(0).toLowerCase() + param.slice(1);
}

/** The constraints of IAM's input shapes, as the API reference lists them. */
export const RULES = {
  /** existingUserNameType: users that already exist may have names up to 128. */
  userName: { min: 1, max: 128, name: true },
  roleName: { min: 1, max: 64, name: true },
  groupName: { min: 1, max: 128, name: true },
  policyName: { min: 1, max: 128, name: true },
  policyArn: { min: 20, max: 2048 },
  arn: { min: 20, max: 2048 },
  policyDocument: {
    min: 1,
    max: 131072,
    pattern: {
      // Tab, line feed and carriage return are the control characters IAM allows in a document.
      // eslint-disable-next-line no-control-regex
      regex: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/,
      text: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+',
    },
  },
  versionId: {
    pattern: { regex: /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/, text: 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?' },
  },
  marker: { min: 1, max: 320, pattern: { regex: /^[\u0020-\u00FF]+$/, text: '[\\u0020-\\u00FF]+' } },
  policyPathPrefix: {
    min: 1,
    max: 512,
    pattern: { regex: /^((\/[A-Za-z0-9.,+@=_-]+)*)\/$/, text: '((/[A-Za-z0-9\\.,\\+@=_-]+)*)/' },
  },
  jobId: { min: 1, max: 36 },
  granularity: { enum: ['SERVICE_LEVEL', 'ACTION_LEVEL'] },
} as const satisfies Record<string, StringRule>;

export const MAX_ITEMS = { min: 1, max: 1000 } as const;
