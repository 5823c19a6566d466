// Scripted replies of the OpenAI stand-in: what tests queue to make the "model"
// answer a given way, one reply per chat completion request. Replies are plain
// JSON values so a control API can accept them over HTTP as well.

export type ScriptedReply = (
  | {
      /** What the stand-in says without a script: the rules responder's answer (useful with `delayMs`). */
      kind: 'rules';
    }
  | {
      /** `content` is this value serialized as JSON, sent as given even if it breaks the request's schema. */
      kind: 'json';
      body: unknown;
    }
  | {
      /** `content` is exactly this text (invalid JSON, prose, an empty string). */
      kind: 'content';
      content: string;
    }
  | {
      /** A structured-outputs refusal: `content: null`, `refusal` set, `finish_reason: "stop"`. */
      kind: 'refusal';
      refusal: string;
    }
  | {
      /** `finish_reason: "length"` with the content cut; by default half of what the rules responder would say. */
      kind: 'length';
      content?: string;
    }
  | {
      /** `finish_reason: "content_filter"`, content null unless given. */
      kind: 'content-filter';
      content?: string;
    }
  | {
      /** An HTTP error in OpenAI's shape; 429 carries `retry-after` and `x-ratelimit-*`. */
      kind: 'error';
      status: number;
      message?: string;
      type?: string;
      code?: string | null;
      retryAfterSeconds?: number;
      retryAfterMs?: number;
    }
) & {
  /** Held this long before answering, to run into the client's timeout. */
  delayMs?: number;
  /** The `model` the reply names; `sandbox-script` unless set. */
  model?: string;
};

export const SCRIPT_MODEL = 'sandbox-script';

/** Builders for scripted replies: `standIn.script(reply.json({...}), reply.rateLimited({ retryAfterMs: 10 }))`. */
export const reply = {
  rules: (): ScriptedReply => ({ kind: 'rules' }),
  json: (body: unknown): ScriptedReply => ({ kind: 'json', body }),
  content: (content: string): ScriptedReply => ({ kind: 'content', content }),
  refusal: (refusal: string): ScriptedReply => ({ kind: 'refusal', refusal }),
  length: (content?: string): ScriptedReply =>
    content === undefined ? { kind: 'length' } : { kind: 'length', content },
  contentFilter: (content?: string): ScriptedReply =>
    content === undefined ? { kind: 'content-filter' } : { kind: 'content-filter', content },
  rateLimited: (wait: { retryAfterSeconds?: number; retryAfterMs?: number } = {}): ScriptedReply => ({
    kind: 'error',
    status: 429,
    ...wait,
  }),
  serverError: (): ScriptedReply => ({ kind: 'error', status: 500 }),
  overloaded: (wait: { retryAfterSeconds?: number } = {}): ScriptedReply => ({
    kind: 'error',
    status: 503,
    ...wait,
  }),
  error: (
    status: number,
    fields: { message?: string; type?: string; code?: string | null } = {},
  ): ScriptedReply => ({
    kind: 'error',
    status,
    ...fields,
  }),
  /** The same reply, answered only after `ms` milliseconds. */
  delayed: (ms: number, then: ScriptedReply): ScriptedReply => ({ ...then, delayMs: ms }),
};
