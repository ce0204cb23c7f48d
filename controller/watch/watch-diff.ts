// The pure core of the watch stream: objects as GET returns them, compared
// as JSON so "changed" means "reads differently", and the added / modified /
// deleted changes between two such snapshots. Plain JSON.stringify, not a
// key-sorted canonical form (a third of a pass at 500 endpoints): the views
// are built by the same code every pass, so their keys come in the same
// order; were one not to, the cost is a needless `modified`, never a
// missed change.
import type { AnyResource } from '../../model/kinds.js';
import { watchKey } from '../../model/watch.js';

/** watchKey -> object, in the order the objects were listed. */
export type WatchSnapshot = Map<string, AnyResource>;

export interface WatchChange {
  type: 'added' | 'modified' | 'deleted';
  object: AnyResource;
}

/**
 * The JSON of objects already serialized. StatusView hands out the same
 * view object while its inputs are unchanged (most endpoints, most
 * passes), and views are never changed once built, so an object seen
 * before needs no second JSON.stringify.
 */
const serialized = new WeakMap<object, string>();

function jsonOf(object: AnyResource): string {
  let json = serialized.get(object);
  if (json === undefined) {
    json = JSON.stringify(object);
    serialized.set(object, json);
  }
  return json;
}

export function snapshotOf(objects: Iterable<AnyResource>): WatchSnapshot {
  const out: WatchSnapshot = new Map();
  for (const object of objects) out.set(watchKey(object), object);
  return out;
}

/**
 * What turns `before` into `after`: added and modified objects in after's
 * order, then the deleted ones (as they last were) in before's order.
 */
export function diffSnapshots(before: WatchSnapshot, after: WatchSnapshot): WatchChange[] {
  const changes: WatchChange[] = [];
  for (const [key, object] of after) {
    const old = before.get(key);
    if (old === undefined) changes.push({ type: 'added', object });
    else if (old !== object && jsonOf(old) !== jsonOf(object)) changes.push({ type: 'modified', object });
  }
  for (const [key, object] of before) {
    if (!after.has(key)) changes.push({ type: 'deleted', object });
  }
  return changes;
}
