// How large a network MTU the hosts' underlays can carry. Shared by the
// write path (refuse a too-large spec.mtu) and the status view (flag a
// network a later host cannot carry), so both speak of the same limit.
import type { Host, Network } from '../../model/kinds.js';
import { DEFAULT_UNDERLAY_MTU, VXLAN_OVERHEAD } from './host-planner.js';

export interface MtuLimit {
  /** Largest network MTU every known underlay carries. */
  max: number;
  /** Underlay MTU the limit comes from. */
  underlayMtu: number;
  /** Host with the smallest reported underlay; undefined when none has reported one and DEFAULT_UNDERLAY_MTU is assumed. */
  host?: string;
}

/**
 * Every Host resource counts, Gone or not: a Gone host keeps its last
 * report and may come back, and the write path has no liveness to ask.
 * Ties go to the first name, so the message does not change between calls.
 */
export function mtuLimit(hosts: Host[]): MtuLimit {
  let best: { host: string; underlayMtu: number } | undefined;
  for (const h of [...hosts].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))) {
    const u = h.status?.underlayMtu;
    if (u !== undefined && (best === undefined || u < best.underlayMtu)) best = { host: h.metadata.name, underlayMtu: u };
  }
  if (!best) return { max: DEFAULT_UNDERLAY_MTU - VXLAN_OVERHEAD, underlayMtu: DEFAULT_UNDERLAY_MTU };
  return { max: best.underlayMtu - VXLAN_OVERHEAD, underlayMtu: best.underlayMtu, host: best.host };
}

/** Why `mtu` is too large for `limit`, in words a user can act on. */
export function mtuTooLargeMessage(mtu: number, limit: MtuLimit): string {
  const sum = `${limit.underlayMtu} - ${VXLAN_OVERHEAD} VXLAN overhead = ${limit.max}`;
  return limit.host === undefined
    ? `mtu ${mtu} is larger than an underlay of ${DEFAULT_UNDERLAY_MTU} can carry (${sum}); no host has reported its underlay MTU yet, so ${DEFAULT_UNDERLAY_MTU} is assumed; use at most ${limit.max}, or connect the agents of hosts with a larger underlay MTU first`
    : `mtu ${mtu} is larger than host "${limit.host}" can carry over its underlay (${sum}); use at most ${limit.max} or raise the underlay MTU`;
}

/** Hosts whose reported underlay cannot carry the network's explicit MTU, by name; none when the MTU is derived. */
export function hostsTooSmallFor(net: Network, hosts: Host[]): Array<{ host: string; underlayMtu: number }> {
  const mtu = net.spec.mtu;
  if (mtu === undefined) return [];
  return hosts
    .filter((h) => h.status?.underlayMtu !== undefined && mtu + VXLAN_OVERHEAD > h.status.underlayMtu)
    .map((h) => ({ host: h.metadata.name, underlayMtu: h.status?.underlayMtu as number }))
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}
