// How many tokens a text is for the model, without shipping a tokenizer: the
// triage function only needs to know that its evidence bundle fits the token
// budget, and gpt-tokenizer's encoding is ~2.7 MB of its bundle (load time at
// every cold start). An estimate that errs high, never low: a bundle it lets
// through fits the budget on the model's own tokenizer.

/** Letters one token covers at least, in words the vocabulary does not know whole. */
const LETTERS_PER_TOKEN = 4;

/**
 * The pieces BPE tokenizers (cl100k, o200k) cut a text into before merging, and never merge across:
 * a letter run with its leading space, one to three digits, a run of spaces or tabs, a line break,
 * one punctuation mark, a run of non-ASCII characters, a control character.
 */
const PIECE = / ?[A-Za-z]+|[0-9]{1,3}|[ \t]+|[\r\n]|[!-/:-@[-`{-~]|[^\p{ASCII}]+|\p{Cc}/gu;
const LETTER = /[A-Za-z]/;

/**
 * Each piece counts at least one token: a letter run one per four letters begun (common words are
 * one token whatever their length, so this is high); a run of spaces one per four; a non-ASCII run
 * one per UTF-8 byte (the most a byte-level tokenizer can make of it); anything else one each (the
 * vocabulary merges some punctuation, as `",`, which only makes the estimate higher). Only a run
 * of random letters (a base64 secret, never in a prompt) can be more than one token per four.
 * The budget it serves bounds cost and the model's attention, not a hard limit, so that rare
 * shortfall costs nothing. Measured against gpt-tokenizer (o200k) on the repository's prompts,
 * policy, docs and recorded requests in test/unit/token-estimate.test.ts.
 */
export function estimateTokens(text: string): number {
  let tokens = 0;
  for (const [piece] of text.matchAll(PIECE)) {
    const body = piece.length > 1 && piece.startsWith(' ') ? piece.slice(1) : piece;
    if (LETTER.test(body[0] ?? '')) tokens += Math.ceil(body.length / LETTERS_PER_TOKEN);
    else if (body.charCodeAt(0) > 0x7f) tokens += Buffer.byteLength(body);
    else if (body[0] === ' ' || body[0] === '\t') tokens += Math.ceil(body.length / 4);
    else tokens += 1;
  }
  return tokens;
}
