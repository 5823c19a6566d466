// Validation of a chat completion request the way the OpenAI API does it: the
// same checks on model, messages, response_format and the numeric parameters,
// answered with the same 400 messages, `param` and `code`, so a client that
// passes here sends requests api.openai.com accepts.

import type { StandInResponse } from '../http/stand-in';
import { invalidRequest } from './errors';
import { strictSchemaProblem, type JsonSchema } from './json-schema';

export interface ChatMessage {
  role: string;
  content?: unknown;
  [key: string]: unknown;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; strict: boolean; schema: JsonSchema | undefined };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  responseFormat: ResponseFormat;
  n: number;
  /** `max_completion_tokens`, or the older `max_tokens`. */
  maxTokens: number | undefined;
}

export type Validation = { ok: true; request: ChatRequest } | { ok: false; response: StandInResponse };

const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];
const USER_PART_TYPES = ['text', 'image_url', 'input_audio', 'file'];
const SCHEMA_NAME = /^[a-zA-Z0-9_-]+$/;

/** Every parameter of `POST /v1/chat/completions`; anything else is refused as OpenAI refuses it. */
const KNOWN_PARAMETERS = new Set([
  'messages',
  'model',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
]);

class Invalid extends Error {
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export function validateChatRequest(body: unknown): Validation {
  try {
    return { ok: true, request: check(body) };
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    return { ok: false, response: invalidRequest(error.message, error.param, error.code) };
  }
}

function check(body: unknown): ChatRequest {
  if (!isObject(body)) {
    throw new Invalid(
      `Invalid type for request body: expected an object, but got ${describe(body)} instead.`,
      null,
      'invalid_type',
    );
  }
  for (const key of Object.keys(body)) {
    if (!KNOWN_PARAMETERS.has(key))
      throw new Invalid(`Unrecognized request argument supplied: ${key}`, null, null);
  }
  if (body.model === undefined || body.model === null || body.model === '') {
    throw new Invalid('you must provide a model parameter', null, null);
  }
  if (typeof body.model !== 'string') throw wrongType('model', 'a string', body.model);

  const messages = checkMessages(body.messages);
  const responseFormat = checkResponseFormat(body.response_format, messages);

  if (body.stream === true) {
    throw new Invalid(
      "Unsupported value: 'stream' does not support true with this model. Only the default (false) value is supported.",
      'stream',
      'unsupported_value',
    );
  }
  const n = integerIn('n', body.n, 1, 128) ?? 1;
  numberIn('temperature', body.temperature, 0, 2);
  numberIn('top_p', body.top_p, 0, 1);
  numberIn('frequency_penalty', body.frequency_penalty, -2, 2);
  numberIn('presence_penalty', body.presence_penalty, -2, 2);
  const maxTokens =
    integerIn('max_completion_tokens', body.max_completion_tokens, 1, Infinity) ??
    integerIn('max_tokens', body.max_tokens, 1, Infinity);

  return { model: body.model, messages, responseFormat, n, maxTokens };
}

function checkMessages(value: unknown): ChatMessage[] {
  if (value === undefined || value === null) {
    throw new Invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  }
  if (!Array.isArray(value)) throw wrongType('messages', 'an array', value);
  if (value.length === 0) {
    throw new Invalid(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  return value.map((message: unknown, index) => checkMessage(message, `messages[${index}]`));
}

function checkMessage(message: unknown, at: string): ChatMessage {
  if (!isObject(message)) throw wrongType(at, 'an object', message);
  const { role } = message;
  if (role === undefined) throw missing(`${at}.role`);
  if (typeof role !== 'string' || !ROLES.includes(role)) {
    throw new Invalid(
      `Invalid value: '${String(role)}'. Supported values are: ${oxfordList(ROLES)}.`,
      `${at}.role`,
      'invalid_value',
    );
  }
  const content = message.content;
  const contentOptional = role === 'assistant' || role === 'function';
  if (content === undefined || content === null) {
    if (!contentOptional) throw missing(`${at}.content`);
  } else if (typeof content !== 'string') {
    if (!Array.isArray(content)) {
      throw new Invalid(
        `Invalid type for '${at}.content': expected one of a string or array of objects, but got ${describe(content)} instead.`,
        `${at}.content`,
        'invalid_type',
      );
    }
    const allowed = role === 'user' ? USER_PART_TYPES : role === 'assistant' ? ['text', 'refusal'] : ['text'];
    content.forEach((part: unknown, index) => checkPart(part, `${at}.content[${index}]`, allowed));
  }
  if (role === 'tool' && typeof message.tool_call_id !== 'string') throw missing(`${at}.tool_call_id`);
  return { ...message, role };
}

function checkPart(part: unknown, at: string, allowed: string[]): void {
  if (!isObject(part)) throw wrongType(at, 'an object', part);
  if (part.type === undefined) throw missing(`${at}.type`);
  if (typeof part.type !== 'string' || !allowed.includes(part.type)) {
    throw new Invalid(
      `Invalid value: '${String(part.type)}'. Supported values are: ${oxfordList(allowed)}.`,
      `${at}.type`,
      'invalid_value',
    );
  }
  if (part.type === 'text') {
    if (part.text === undefined) throw missing(`${at}.text`);
    if (typeof part.text !== 'string') throw wrongType(`${at}.text`, 'a string', part.text);
  }
}

function checkResponseFormat(value: unknown, messages: ChatMessage[]): ResponseFormat {
  if (value === undefined || value === null) return { type: 'text' };
  if (!isObject(value)) throw wrongType('response_format', 'an object', value);
  if (value.type === undefined) throw missing('response_format.type');
  switch (value.type) {
    case 'text':
      return { type: 'text' };
    case 'json_object': {
      const mentionsJson = messages.some((message) =>
        JSON.stringify(message.content ?? '')
          .toLowerCase()
          .includes('json'),
      );
      if (!mentionsJson) {
        throw new Invalid(
          "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
          'messages',
          null,
        );
      }
      return { type: 'json_object' };
    }
    case 'json_schema':
      return checkJsonSchema(value.json_schema);
    default:
      throw new Invalid(
        `Invalid value: '${String(value.type)}'. Supported values are: 'text', 'json_object', and 'json_schema'.`,
        'response_format.type',
        'invalid_value',
      );
  }
}

function checkJsonSchema(value: unknown): ResponseFormat {
  const at = 'response_format.json_schema';
  if (value === undefined || value === null) throw missing(at);
  if (!isObject(value)) throw wrongType(at, 'an object', value);
  const { name, schema, strict } = value;
  if (name === undefined) throw missing(`${at}.name`);
  if (typeof name !== 'string') throw wrongType(`${at}.name`, 'a string', name);
  if (name.length > 64) {
    throw new Invalid(
      `Invalid '${at}.name': string too long. Expected a string with maximum length 64, but got a string with length ${name.length} instead.`,
      `${at}.name`,
      'string_above_max_length',
    );
  }
  if (!SCHEMA_NAME.test(name)) {
    throw new Invalid(
      `Invalid '${at}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
      `${at}.name`,
      'invalid_value',
    );
  }
  if (strict !== undefined && strict !== null && typeof strict !== 'boolean') {
    throw wrongType(`${at}.strict`, 'a boolean', strict);
  }
  if (schema !== undefined && !isObject(schema)) throw wrongType(`${at}.schema`, 'an object', schema);
  if (strict === true && schema) {
    const problem = strictSchemaProblem(name, schema);
    if (problem) throw new Invalid(problem, 'response_format', 'invalid_json_schema');
  }
  return { type: 'json_schema', name, strict: strict === true, schema };
}

function integerIn(param: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(param, 'an integer', value);
  return inRange(param, value, min, max, 'integer');
}

function numberIn(param: string, value: unknown, min: number, max: number): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(param, 'a number', value);
  inRange(param, value, min, max, 'decimal');
}

/** OpenAI's range errors, worded and coded per kind: `integer_below_min_value`, `decimal_above_max_value`, … */
function inRange(
  param: string,
  value: number,
  min: number,
  max: number,
  kind: 'integer' | 'decimal',
): number {
  const [side, expected] =
    value < min ? (['below_min', `>= ${min}`] as const) : (['above_max', `<= ${max}`] as const);
  if (value >= min && value <= max) return value;
  const words = side === 'below_min' ? 'below minimum' : 'above maximum';
  throw new Invalid(
    `Invalid '${param}': ${kind} ${words} value. Expected a value ${expected}, but got ${value} instead.`,
    param,
    `${kind}_${side}_value`,
  );
}

function missing(param: string): Invalid {
  return new Invalid(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
}

function wrongType(param: string, expected: string, got: unknown): Invalid {
  return new Invalid(
    `Invalid type for '${param}': expected ${expected}, but got ${describe(got)} instead.`,
    param,
    'invalid_type',
  );
}

/** OpenAI's words for a JSON value's type in its error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  return 'an object';
}

function oxfordList(values: string[]): string {
  const quoted = values.map((value) => `'${value}'`);
  if (quoted.length <= 2) return quoted.join(' and ');
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
