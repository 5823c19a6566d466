// Reads the catalog YAML from disk, validates it and points every problem at
// its line. Used at cold start, at synth time and by the CLI.

import { readFileSync } from 'node:fs';
import { type Catalog, CatalogError, parseCatalog } from '../core/catalog';
import { parseYamlSource } from './yaml-source';

export function loadCatalogFile(file: string): Catalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CatalogError(file, [
      { path: '', message: `cannot read the file: ${(error as Error).message}` },
    ]);
  }
  return parseCatalogYaml(text, file);
}

export function parseCatalogYaml(text: string, source: string): Catalog {
  const parsed = parseYamlSource(text);
  if (!parsed.ok) {
    throw new CatalogError(
      source,
      parsed.errors.map((e) => ({ path: '', message: `YAML: ${e.message}`, line: e.line, column: e.column })),
    );
  }
  return parseCatalog(parsed.data, { source, locate: parsed.locate });
}
