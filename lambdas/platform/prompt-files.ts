// Reads the recommendation prompt's templates from their folder and checks
// them once, at cold start: a missing file or a broken slot fails loudly
// instead of sending the model a prompt with data missing.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTemplates, type PromptTemplates } from '../core/advice/prompt';
import { ConfigurationError } from '../core/errors';

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
