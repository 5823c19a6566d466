// Reads what prompts/ holds, once per cold start: the recommendation prompt's
// templates, checked so that a missing file or a broken slot fails loudly
// instead of sending the model a prompt with data missing, and the written
// access policy, chunked for retrieval.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTemplates, type PromptTemplates } from '../core/advice/prompt';
import { ConfigurationError } from '../core/errors';
import { chunkPolicy, type PolicyChunk } from '../core/triage';

export function loadPromptTemplates(dir: string): PromptTemplates {
  const read = (name: string) => {
    const path = join(dir, name);
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigurationError(`cannot read the prompt template ${path}: ${(error as Error).message}`);
    }
  };
  const templates = { system: read('system.md'), user: read('user.md'), source: dir };
  checkTemplates(templates);
  return templates;
}

/** The written policy: every Markdown file of the folder, chunked for retrieval. */
export function loadPolicy(dir: string): PolicyChunk[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => ({ path: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));
  return chunkPolicy(files);
}
