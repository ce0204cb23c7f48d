// Checks shared by every resource write: does the object exist as the
// request expects, and is the client's resourceVersion still current.
import { WeftError, type FieldIssue } from '../../model/errors.js';
import type { AnyResource, Kind } from '../../model/kinds.js';
import { canonicalJson } from '../util/canonical-json.js';

/** create: must not exist; update: must exist; apply: either. */
export type WriteMode = 'create' | 'update' | 'apply';

export function requireMode(existing: AnyResource | undefined, mode: WriteMode, kind: Kind, name: string): void {
  if (mode === 'create' && existing) {
    throw new WeftError('AlreadyExists', `${kind} "${name}" already exists; use PUT to change it or apply to create-or-update`, { field: '/metadata/name' });
  }
  if (mode === 'update' && !existing) throw new WeftError('NotFound', `${kind} "${name}" does not exist`);
}

/** JSON pointers (with the stored value) where two documents differ; objects are walked, arrays compared whole. */
export function differingFields(stored: unknown, theirs: unknown, path = ''): FieldIssue[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(stored) && isObj(theirs)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(theirs)])].sort();
    return keys.flatMap((k) => differingFields(stored[k], theirs[k], `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  }
  if (canonicalJson(stored) === canonicalJson(theirs)) return [];
  return [{ path, message: stored === undefined ? 'not set in the stored object' : 'the stored object has a different value', value: stored }];
}

/**
 * Optimistic concurrency: a write that carries metadata.resourceVersion
 * applies only to that version. A stale one gets Conflict naming the fields
 * where the stored object now differs from what the client sent.
 */
export function checkResourceVersion(existing: AnyResource | undefined, doc: AnyResource, base = ''): void {
  const sent = doc.metadata.resourceVersion;
  if (sent === undefined || !existing || sent === existing.metadata.resourceVersion) return;
  const current = existing.metadata.resourceVersion ?? '0';
  const details = [
    ...differingFields(existing.metadata.labels ?? {}, doc.metadata.labels ?? {}, '/metadata/labels'),
    ...differingFields(existing.spec, doc.spec, '/spec'),
  ].map((d) => ({ ...d, path: `${base}${d.path}` }));
  const what =
    details.length > 0
      ? `the stored object differs from yours in ${details.slice(0, 8).map((d) => d.path).join(', ')}${details.length > 8 ? ` (and ${details.length - 8} more)` : ''}`
      : 'its labels and spec match yours (only status or server-set metadata changed)';
  throw new WeftError(
    'Conflict',
    `${doc.kind} "${doc.metadata.name}" changed since resourceVersion ${sent}: it is now at resourceVersion ${current} (generation ${existing.metadata.generation ?? 0}); ${what}. Read it again and redo your change`,
    { field: `${base}/metadata/resourceVersion`, details },
  );
}

/** Prefix every field path of a WeftError with base (e.g. "/items/3"), keeping code and message. */
export function rebase(e: unknown, base: string): unknown {
  if (!(e instanceof WeftError) || base === '') return e;
  const details = e.details.map((d) => (d.path.startsWith(base) ? d : { ...d, path: `${base}${d.path}` }));
  const opts: { details: FieldIssue[]; field?: string; cause: unknown } = { details, cause: e.cause };
  if (e.field !== undefined) opts.field = e.field.startsWith(base) ? e.field : `${base}${e.field}`;
  return new WeftError(e.code, e.message, opts);
}
