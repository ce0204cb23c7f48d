// The checks of a Router that need the store (the pure ones are
// model/router-validate.ts), run in the write's transaction before anything
// is written:
// - spec.host is a known host (declared, or an agent that joined);
// - the connected networks' subnets do not overlap (the router could not
//   tell which interface an address is behind);
// - a static route's `via` is on a connected network, and its `to` is not
//   (part of) a connected subnet;
// - a port forward's or a floating IP's endpoint exists and is on a
//   connected network;
// - the external subnet (mode interface) overlaps no connected network (the
//   router could not tell which side an address is on);
// - one network gets one way out: two routers with external on one network
//   would each claim its endpoints' 0.0.0.0/1 and 128.0.0.0/1 (409);
// - a port published on a host once: two routers in mode host on one host
//   cannot both take tcp/8080 of the host's addresses (409);
// - an external address (a router's own, or a floating IP) belongs to one
//   router in mode interface: two would answer ARP for it (409).
// Whether the host interface of mode interface exists only the agent can
// tell: it reports a missing one in the router's status.
import { WeftError, type FieldIssue } from '../../model/errors.js';
import { intToIpv4, ipv4ToInt, maskOf, parsePrefix4, prefixContains, prefixesOverlap, type Prefix4 } from '../../model/ip.js';
import { externalMode, parseAddressWithLength, type Router } from '../../model/router.js';
import type { StoreTx } from '../store/store.js';

const prefixOf = (cidr: string | undefined): Prefix4 | undefined => {
  const p = cidr === undefined ? undefined : parsePrefix4(cidr);
  return p !== undefined && 'prefix' in p ? p.prefix : undefined;
};

/** The connected networks that exist, with their subnets, in spec order. */
function connected(tx: Pick<StoreTx, 'getResource'>, r: Router): Array<{ network: string; subnet: string; prefix: Prefix4; index: number }> {
  return r.spec.interfaces.flatMap((i, index) => {
    const subnet = tx.getResource('Network', i.network)?.spec.subnet;
    const prefix = prefixOf(subnet);
    return subnet !== undefined && prefix !== undefined ? [{ network: i.network, subnet, prefix, index }] : [];
  });
}

function endpointNetwork(tx: Pick<StoreTx, 'getEndpointRecord' | 'getResource'>, name: string): string | undefined {
  return (tx.getEndpointRecord(name) ?? tx.getResource('Endpoint', name))?.spec.network;
}

/** The external segment of a router in mode interface (model validation checked the address). */
function externalSegment(r: Router): Prefix4 | undefined {
  const a = externalMode(r.spec) === 'interface' && r.spec.external?.address !== undefined ? parseAddressWithLength(r.spec.external.address) : undefined;
  return a === undefined ? undefined : { base: (ipv4ToInt(a.ip) & maskOf(a.prefixLength)) >>> 0, length: a.prefixLength };
}

/** The addresses a router in mode interface answers for on its segment: its own and its floating IPs. */
function externalAddresses(r: Router): string[] {
  if (externalMode(r.spec) !== 'interface') return [];
  const own = r.spec.external?.address === undefined ? undefined : parseAddressWithLength(r.spec.external.address)?.ip;
  return [...(own === undefined ? [] : [own]), ...(r.spec.floatingIPs ?? []).map((f) => f.address)];
}

