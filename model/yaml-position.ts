// Map a JSON pointer inside a parsed YAML document back to the line and
// column a user sees in the file, using the yaml package's node ranges.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function start(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] | null } | null)?.range;
  return range ? range[0] : undefined;
}

/**
 * Offset of the node at `pointer`. For a path that does not exist (a
 * missing required field) this is the nearest existing ancestor's key, so
 * the user lands on the map the field belongs in. With `preferKey`, an
 * existing path points at its key rather than its value (unknown fields).
 */
function offsetOf(doc: Document, pointer: string, preferKey = false): number {
  const docStart = start(doc.contents) ?? start(doc) ?? 0;
  let node: unknown = doc.contents;
  let keyNode: unknown;
  const segments = pointer === '' ? [] : pointer.split('/').slice(1).map(unescapePointer);
  for (const seg of segments) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === seg);
      if (!pair) return start(keyNode) ?? start(node) ?? docStart;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = /^\d+$/.test(seg) ? (node.items[Number(seg)] as Node | undefined) : undefined;
      if (item === undefined) return start(keyNode) ?? start(node) ?? docStart;
      keyNode = item;
      node = item;
    } else {
      // A scalar (or nothing) where a map was expected: point at it.
      return start(node) ?? start(keyNode) ?? docStart;
    }
  }
  if (preferKey && keyNode !== undefined) return start(keyNode) ?? docStart;
  // `spec:` with no value has no value node: fall back to the key.
  return start(node) ?? start(keyNode) ?? docStart;
}

export function positionOf(doc: Document, lineCounter: LineCounter, pointer: string, preferKey = false): Position {
  return lineCounter.linePos(offsetOf(doc, pointer, preferKey));
}
