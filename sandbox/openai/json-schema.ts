// The JSON Schema side of structured outputs: the strict-mode rules OpenAI
// enforces on `response_format.json_schema.schema` (so a schema the stand-in
// accepts is one OpenAI accepts), and a generator that fills a schema from a
// loose "hint" value, so the rules responder can answer any schema it is sent.
//
// The generator understands what zod 4 emits through `zodResponseFormat`:
// objects with `properties`/`required`/`additionalProperties:false`, enums,
// `const`, arrays (`minItems`/`maxItems`), numbers and integers with
// `minimum`/`maximum` (and exclusive bounds, `multipleOf`), strings with
// `minLength`/`maxLength`/`format`, nullability as `type: [T, "null"]` or
// `anyOf` with `{type:"null"}`, and local `$ref`s into `$defs`/`definitions`.
// It does not try to satisfy `pattern`.

export type JsonSchema = { [key: string]: unknown };

export interface GenerateOptions {
  now: Date;
  /** Groups of property names meaning the same thing (`["summary", "rationale"]`), used to find a hint for a property. */
  aliases?: readonly (readonly string[])[];
  /** For a hint string, other enum values that mean the same (`deny` → `reject`, `denied`). */
  enumSynonyms?: Readonly<Record<string, readonly string[]>>;
}

const MAX_DEPTH = 24;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Lower case with everything but letters and digits removed: `needs-info`, `NEEDS_INFO` and `needsInfo` compare equal. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Python's tuple repr, which OpenAI's schema errors use for the location: `()`, `('a',)`, `('a', 'b')`. */
function pythonTuple(path: readonly string[]): string {
  const items = path.map((part) => `'${part}'`);
  if (items.length === 1) return `(${items[0]},)`;
  return `(${items.join(', ')})`;
}

/**
 * Checks the rules OpenAI applies to a strict schema; returns OpenAI's message
 * for the first violation, or undefined when the schema is acceptable.
 */
export function strictSchemaProblem(name: string, schema: JsonSchema): string | undefined {
  const prefix = `Invalid schema for response_format '${name}': `;
  if (schema.type !== 'object' || 'anyOf' in schema) {
    const got = Array.isArray(schema.type) ? schema.type.join(', ') : String(schema.type ?? 'None');
    return `${prefix}schema must be a JSON Schema of 'type: "object"', got 'type: "${got}"'.`;
  }
  const problem = strictObjectProblem(schema, []);
  return problem === undefined ? undefined : prefix + problem;
}