function fieldIssues(tx: StoreTx, r: Router): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!tx.getResource('Host', r.spec.host)) {
    const known = tx.listResources('Host').map((h) => h.metadata.name).sort();
    issues.push({
      path: '/spec/host',
      message: `host "${r.spec.host}" does not exist (known hosts: ${known.length === 0 ? 'none' : known.join(', ')}); start its agent or declare the Host first`,
      value: r.spec.host,
    });
  }
  const nets = connected(tx, r);
  for (let a = 0; a < nets.length; a++) {
    for (let b = a + 1; b < nets.length; b++) {
      const [x, y] = [nets[a], nets[b]] as [(typeof nets)[number], (typeof nets)[number]];
      if (prefixesOverlap(x.prefix, y.prefix)) {
        issues.push({
          path: `/spec/interfaces/${y.index}/network`,
          message: `network "${y.network}" (${y.subnet}) overlaps network "${x.network}" (${x.subnet}) behind the same router: it could not tell which interface an address is behind; connect one of them only`,
          value: y.network,
        });
      }
    }
  }
  (r.spec.routes ?? []).forEach((route, i) => {
    const to = prefixOf(route.to);
    const inside = to === undefined ? undefined : nets.find((n) => prefixesOverlap(n.prefix, to));
    if (inside) {
      issues.push({ path: `/spec/routes/${i}/to`, message: `${route.to} overlaps connected network "${inside.network}" (${inside.subnet}): the router reaches it directly; route a destination outside the connected networks`, value: route.to });
    }
    let via: number | undefined;
    try {
      via = ipv4ToInt(route.via);
    } catch {
      return; // not IPv4: model validation reported it
    }
    if (!nets.some((n) => prefixContains(n.prefix, via as number))) {
      issues.push({
        path: `/spec/routes/${i}/via`,
        message: `next hop ${route.via} is on none of the connected networks (${nets.map((n) => `${n.network} ${n.subnet}`).join(', ')}); give an address on one of them, or connect its network`,
        value: route.via,
      });
    }
  });
  const names = new Set(nets.map((n) => n.network));
  const checkEndpoint = (path: string, endpoint: string, instead: string) => {
    const network = endpointNetwork(tx, endpoint);
    if (network === undefined) {
      issues.push({ path, message: `endpoint "${endpoint}" does not exist; attach it first (weft get endpoints lists them)`, value: endpoint });
    } else if (!names.has(network)) {
      issues.push({
        path,
        message: `endpoint "${endpoint}" is on network "${network}", which this router does not connect (${[...names].join(', ')}); add an interface on "${network}" or ${instead}`,
        value: endpoint,
      });
    }
  };
  (r.spec.portForwards ?? []).forEach((f, i) => checkEndpoint(`/spec/portForwards/${i}/to/endpoint`, f.to.endpoint, 'forward to another endpoint'));
  (r.spec.floatingIPs ?? []).forEach((f, i) => checkEndpoint(`/spec/floatingIPs/${i}/endpoint`, f.endpoint, 'map the address to another endpoint'));
  const segment = externalSegment(r);
  const inside = segment === undefined ? undefined : nets.find((n) => prefixesOverlap(n.prefix, segment));
  if (segment !== undefined && inside) {
    issues.push({
      path: '/spec/external/address',
      message: `the external subnet ${intToIpv4(segment.base)}/${segment.length} overlaps connected network "${inside.network}" (${inside.subnet}): the router could not tell whether an address is outside or behind it; give the external segment's own address, or connect another network`,
      value: r.spec.external?.address,
    });
  }
  return issues;
}

/** 409s: what another router already has (a network's way out, a host's published port). */
function conflicts(tx: StoreTx, r: Router): string[] {
  const out: string[] = [];
  const others = tx.listResources('Router').filter((o) => o.metadata.name !== r.metadata.name);
  if (r.spec.external !== undefined) {
    for (const i of r.spec.interfaces) {
      const other = others.find((o) => o.spec.external !== undefined && o.spec.interfaces.some((x) => x.network === i.network));
      if (other) {
        out.push(`network "${i.network}" already has a way out through router "${other.metadata.name}"; router "${r.metadata.name}" cannot give it another (one router with external per network): remove external from one of them, or the network from one of them`);
      }
    }
    // Mode interface publishes on the router's own address: no host port to share.
    if (externalMode(r.spec) === 'host') {
      for (const f of r.spec.portForwards ?? []) {
        const other = others.find((o) => o.spec.host === r.spec.host && externalMode(o.spec) === 'host' && (o.spec.portForwards ?? []).some((x) => x.protocol === f.protocol && x.port === f.port));
        if (other) out.push(`${f.protocol}/${f.port} on host "${r.spec.host}" is already published by router "${other.metadata.name}"; router "${r.metadata.name}" needs another port`);
      }
    }
    for (const address of externalAddresses(r)) {
      const other = others.find((o) => externalAddresses(o).includes(address));
      if (other) out.push(`external address ${address} already belongs to router "${other.metadata.name}"; router "${r.metadata.name}" cannot answer for it too: pick another address of the segment`);
    }
  }
  return out;
}

/** Throws Invalid (bad fields) or Conflict (another router has it); nothing is written either way. */
export function checkRouterInStore(tx: StoreTx, r: Router): void {
  const issues = fieldIssues(tx, r);
  if (issues.length > 0) throw new WeftError('Invalid', `router "${r.metadata.name}": ${(issues[0] as FieldIssue).message}`, { details: issues });
  const clash = conflicts(tx, r);
  if (clash.length > 0) throw new WeftError('Conflict', clash.join('; '));
}
