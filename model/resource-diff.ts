// What `weft diff` prints for one resource: the unified diff of its view
// (labels and effective spec) before and after an apply, as YAML, with the
// fields the controller filled in marked by a comment. Shared by the CLI and
// the web console so both show the same text.
import { Document, isScalar } from 'yaml';
import type { ApplyResult, ResourceView } from './rest.js';
import { resourceId } from './kind-names.js';
import { unifiedDiff } from './unified-diff.js';

/** The YAML lines of a view; fields the controller filled in are marked with a comment. */
function renderView(view: ResourceView | undefined): string[] {
  if (!view) return [];
  const metadata: ResourceView['metadata'] = { name: view.metadata.name };
  const labels = view.metadata.labels;
  if (labels && Object.keys(labels).length > 0) metadata.labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const doc = new Document({ metadata, spec: view.spec });
  for (const pointer of view.defaulted ?? []) {
    const path = pointer.split('/').slice(1);
    const node = doc.getIn(path, true);
    if (isScalar(node)) node.comment = path[path.length - 1] === 'vni' ? ' allocated' : ' default';
  }
  return doc.toString({ lineWidth: 0 }).replace(/\n$/, '').split('\n');
}

export { resourceId } from './kind-names.js';

/** Each resource of a dry-run apply with `diff`, with its action and diff ('' when unchanged): the results, then what the prune removes. */
export function applyDiffs(res: Pick<ApplyResult, 'results' | 'pruned'>): Array<{ id: string; action: string; diff: string }> {
  return [
    ...res.results.map((r) => ({ id: resourceId(r), action: r.action as string, diff: resourceDiff(resourceId(r), r.live, r.merged) })),
    ...(res.pruned ?? []).map((p) => ({ id: resourceId(p), action: 'pruned', diff: resourceDiff(resourceId(p), p.live, undefined) })),
  ];
}

/** One resource's diff, '' when unchanged. A new resource is all added, a pruned one all removed. */
function resourceDiff(id: string, live: ResourceView | undefined, merged: ResourceView | undefined): string {
  return unifiedDiff(renderView(live), renderView(merged), `live/${id}`, `file/${id}`);
}