function strictObjectProblem(schema: JsonSchema, path: string[]): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('object') || isObject(schema.properties)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    if (schema.additionalProperties !== false) {
      return `In context=${pythonTuple(path)}, 'additionalProperties' is required to be supplied and to be false.`;
    }
    const required = Array.isArray(schema.required) ? schema.required : [];
    const missing = Object.keys(properties).filter((key) => !required.includes(key));
    if (missing.length > 0 || !Array.isArray(schema.required)) {
      return (
        `In context=${pythonTuple(path)}, 'required' is required to be supplied and to be an array including ` +
        `every key in properties. Missing '${missing[0] ?? ''}'.`
      );
    }
    for (const [key, child] of Object.entries(properties)) {
      if (!isObject(child)) continue;
      const problem = strictObjectProblem(child, [...path, 'properties', key]);
      if (problem) return problem;
    }
  }
  if (isObject(schema.items)) {
    const problem = strictObjectProblem(schema.items, [...path, 'items']);
    if (problem) return problem;
  }
  for (const keyword of ['anyOf', 'allOf', 'oneOf'] as const) {
    const branches = schema[keyword];
    if (!Array.isArray(branches)) continue;
    for (const [index, branch] of branches.entries()) {
      if (!isObject(branch)) continue;
      const problem = strictObjectProblem(branch, [...path, keyword, String(index)]);
      if (problem) return problem;
    }
  }
  for (const keyword of ['$defs', 'definitions'] as const) {
    const defs = schema[keyword];
    if (!isObject(defs)) continue;
    for (const [key, def] of Object.entries(defs)) {
      if (!isObject(def)) continue;
      const problem = strictObjectProblem(def, [...path, keyword, key]);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * Produces a value valid against `schema`, taking each part from `hint` where
 * the hint has a fitting value (matched by property name or alias), and a
 * neutral value (empty, minimum, null when nullable) where it has none.
 */
export function generateFromSchema(schema: JsonSchema, hint: unknown, options: GenerateOptions): unknown {
  return new Generator(schema, options).generate(schema, hint, '', 0);
}

class Generator {
  private readonly aliasIndex = new Map<string, Set<string>>();

  constructor(
    private readonly root: JsonSchema,
    private readonly options: GenerateOptions,
  ) {
    for (const group of options.aliases ?? []) {
      const names = new Set(group.map(normalizeName));
      for (const name of names) this.aliasIndex.set(name, names);
    }
  }

  generate(raw: JsonSchema, hint: unknown, key: string, depth: number): unknown {
    const schema = this.resolve(raw);
    // Past the depth limit the hint is dropped, so recursive schemas end at their empty arrays and nulls;
    // a schema that requires infinite nesting has no finite valid value at all.
    if (depth > MAX_DEPTH * 2) return null;
    if (depth > MAX_DEPTH) hint = undefined;

    const branches = Array.isArray(schema.anyOf)
      ? schema.anyOf
      : Array.isArray(schema.oneOf)
        ? schema.oneOf
        : undefined;
    if (branches) {
      const resolved = branches.filter(isObject).map((branch) => this.resolve(branch));
      const nullBranch = resolved.find((branch) => this.typesOf(branch).includes('null'));
      if ((hint === null || hint === undefined) && nullBranch) return null;
      const nonNull = resolved.filter((branch) => branch !== nullBranch);
      const chosen = nonNull.find((branch) => this.fits(branch, hint)) ?? nonNull[0] ?? nullBranch;
      return chosen ? this.generate(chosen, hint, key, depth + 1) : null;
    }

    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum)) return this.pickEnum(schema.enum, hint);

    const types = this.typesOf(schema);
    if (types.includes('null') && (hint === null || hint === undefined)) return null;
    const concrete = types.filter((type) => type !== 'null');
    const type = concrete.find((candidate) => matchesType(candidate, hint)) ?? concrete[0];

    switch (type) {
      case 'object':
        return this.object(schema, hint, depth);
      case 'array':
        return this.array(schema, hint, key, depth);
      case 'string':
        return this.string(schema, hint);
      case 'number':
      case 'integer':
        return this.number(schema, hint, type === 'integer');
      case 'boolean':
        return typeof hint === 'boolean' ? hint : false;
      case 'null':
        return null;
      default:
        // No type: any JSON value is valid.
        return hint === undefined ? null : hint;
    }
  }

  private object(schema: JsonSchema, hint: unknown, depth: number): Record<string, unknown> {
    const properties = isObject(schema.properties) ? schema.properties : {};
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(properties)) {
      if (!isObject(child)) continue;
      result[key] = this.generate(child, this.hintFor(hint, key), key, depth + 1);
    }
    return result;
  }

  private array(schema: JsonSchema, hint: unknown, key: string, depth: number): unknown[] {
    const items = isObject(schema.items) ? schema.items : {};
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : Infinity;
    const source = Array.isArray(hint) ? hint.slice(0, max) : [];
    const result = source.map((item) => this.generate(items, item, key, depth + 1));
    while (result.length < min) result.push(this.generate(items, undefined, key, depth + 1));
    return result;
  }

  private string(schema: JsonSchema, hint: unknown): string {
    let value: string;
    if (typeof hint === 'string') value = hint;
    else if (typeof hint === 'number' || typeof hint === 'boolean') value = String(hint);
    else value = this.formatted(schema.format);
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
    if (value.length > max) value = max > 1 ? `${value.slice(0, max - 1)}…` : value.slice(0, max);
    if (value.length < min) value = value.padEnd(min, '.');
    return value;
  }

  private formatted(format: unknown): string {
    const now = this.options.now.toISOString();
    switch (format) {
      case 'date-time':
        return now;
      case 'date':
        return now.slice(0, 10);
      case 'time':
        return now.slice(11, 19) + 'Z';
      case 'email':
        return 'sandbox@example.com';
      case 'uri':
      case 'url':
        return 'https://example.com/';
      case 'uuid':
        return '00000000-0000-4000-8000-000000000000';
      case 'duration':
        return 'PT0S';
      default:
        return '';
    }
  }

  private number(schema: JsonSchema, hint: unknown, integer: boolean): number {
    let low = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
    let high = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
    const step = integer ? 1 : 0.01;
    if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low, schema.exclusiveMinimum + step);
    if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high, schema.exclusiveMaximum - step);
    let value = typeof hint === 'number' && Number.isFinite(hint) ? hint : Number.isFinite(low) ? low : 0;
    value = Math.min(Math.max(value, low), high);
    if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) {
      const m = schema.multipleOf;
      value = Math.round(value / m) * m;
      if (value < low) value += m;
      if (value > high) value -= m;
    }
    if (integer) {
      value = Math.round(value);
      if (value < low) value = Math.ceil(low);
      if (value > high) value = Math.floor(high);
    }
    return value;
  }

  private pickEnum(values: unknown[], hint: unknown): unknown {
    if (hint !== undefined && values.includes(hint)) return hint;
    if (typeof hint === 'string') {
      const wanted = [hint, ...(this.options.enumSynonyms?.[hint] ?? [])].map(normalizeName);
      for (const name of wanted) {
        const found = values.find((value) => typeof value === 'string' && normalizeName(value) === name);
        if (found !== undefined) return found;
      }
    }
    return values[0] ?? null;
  }

  private hintFor(hint: unknown, key: string): unknown {
    if (!isObject(hint)) return undefined;
    if (key in hint) return hint[key];
    const normalized = normalizeName(key);
    const names = this.aliasIndex.get(normalized) ?? new Set([normalized]);
    const match = Object.keys(hint).find((candidate) => names.has(normalizeName(candidate)));
    return match === undefined ? undefined : hint[match];
  }

  private fits(schema: JsonSchema, hint: unknown): boolean {
    if (hint === undefined) return false;
    if ('const' in schema) return schema.const === hint;
    if (Array.isArray(schema.enum)) return schema.enum.includes(hint);
    return this.typesOf(schema).some((type) => matchesType(type, hint));
  }

  private typesOf(schema: JsonSchema): string[] {
    if (typeof schema.type === 'string') return [schema.type];
    if (Array.isArray(schema.type)) return schema.type.filter((t): t is string => typeof t === 'string');
    if (isObject(schema.properties)) return ['object'];
    if (isObject(schema.items)) return ['array'];
    return [];
  }

  private resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let hops = 0; typeof current.$ref === 'string' && hops <= MAX_DEPTH; hops++) {
      const ref: string = current.$ref;
      if (!ref.startsWith('#')) return {};
      let target: unknown = this.root;
      for (const part of ref.slice(1).split('/').filter(Boolean)) {
        const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
        target = isObject(target) ? target[key] : undefined;
      }
      if (!isObject(target)) return {};
      current = target;
    }
    return current;
  }
}

function matchesType(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return false;
  }
}
