// Reads the catalog YAML from disk, validates it and points every problem at
// its line. Used at cold start, at synth time and by the CLI.

import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { type Catalog, CatalogError, type CatalogPath, parseCatalog } from '../core/catalog';

export function loadCatalogFile(file: string): Catalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CatalogError(file, [{ path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseCatalogYaml(text, file);
}

export function parseCatalogYaml(text: string, source: string): Catalog {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CatalogError(
      source,
      doc.errors.map((e) => {
        const at = lineCounter.linePos(e.pos[0]);
        return { path: '', message: `YAML: ${e.message.split('\n')[0]}`, line: at.line, column: at.col };
      }),
    );
  }
  const locate = (path: CatalogPath) => {
    // Walk up to the nearest node that exists (an unknown key's parent, a missing field's object).
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        const at = lineCounter.linePos(node.range[0]);
        return { line: at.line, column: at.col };
      }
    }
    return undefined;
  };
  return parseCatalog(doc.toJS(), { source, locate });
}
