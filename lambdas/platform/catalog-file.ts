// Reads the catalog YAML from disk, validates it and points every problem at
// its line. Used at cold start, at synth time and by the CLI.

import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { type Catalog, CatalogError, type CatalogPath, parseCatalog } from '../core/catalog';

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
  const position = (offset: number) => {
    const at = lineCounter.linePos(offset);
    return { line: at.line, column: at.col };
  };
  // Points at the key of a mapping entry (where the author looks), else at the node;
  // for a path that does not exist (a missing field), at the nearest enclosing node.
  const locate = (path: CatalogPath) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const parent = depth > 0 ? doc.getIn(path.slice(0, depth - 1), true) : undefined;
      const last = path[depth - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
        if (pair && isNode(pair.key) && pair.key.range) return position(pair.key.range[0]);
      }
      const node = depth > 0 ? doc.getIn(path.slice(0, depth), true) : doc.contents;
      if (isNode(node) && node.range) return position(node.range[0]);
    }
    return undefined;
  };
  return parseCatalog(doc.toJS(), { source, locate });
}
