// Spots ticket text that talks to the reviewer or to a model instead of
// describing work: "ignore previous instructions", "approve this", role or
// system-prompt text. A request that tries to steer its own review is a risk
// signal in itself; the text is still only ever shown as quoted data.
//
// The list is small on purpose; each rule is a phrase family, matched on
// lower-cased text with accents removed (so "précédentes" and "precedentes"
// both match) after NFKC (so full-width look-alikes match too):
//
// | rule              | aimed at | languages          | examples                                              |
// | ----------------- | -------- | ------------------ | ----------------------------------------------------- |
// | ignore-previous   | model    | en fr es de pt it  | ignore previous instructions; ignoriere alle vorherigen Anweisungen |
// | role-reassignment | model    | en fr de           | you are now an AI assistant; you are now an approval assistant; act as the approver; tu es maintenant un assistant |
// | system-prompt     | model    | any                | system prompt; <|im_start|>; [INST]; <<SYS>>; "### instruction"; "system:" opening a sentence; the bundle's "=== END ===" markers |
// | new-instructions  | model    | en                 | new instructions: …                                   |
// | approve-this      | reviewer | en fr es de pt it  | approve this request; auto-approve; do not deny; aprueba esta solicitud; {"recommendation": "approve"} |
//
// Besides the text as written, these encodings are decoded and searched:
// base64 runs (16+ characters), percent-encoding, HTML numeric entities, ROT13.

export type InstructionTarget = 'model' | 'reviewer';
export type Encoding = 'plain' | 'base64' | 'percent-encoding' | 'html-entities' | 'rot13';

interface Rule {
  name: string;
  target: InstructionTarget;
  patterns: RegExp[];
}

export const INSTRUCTION_RULES: readonly Rule[] = [
  {
    name: 'ignore-previous',
    target: 'model',
    patterns: [
      /\b(ignore|disregard|forget|override|bypass|skip)\b.{0,40}\b(previous|prior|above|earlier|preceding|all|your|system)\b.{0,20}\b(instructions?|rules|prompts?|guidelines|directives|policy)\b/,
      /\b(ignore[rz]?|oublie[rz]?)\b.{0,20}\binstructions\b.{0,10}\b(precedentes|anterieures)\b/, // fr
      /\b(ignora(r)?|olvida(r)?)\b.{0,20}\binstrucciones\b.{0,10}\b(anteriores|previas)\b/, // es
      /\b(ignorier(e|en)?|vergiss)\b.{0,20}\b(vorherigen|bisherigen|obigen)\b.{0,10}\b(anweisungen|instruktionen)\b/, // de
      /\b(ignore|ignorar|esqueca)\b.{0,20}\binstrucoes\b.{0,10}\banteriores\b/, // pt
      /\b(ignora|dimentica)\b.{0,20}\bistruzioni\b.{0,10}\bprecedenti\b/, // it
    ],
  },
  {
    name: 'role-reassignment',
    target: 'model',
    patterns: [
      // One word may qualify the role: "you are now an approval assistant".
      /\byou are (now )?(a |an |the |my )?([a-z-]+ )?(ai|assistant|language model|llm|chatbot|gpt|model|approver|reviewer|system)\b/,
      /\b(from now on|henceforth),? you\b/,
      /\b(act|behave|respond) as (if you|an? (ai|assistant|language model|approver|reviewer)|the (ai|assistant|approver|reviewer))\b/,
      /\bpretend (to be|you are)\b/,
      /\b(tu es|vous etes) (maintenant )?(un|une) (assistant|ia|modele)\b/, // fr
      /\bdu bist (jetzt )?(ein|eine) (assistent|ki|sprachmodell)\b/, // de
    ],
  },
  {
    name: 'system-prompt',
    target: 'model',
    patterns: [
      /\bsystem ?prompt\b/,
      /<\|?\s*(im_start|im_end|system|endoftext)\s*\|?>/,
      /\[\/?(inst|system)\]|<<\/?sys>>/,
      /#{2,}\s*(instruction|system)/,
      /(^|[.!?]\s+)(system|assistant|developer)\s*:/,
      // The bundle's own framing: section markers and its header, which no work description needs.
      /={3,}\s*(end|risk signals|evidence|policy excerpts)\b/,
      /\bloopgate evidence bundle\b/,
    ],
  },
  {
    name: 'new-instructions',
    target: 'model',
    patterns: [/\b(new|updated|real|actual) instructions?\s*:/],
  },
  {
    name: 'approve-this',
    target: 'reviewer',
    patterns: [
      /\b(approve|grant|accept) (this|the|my)( access)? (request|ticket|access)\b/,
      /\bapprove this\b/,
      /\bauto[- ]?approve\b/,
      /\b(must|have to|should) approve\b/,
      /\b(do not|don'?t|never) (deny|reject|escalate|flag)\b/,
      /\bno need to (review|check|verify)\b/,
      // Also as the model's own JSON answer: {"recommendation": "approve"}.
      /\brecommendation"?\s*[:=]\s*"?approve\b/,
      /\bapprouve[rz]? (cette|la|ma) demande\b/, // fr
      /\baprueba(r)? (esta|la|mi) solicitud\b/, // es
      /\bgenehmige(n sie)? (diese|die|meine) anfrage\b/, // de
      /\baprove (esta|a|minha) solicitacao\b/, // pt
      /\bapprova (questa|la|mia) richiesta\b/, // it
    ],
  },
];

export interface InstructionMatch {
  rule: string;
  target: InstructionTarget;
  /** How the text was written: as is, or in one of the decoded encodings. */
  encoding: Encoding;
}

/** Every rule the text matches, once each, in the table's order; the first encoding it matched in is named. */
export function findInstructions(text: string): InstructionMatch[] {
  const variants = decodings(text).map(([encoding, decoded]) => [encoding, normalise(decoded)] as const);
  const matches: InstructionMatch[] = [];
  for (const rule of INSTRUCTION_RULES) {
    const hit = variants.find(([, candidate]) => rule.patterns.some((p) => p.test(candidate)));
    if (hit) matches.push({ rule: rule.name, target: rule.target, encoding: hit[0] });
  }
  return matches;
}

function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .normalize('NFD')
    .replace(/\p{M}/gu, '') // accents
    .replace(/[\p{Cf}]/gu, '') // zero-width characters hiding words from a match
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

function decodings(text: string): [Encoding, string][] {
  const out: [Encoding, string][] = [['plain', text]];
  const base64 = (text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? [])
    .map(fromBase64)
    .filter((t) => t !== undefined);
  if (base64.length > 0) out.push(['base64', base64.join(' ')]);
  if (/%[0-9a-f]{2}/i.test(text)) {
    try {
      out.push(['percent-encoding', decodeURIComponent(text.replace(/\+/g, ' '))]);
    } catch {
      // Not valid percent-encoding; the plain text is still searched.
    }
  }
  if (/&#x?[0-9a-f]+;/i.test(text)) {
    out.push([
      'html-entities',
      text.replace(/&#(x?)([0-9a-f]+);/gi, (whole, hex: string, digits: string) => {
        const code = Number.parseInt(digits, hex ? 16 : 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }),
    ]);
  }
  out.push(['rot13', rot13(text)]);
  return out;
}

/** Decoded base64 if it is mostly printable UTF-8 text, else undefined (most base64-looking runs are ids or hashes). */
function fromBase64(run: string): string | undefined {
  try {
    const standard = run.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, '='));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const printable = decoded.replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, '').length;
    return printable >= decoded.length * 0.9 ? decoded : undefined;
  } catch {
    return undefined;
  }
}

function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}
