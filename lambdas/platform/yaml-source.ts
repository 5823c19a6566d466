// Parses YAML that people write by hand (the catalog, the eval cases) and keeps
// the way back from a data path to its line and column, so a validation
// problem can point the author at the exact spot.

import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';

export type DataPath = readonly (string | number)[];

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export type YamlSource =
  | {
      ok: true;
      data: unknown;
      /** Where a path of `data` is written; for a path that does not exist (a missing field), the nearest enclosing node. */
      locate: (path: DataPath) => SourcePosition | undefined;
    }
  /** The text is not YAML (or repeats a key); each error is at its position, message cut to its first line. */
  | { ok: false; errors: (SourcePosition & { message: string })[] };

export function parseYamlSource(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): SourcePosition => {
    const at = lineCounter.linePos(offset);
    return { line: at.line, column: at.col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({ ...position(e.pos[0]), message: e.message.split('\n')[0] ?? '' })),
    };
  }
  // Points at the key of a mapping entry (where the author looks), else at the node.
  const locate = (path: DataPath) => {
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
  return { ok: true, data: doc.toJS(), locate };
}
