// The checking helpers every part of a CNI request parser shares: Problems
// collects what is wrong in one phase (the variable or field path, what,
// how to fix it) and throws it as one CniError, the first problem deciding
// the code; `at` spells field paths, `kindOf` names a JSON value's type.
import { CniError, truncatedJson } from './cni-error.js';
import { CNI_CODE } from './cni-types.js';

export type Json = Record<string, unknown>;

interface Problem {
  code: number;
  /** the environment variable or the field path, e.g. runtimeConfig.ips[0] */
  where: string;
  what: string;
  fix?: string;
}

const utf8 = new TextEncoder();
export const utf8Length = (s: string) => utf8.encode(s).length;

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `runtimeConfig` + `ips` -> runtimeConfig.ips; 0 -> [0]; odd keys quoted: args.labels["a/b"]. */
export function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (base === '') return key;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function problemText(p: Problem): string {
  return `${p.where}: ${p.what}${p.fix ? ` (${p.fix})` : ''}`;
}

/** Every problem found in one phase; the first one decides the CNI code. */
export class Problems {
  readonly list: Problem[] = [];

  add(code: number, where: string, what: string, fix?: string): undefined {
    const p: Problem = { code, where, what };
    if (fix !== undefined) p.fix = fix;
    this.list.push(p);
    return undefined;
  }

  get count(): number {
    return this.list.length;
  }

  throwIfAny(): void {
    const [first, ...rest] = this.list;
    if (!first) return;
    const others = [...new Set(rest.map((p) => p.where))];
    const more = rest.length === 0 ? '' : ` (and ${rest.length} more: ${others.join(', ')})`;
    // Runtimes print "msg; details": details carry the first problem's fix, then every other problem.
    const details = [first.fix, ...rest.map(problemText)].filter((t): t is string => t !== undefined).join('; ');
    throw new CniError(first.code, `${first.where}: ${first.what}${more}`, details);
  }

  string(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): string | undefined {
    if (typeof v === 'string') return v;
    return this.add(code, where, `must be a string, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  boolean(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): boolean | undefined {
    if (typeof v === 'boolean') return v;
    return this.add(code, where, `must be true or false, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  uint(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): number | undefined {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    return this.add(code, where, `must be an integer >= 0, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  object(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): Json | undefined {
    if (isObject(v)) return v;
    return this.add(code, where, `must be an object, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  array(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): unknown[] | undefined {
    if (Array.isArray(v)) return v;
    return this.add(code, where, `must be an array, got ${kindOf(v)} ${truncatedJson(v, 40)}`);
  }

  /** An array of strings; undefined (and problems) when it is not one. */
  strings(v: unknown, where: string, code: number = CNI_CODE.InvalidConfig): string[] | undefined {
    const a = this.array(v, where, code);
    if (!a) return undefined;
    const before = this.count;
    const out = a.map((x, i) => this.string(x, at(where, i), code));
    return this.count === before ? (out as string[]) : undefined;
  }
}

export function fail(code: number, where: string, what: string, fix?: string): never {
  const p = new Problems();
  p.add(code, where, what, fix);
  p.throwIfAny();
  throw new Error('unreachable');
}
