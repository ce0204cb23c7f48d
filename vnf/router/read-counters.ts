// NAT counters of a Router from `nft -j list table ip weft-vnf-router`
// (its objects, metainfo removed): the counter of each commented rule. NAT
// chains see the first packet of each connection only, so a rule's packet
// count is the connections it translated. One row per rule the router
// should have (snat when it translates and has connected subnets, one per
// port forward, one per floating IP), 0 when the listing lacks it. Pure and defensive: the listing is whatever
// nft printed.
import type { RouterCounter, PlanRouterSpec } from '../../model/router.js';
import { SNAT_COMMENT, floatingComment, forwardComment } from './render-table.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function countsByComment(listing: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of listing) {
    const rule = isObject(o) && isObject(o.rule) ? o.rule : undefined;
    if (!rule || typeof rule.comment !== 'string' || !Array.isArray(rule.expr)) continue;
    for (const s of rule.expr) {
      if (isObject(s) && isObject(s.counter) && typeof s.counter.packets === 'number') out.set(rule.comment, (out.get(rule.comment) ?? 0) + s.counter.packets);
    }
  }
  return out;
}

export function readRouterCounters(listing: readonly unknown[], spec: PlanRouterSpec): RouterCounter[] {
  if (!spec.uplink && !spec.external) return [];
  const counts = countsByComment(listing);
  const snat = spec.uplink !== undefined || spec.external?.snat === true;
  const rules = [
    ...(snat && spec.subnets.length > 0 ? [SNAT_COMMENT] : []),
    ...spec.portForwards.map((f) => forwardComment(f.protocol, f.port)),
    ...(spec.external?.floatingIPs ?? []).map((f) => floatingComment(f.address)),
  ];
  return rules.map((rule) => ({ rule, connections: counts.get(rule) ?? 0 }));
}
