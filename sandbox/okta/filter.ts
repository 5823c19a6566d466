// Okta's filter and search expression language (SCIM-style): `attr op "value"`
// joined by `and` / `or`, grouped with parentheses. Users, groups and the
// System Log accept it in `filter` and `search`; each endpoint narrows which
// attributes and operators it allows.

export type Operator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'sw' | 'co' | 'ew' | 'pr';
type Literal = string | number | boolean | null;

export type FilterExpression =
  | { kind: 'compare'; attribute: string; operator: Operator; value: Literal }
  | { kind: 'and' | 'or'; left: FilterExpression; right: FilterExpression }
  | { kind: 'not'; operand: FilterExpression };

export class FilterSyntaxError extends Error {}

const OPERATORS = new Set<Operator>(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sw', 'co', 'ew', 'pr']);

type Token = { type: 'word' | 'string' | '(' | ')'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] ?? '';
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c, text: c });
      i += 1;
    } else if (c === '"') {
      let text = '';
      i += 1;
      while (i < source.length && source[i] !== '"') {
        if (source[i] === '\\' && i + 1 < source.length) i += 1;
        text += source[i];
        i += 1;
      }
      if (i >= source.length) throw new FilterSyntaxError('unterminated string literal');
      i += 1;
      tokens.push({ type: 'string', text });
    } else {
      let text = '';
      while (i < source.length && !/[\s()"]/.test(source[i] ?? '')) {
        text += source[i];
        i += 1;
      }
      tokens.push({ type: 'word', text });
    }
  }
  return tokens;
}

/** Parses an expression; `and` binds tighter than `or`, operators and keywords are case-insensitive. */
export function parseFilter(source: string): FilterExpression {
  const tokens = tokenize(source);
  let position = 0;
  const peekWord = () => {
    const t = tokens[position];
    return t?.type === 'word' ? t.text.toLowerCase() : undefined;
  };

  const parseOr = (): FilterExpression => {
    let left = parseAnd();
    while (peekWord() === 'or') {
      position += 1;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): FilterExpression => {
    let left = parseUnary();
    while (peekWord() === 'and') {
      position += 1;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): FilterExpression => {
    const token = tokens[position];
    if (!token) throw new FilterSyntaxError('expression ends too early');
    if (token.type === '(') {
      position += 1;
      const inner = parseOr();
      if (tokens[position]?.type !== ')') throw new FilterSyntaxError('missing closing parenthesis');
      position += 1;
      return inner;
    }
    if (peekWord() === 'not') {
      position += 1;
      return { kind: 'not', operand: parseUnary() };
    }
    if (token.type !== 'word') throw new FilterSyntaxError(`expected an attribute, found "${token.text}"`);
    position += 1;
    const operatorToken = tokens[position];
    const operator = operatorToken?.type === 'word' ? operatorToken.text.toLowerCase() : '';
    if (!OPERATORS.has(operator as Operator)) {
      throw new FilterSyntaxError(`unknown operator after ${token.text}: "${operatorToken?.text ?? ''}"`);
    }
    position += 1;
    if (operator === 'pr') return { kind: 'compare', attribute: token.text, operator: 'pr', value: null };
    const valueToken = tokens[position];
    if (!valueToken) throw new FilterSyntaxError(`missing value after ${token.text} ${operator}`);
    position += 1;
    return {
      kind: 'compare',
      attribute: token.text,
      operator: operator as Operator,
      value: literal(valueToken),
    };
  };

  const expression = parseOr();
  if (position < tokens.length) throw new FilterSyntaxError(`unexpected "${tokens[position]?.text}"`);
  return expression;
}

function literal(token: Token): Literal {
  if (token.type === 'string') return token.text;
  if (token.type !== 'word') throw new FilterSyntaxError(`expected a value, found "${token.text}"`);
  const word = token.text.toLowerCase();
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (word === 'null') return null;
  const number = Number(token.text);
  if (!Number.isNaN(number)) return number;
  throw new FilterSyntaxError(`string values must be quoted: ${token.text}`);
}

/** Every comparison in an expression, for endpoints that allow only some attributes or operators. */
export function comparisons(expression: FilterExpression): Extract<FilterExpression, { kind: 'compare' }>[] {
  if (expression.kind === 'compare') return [expression];
  if (expression.kind === 'not') return comparisons(expression.operand);
  return [...comparisons(expression.left), ...comparisons(expression.right)];
}

/** Values at a dotted path; arrays along the way fan out (a log event's `target.id`). */
export function valuesAt(subject: unknown, path: string): unknown[] {
  let current: unknown[] = [subject];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        if (item !== null && typeof item === 'object' && part in item) {
          next.push((item as Record<string, unknown>)[part]);
        }
      }
    }
    current = next;
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

const ISO = /^\d{4}-\d{2}-\d{2}T/;

function compareOne(actual: unknown, operator: Operator, expected: Literal, caseSensitive: boolean): boolean {
  if (operator === 'pr') return actual !== null && actual !== undefined && actual !== '';
  if (actual instanceof Date) actual = actual.toISOString();
  if (expected === null) return operator === 'eq' ? actual == null : actual != null;
  if (typeof actual === 'string' && typeof expected === 'string') {
    if (ISO.test(actual) && ISO.test(expected) && !['sw', 'co', 'ew'].includes(operator)) {
      return order(Date.parse(actual), operator, Date.parse(expected));
    }
    const a = caseSensitive ? actual : actual.toLowerCase();
    const e = caseSensitive ? expected : expected.toLowerCase();
    if (operator === 'sw') return a.startsWith(e);
    if (operator === 'co') return a.includes(e);
    if (operator === 'ew') return a.endsWith(e);
    return order(a, operator, e);
  }
  if (typeof actual === typeof expected) return order(actual as number | boolean, operator, expected);
  return operator === 'ne';
}

function order<T extends string | number | boolean>(a: T, operator: Operator, b: T): boolean {
  switch (operator) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}

export function evaluate(expression: FilterExpression, subject: unknown, caseSensitive = true): boolean {
  switch (expression.kind) {
    case 'and':
      return (
        evaluate(expression.left, subject, caseSensitive) &&
        evaluate(expression.right, subject, caseSensitive)
      );
    case 'or':
      return (
        evaluate(expression.left, subject, caseSensitive) ||
        evaluate(expression.right, subject, caseSensitive)
      );
    case 'not':
      return !evaluate(expression.operand, subject, caseSensitive);
    case 'compare': {
      const values = valuesAt(subject, expression.attribute);
      if (expression.operator === 'ne') {
        return values.every((v) => compareOne(v, 'ne', expression.value, caseSensitive));
      }
      if (values.length === 0) return expression.operator === 'eq' && expression.value === null;
      return values.some((v) => compareOne(v, expression.operator, expression.value, caseSensitive));
    }
  }
}
