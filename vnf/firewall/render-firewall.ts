// The Firewall VNF driver: a planned firewall -> everything its host must
// have for it, as data. Pure (ARCHITECTURE: VNF drivers are pure renderers;
// the agent's VNF host applies the result, agents/vnf/firewall-host.ts).
//
//   namespace /run/netns/<netns>, with IPv4 forwarding on inside it only
//   per guarded network: a veth, host side <hostIfname> on the network's
//     bridge, peer <ifname> inside the namespace with the firewall's MAC,
//     address and the network's MTU, both up
//   routes: none beyond the connected ones (every guarded subnet is on-link)
//   nft: table inet weft-vnf-firewall (render-table.ts)
import type { PlanFirewallVnf } from '../../model/vnf-protocol.js';
import { firewallAlias } from '../../model/vnf-names.js';
import { compileFirewallRules, type FirewallModel } from './compile-rules.js';
import type { VnfNftDocument } from './nft-doc.js';
import { DEFAULT_VNF_LOG_GROUP, renderFirewallTable } from './render-table.js';

export interface FirewallInterfaceWant {
  network: string;
  /** host side, on the network's bridge */
  hostIfname: string;
  /** ownership alias of the host side */
  alias: string;
  /** inside the namespace */
  ifname: string;
  ip: string;
  prefixLength: number;
  mac: string;
  mtu: number;
}

export interface FirewallVnfWant {
  name: string;
  generation: number;
  netns: string;
  /** sysctls inside the namespace, as key -> value */
  sysctls: Record<string, string>;
  interfaces: FirewallInterfaceWant[];
  nft: VnfNftDocument;
  /** what the table enforces, for reading its counters back */
  model: FirewallModel;
}

/** Forwarding inside the firewall's namespace only; the host namespace keeps its own setting. */
export const FIREWALL_SYSCTLS: Record<string, string> = { 'net.ipv4.ip_forward': '1' };

export function renderFirewallVnf(fw: PlanFirewallVnf, logGroup = DEFAULT_VNF_LOG_GROUP): FirewallVnfWant {
  const model = compileFirewallRules(fw);
  return {
    name: fw.name,
    generation: fw.generation,
    netns: fw.netns,
    sysctls: { ...FIREWALL_SYSCTLS },
    interfaces: fw.interfaces.map((i) => ({
      network: i.network,
      hostIfname: i.hostIfname,
      alias: firewallAlias(fw.name, i.network),
      ifname: i.ifname,
      ip: i.ip,
      prefixLength: i.prefixLength,
      mac: i.mac.toLowerCase(),
      mtu: i.mtu,
    })),
    nft: renderFirewallTable(model, fw.name, logGroup),
    model,
  };
}
