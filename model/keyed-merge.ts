// The one way plan lists change: entries keyed by a string, kept sorted by
// key. Removals first, then upserts (an upsert of a removed key keeps it).
// Runs on every delta an agent gets (one per attach anywhere), so it costs
// one pass over the list plus a sort of what is new, not a sort of the
// whole list: the lists of a plan are sorted already (the planner sorts
// them, and every merge keeps them so).
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortedByKey<T>(xs: readonly T[], key: (x: T) => string): boolean {
  for (let i = 1; i < xs.length; i++) if (compare(key(xs[i - 1] as T), key(xs[i] as T)) > 0) return false;
  return true;
}

export function mergeByKey<T>(current: readonly T[], remove: readonly string[], upsert: readonly T[], key: (x: T) => string): T[] {
  const removed = new Set(remove);
  const upserts = new Map(upsert.map((x) => [key(x), x]));
  const kept: T[] = [];
  for (const x of current) {
    const k = key(x);
    const replacement = upserts.get(k);
    if (replacement !== undefined) {
      kept.push(replacement);
      upserts.delete(k);
    } else if (!removed.has(k)) {
      kept.push(x);
    }
  }
  const added = [...upserts.values()].sort((a, b) => compare(key(a), key(b)));
  // A list that came unsorted (nothing the planner sends) is sorted whole.
  if (!sortedByKey(kept, key)) return [...kept, ...added].sort((a, b) => compare(key(a), key(b)));
  if (added.length === 0) return kept;
  const out: T[] = [];
  let i = 0;
  for (const a of added) {
    const k = key(a);
    while (i < kept.length && compare(key(kept[i] as T), k) < 0) out.push(kept[i++] as T);
    out.push(a);
  }
  while (i < kept.length) out.push(kept[i++] as T);
  return out;
}
