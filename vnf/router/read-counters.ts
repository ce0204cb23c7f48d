// Counters of a Router from `nft -j list table ip weft-vnf-router` (its
// objects, metainfo removed), by rule comment. NAT chains see the first
// packet of each connection only, so a NAT rule's packet count is the
// connections it translated: one row per NAT rule the router should have
// (snat when it translates and has connected subnets, one per port
// forward, one per floating IP). Then what crossed the way out, packets and
// bytes, each direction. 0 when the listing lacks a rule. Pure and
// defensive: the listing is whatever nft printed.
import type { RouterCounter, PlanRouterSpec } from '../../model/router.js';
import { SNAT_COMMENT, TRAFFIC_IN_COMMENT, TRAFFIC_OUT_COMMENT, floatingComment, forwardComment } from './render-table.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function countsByComment(listing: readonly unknown[]): Map<string, { packets: number; bytes: number }> {
  const out = new Map<string, { packets: number; bytes: number }>();
  for (const o of listing) {
    const rule = isObject(o) && isObject(o.rule) ? o.rule : undefined;
    if (!rule || typeof rule.comment !== 'string' || !Array.isArray(rule.expr)) continue;
    for (const s of rule.expr) {
      if (!isObject(s) || !isObject(s.counter) || typeof s.counter.packets !== 'number') continue;
      const seen = out.get(rule.comment) ?? { packets: 0, bytes: 0 };
      out.set(rule.comment, { packets: seen.packets + s.counter.packets, bytes: seen.bytes + (typeof s.counter.bytes === 'number' ? s.counter.bytes : 0) });
    }
  }
  return out;
}

export function readRouterCounters(listing: readonly unknown[], spec: PlanRouterSpec): RouterCounter[] {
  if (!spec.uplink && !spec.external) return [];
  const counts = countsByComment(listing);
  const snat = spec.uplink !== undefined || spec.external?.snat === true;
  const nat = [
    ...(snat && spec.subnets.length > 0 ? [SNAT_COMMENT] : []),
    ...spec.portForwards.map((f) => forwardComment(f.protocol, f.port)),
    ...(spec.external?.floatingIPs ?? []).map((f) => floatingComment(f.address)),
  ];
  const traffic = (rule: string): RouterCounter => ({ rule, packets: counts.get(rule)?.packets ?? 0, bytes: counts.get(rule)?.bytes ?? 0 });
  return [...nat.map((rule) => ({ rule, connections: counts.get(rule)?.packets ?? 0 })), traffic(TRAFFIC_IN_COMMENT), traffic(TRAFFIC_OUT_COMMENT)];
}
