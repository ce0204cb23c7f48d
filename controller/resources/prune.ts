// `apply --prune`: inside the apply's transaction, after its writes, remove
// the Networks, declared Endpoints and FirewallPolicies that match the
// selector / apply set and are not among the applied items. Policies go
// first (nothing depends on them), endpoints before networks; a network
// something still depends on is refused as a whole (Conflict), so the apply
// commits nothing.
import { WeftError, type FieldIssue } from '../../model/errors.js';
import type { AnyResource, Endpoint, Network } from '../../model/kinds.js';
import { APPLYSET_LABEL, type PrunedItem } from '../../model/rest.js';
import type { StoreTx } from '../store/store.js';
import { deleteDeclaredEndpoint } from './endpoint-writer.js';
import { deleteFirewallPolicy } from './firewall-policy-writer.js';
import { deleteVnf } from './vnf-writer.js';
import { VNF_KIND_NAMES } from '../planner/vnf-kinds.js';
import type { VnfKindName } from '../../model/vnf-resource.js';
import { deleteNetwork } from './network-writer.js';
import { viewOf } from './resource-view.js';

export interface PrunePlan {
  /** Labels a resource must all carry. */
  selector: Record<string, string>;
  applyset?: string;
  cascade: boolean;
}

/** `Kind/name` of a resource, the identity apply and prune agree on. */
export const keyOf = (kind: string, name: string): string => `${kind}/${name}`;

function selectedForPrune(labels: Record<string, string> | undefined, plan: PrunePlan): boolean {
  const wanted: Record<string, string> = { ...plan.selector };
  if (plan.applyset !== undefined) wanted[APPLYSET_LABEL] = plan.applyset;
  const keys = Object.keys(wanted);
  // Never "everything": parseApply refuses a prune without a selector or set; this guards other callers.
  if (keys.length === 0) return false;
  return keys.every((k) => labels?.[k] === wanted[k]);
}

/** Why one endpoint keeps a network from being pruned. */
interface Blocker {
  endpoint: string;
  why: string;
}

function blockersOf(tx: StoreTx, net: Network, plan: PrunePlan, applied: Set<string>, pruned: Set<string>, cascade: Endpoint[]): Blocker[] {
  const name = net.metadata.name;
  const blockers = new Map<string, string>();
  // Attached endpoints are the agent's (a runtime attached a container): no prune or cascade removes them.
  for (const rec of tx.listEndpointRecords({ network: name })) {
    blockers.set(
      rec.metadata.name,
      `attached on host "${rec.spec.host}" for container ${rec.spec.containerId}: detach it through its runtime; --cascade never removes attached endpoints`,
    );
  }
  for (const ep of tx.listResources('Endpoint')) {
    const epName = ep.metadata.name;
    if (ep.spec.network !== name || pruned.has(epName) || blockers.has(epName)) continue;
    if (applied.has(keyOf('Endpoint', epName))) {
      blockers.set(epName, 'declared in the applied files: remove it from them too, or keep the network');
    } else if (plan.cascade) {
      cascade.push(ep);
    } else {
      blockers.set(epName, 'declared, not selected for pruning: delete it first, or add --cascade to delete it with the network');
    }
  }
  return [...blockers].map(([endpoint, why]) => ({ endpoint, why })).sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
}

/**
 * Delete what the plan selects and `applied` (Kind/name keys) does not hold.
 * Returns what went, in deletion order; with `withViews` each carries the
 * view it had, for diffs. Throws Conflict (field /prune) naming every
 * network that something still depends on.
 */
export function pruneResources(tx: StoreTx, plan: PrunePlan, applied: Set<string>, withViews: boolean): PrunedItem[] {
  const pick = <R extends AnyResource>(rs: R[]) => rs.filter((r) => !applied.has(keyOf(r.kind, r.metadata.name)) && selectedForPrune(r.metadata.labels, plan));
  const policies = pick(tx.listResources('FirewallPolicy'));
  // VNFs go before networks: a network a VNF has an interface on cannot be deleted.
  const vnfs = VNF_KIND_NAMES.flatMap((kind) => pick(tx.listResources(kind) as AnyResource[]));
  const endpoints = pick(tx.listResources('Endpoint'));
  const networks = pick(tx.listResources('Network'));
  const prunedEndpoints = new Set(endpoints.map((e) => e.metadata.name));

  const cascaded: Array<{ ep: Endpoint; from: string }> = [];
  const issues: FieldIssue[] = [];
  const refusals: string[] = [];
  for (const net of networks) {
    const cascade: Endpoint[] = [];
    const blockers = blockersOf(tx, net, plan, applied, prunedEndpoints, cascade);
    for (const ep of cascade) {
      prunedEndpoints.add(ep.metadata.name);
      cascaded.push({ ep, from: net.metadata.name });
    }
    if (blockers.length === 0) continue;
    const name = net.metadata.name;
    const shown = blockers.slice(0, 5).map((b) => `endpoint "${b.endpoint}" (${b.why})`);
    const more = blockers.length > 5 ? ` (and ${blockers.length - 5} more)` : '';
    refusals.push(`network "${name}" is still used by ${shown.join(', ')}${more}`);
    for (const b of blockers) issues.push({ path: '/prune', message: `network "${name}": endpoint "${b.endpoint}" is ${b.why}`, value: b.endpoint });
  }
  if (refusals.length > 0) {
    throw new WeftError('Conflict', `cannot prune: ${refusals.join('; ')}`, { field: '/prune', details: issues });
  }

  const out: PrunedItem[] = [];
  const record = (r: AnyResource, cascadeFrom?: string) => {
    const item: PrunedItem = { kind: r.kind, name: r.metadata.name };
    if (cascadeFrom !== undefined) item.cascadeFrom = cascadeFrom;
    if (withViews) item.live = viewOf(tx, r);
    out.push(item);
  };
  // Views first: a network's view reads its VNI, which its deletion releases.
  for (const p of policies) record(p);
  for (const v of vnfs) record(v);
  for (const ep of endpoints) record(ep);
  for (const { ep, from } of cascaded) record(ep, from);
  for (const net of networks) record(net);
  for (const item of out) {
    if (item.kind === 'FirewallPolicy') deleteFirewallPolicy(tx, item.name);
    if (VNF_KIND_NAMES.includes(item.kind as VnfKindName)) deleteVnf(tx, item.kind as VnfKindName, item.name);
  }
  for (const item of out) {
    if (item.kind === 'Endpoint') deleteDeclaredEndpoint(tx, item.name);
  }
  for (const item of out) {
    if (item.kind === 'Network') deleteNetwork(tx, item.name);
  }
  return out;
}
