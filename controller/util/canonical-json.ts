// JSON with object keys sorted, so two values that mean the same compare
// equal as strings whatever order their keys were written in. Used to decide
// "unchanged" (no write, no revision bump) and to diff plans.

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/** Thrown by jsonEqual on a value it leaves to the strings. */
const NOT_PLAIN = Symbol('not plain JSON');

/**
 * canonicalJson(a) === canonicalJson(b), decided by walking both values
 * instead of writing two strings (the planner compares policies of
 * thousands of rules on every pass). Plain JSON data (null, booleans,
 * strings, finite numbers, arrays, plain objects; object fields that are
 * undefined count as absent) is judged here; anything else (NaN, a Date,
 * a function...) falls back to the strings, so the answer is theirs.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  try {
    return jsonEqual(a, b);
  } catch (e: unknown) {
    if (e !== NOT_PLAIN) throw e;
    return canonicalJson(a) === canonicalJson(b);
  }
}

type Plain = 'null' | 'string' | 'boolean' | 'number' | 'array' | 'object';

/** What JSON.stringify writes for v, by kind; throws NOT_PLAIN for what jsonEqual does not judge. */
function plainKind(v: unknown): Plain {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      // NaN and the infinities write "null"
      if (Number.isFinite(v)) return 'number';
      throw NOT_PLAIN;
    case 'object': {
      if (Array.isArray(v)) return 'array';
      const proto = Object.getPrototypeOf(v) as unknown;
      if ((proto === Object.prototype || proto === null) && !('toJSON' in v)) return 'object';
      throw NOT_PLAIN;
    }
    default:
      throw NOT_PLAIN;
  }
}

function jsonEqual(a: unknown, b: unknown): boolean {
  // One value writes one string (or fails alike, as the strings would).
  if (a === b) return true;
  const kind = plainKind(a);
  if (plainKind(b) !== kind) return false;
  if (kind === 'array') {
    const xa = a as unknown[];
    const xb = b as unknown[];
    if (xa.length !== xb.length) return false;
    for (let i = 0; i < xa.length; i++) if (!jsonEqual(xa[i], xb[i])) return false;
    return true;
  }
  if (kind !== 'object') return false; // equal primitives were caught above (0 and -0 too)
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  for (const key of Object.keys(oa)) {
    const va = oa[key];
    if (va === undefined) continue;
    const vb = Object.prototype.propertyIsEnumerable.call(ob, key) ? ob[key] : undefined;
    if (vb === undefined) {
      plainKind(va); // written on one side only, unless it is a value JSON leaves out
      return false;
    }
    if (!jsonEqual(va, vb)) return false;
  }
  for (const key of Object.keys(ob)) {
    const vb = ob[key];
    if (vb === undefined || (Object.prototype.propertyIsEnumerable.call(oa, key) && oa[key] !== undefined)) continue;
    plainKind(vb);
    return false;
  }
  return true;
}
