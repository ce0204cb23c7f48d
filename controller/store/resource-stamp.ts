// Server-set metadata on every stored resource: uid and creationTimestamp on
// create, generation bumped on spec changes, resourceVersion = the revision
// of the write. Pure, so the rules have one home and their own tests.
import { randomUUID } from 'node:crypto';
import type { AnyResource } from '../../model/kinds.js';
import { sameJson } from '../util/canonical-json.js';
import type { WriteAction } from './store.js';

const labelsOf = (r: AnyResource): Record<string, string> | undefined =>
  r.metadata.labels && Object.keys(r.metadata.labels).length > 0 ? r.metadata.labels : undefined;

/** What a write of `next` over `existing` stores; `revision` is called only when something changed. */
export function stampResource<R extends AnyResource>(
  existing: R | undefined,
  next: R,
  revision: () => number,
  now: () => Date = () => new Date(),
): { resource: R; action: WriteAction } {
  const labels = labelsOf(next);
  // One walk over the spec (thousands of rules in a big policy). Compared as
  // elements of one array, an absent field reads as null; the spec alone, it does not.
  const specSame = existing !== undefined && sameJson(existing.spec ?? null, next.spec ?? null);
  if (existing && specSame && sameJson(labelsOf(existing) ?? null, labels ?? null) && sameJson(existing.status ?? null, next.status ?? null)) {
    return { resource: existing, action: 'unchanged' };
  }
  const specChanged = !existing || (existing.spec == null || next.spec == null ? !sameJson(existing.spec, next.spec) : !specSame);
  const metadata: AnyResource['metadata'] = { name: next.metadata.name };
  if (labels) metadata.labels = labels;
  metadata.uid = existing?.metadata.uid ?? randomUUID();
  metadata.resourceVersion = String(revision());
  metadata.generation = (existing?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
  metadata.creationTimestamp = existing?.metadata.creationTimestamp ?? now().toISOString();
  const resource = { ...next, metadata } as R;
  if (next.status === undefined) delete resource.status;
  return { resource, action: existing ? 'configured' : 'created' };
}
