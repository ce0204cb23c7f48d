// The Firewall's planner entry (vnf-kind.ts): its part of the PlanVnf
// (rules compiled: ports resolved, peers as CIDRs or address sets of
// endpoints, and the address sets they name) and the routes through it:
// the endpoints of each guarded network reach the other guarded networks'
// subnets via the firewall's address on their own network.
//
// Peers: a CIDR is itself; a peer naming only a network stands for the
// network's subnet (everything on the segment the firewall guards, with no
// window for endpoints that attached a moment ago); a selector (with or
// without a network) for the addresses of the matching endpoints, on any
// host, like a FirewallPolicy's peers.
import type { PlanAddressSet, PlanPeer } from '../../model/agent-protocol.js';
import type { FirewallAction, FirewallPeer, FirewallProtocol } from '../../model/firewall.js';
import { DEFAULT_FIREWALL_ACTION, type Firewall, type PlanFirewallSpec, type PlanPerimeterRule } from '../../model/firewall-vnf.js';
import { matchesSelector, peerSetName, resolvePorts } from './firewall-planner.js';
import type { PlanInput } from './host-planner.js';
import type { VnfKind } from './vnf-kind.js';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Peers compiled, and the address sets they name filled in `sets`. */
function compilePeers(peers: FirewallPeer[] | undefined, input: PlanInput, subnets: ReadonlyMap<string, string>, sets: Map<string, PlanAddressSet>): PlanPeer[] | undefined {
  if (peers === undefined || peers.length === 0) return undefined;
  const unique = new Map<string, PlanPeer>();
  for (const p of peers) {
    let peer: PlanPeer;
    if (p.cidr !== undefined) {
      peer = p.except !== undefined && p.except.length > 0 ? { cidr: p.cidr, except: [...p.except] } : { cidr: p.cidr };
    } else if (p.selector === undefined && p.network !== undefined && subnets.has(p.network)) {
      peer = { cidr: subnets.get(p.network) as string };
    } else {
      const name = peerSetName(p.network, p.selector);
      if (!sets.has(name)) {
        const ips = input.endpoints.filter((ep) => (p.network === undefined || ep.network === p.network) && matchesSelector(p.selector, ep.labels)).map((ep) => ep.ip);
        sets.set(name, { name, addresses: [...new Set(ips)].sort(compareIpv4) });
      }
      peer = { set: name };
    }
    unique.set(JSON.stringify(peer), peer);
  }
  return [...unique.values()];
}

function compareIpv4(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}

function compilePerimeterRules(fw: Firewall, input: PlanInput, subnets: ReadonlyMap<string, string>): { rules: PlanPerimeterRule[]; addressSets: PlanAddressSet[] } {
  const sets = new Map<string, PlanAddressSet>();
  const rules = (fw.spec.rules ?? []).map((r, i): PlanPerimeterRule => {
    const out: PlanPerimeterRule = { name: r.name ?? String(i), action: r.action as FirewallAction, protocol: (r.protocol ?? 'any') as FirewallProtocol };
    if (r.log === true) out.log = true;
    const from = compilePeers(r.from, input, subnets, sets);
    const to = compilePeers(r.to, input, subnets, sets);
    if (from) out.from = from;
    if (to) out.to = to;
    const ports = resolvePorts(r.ports, fw.spec.portSets);
    if (ports !== undefined) out.ports = ports;
    return out;
  });
  return { rules, addressSets: [...sets.values()].sort((a, b) => compare(a.name, b.name)) };
}

export const firewallKind: VnfKind<Firewall> = {
  kind: 'Firewall',
  planSpec: (fw, input, subnets): PlanFirewallSpec => ({ defaultAction: fw.spec.defaultAction ?? DEFAULT_FIREWALL_ACTION, ...compilePerimeterRules(fw, input, subnets) }),
  networkRoutes: (_fw, interfaces, subnets) =>
    interfaces.flatMap((from) => interfaces.filter((to) => to.network !== from.network).map((to) => ({ network: from.network, dst: subnets.get(to.network) as string, via: from.ip }))),
};
