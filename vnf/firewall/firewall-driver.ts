// The Firewall VNF driver: a planned firewall -> everything its namespace
// must have, as data (agents/vnf/vnf-host.ts applies it).
//
//   namespace /run/netns/<netns>, with IPv4 forwarding on inside it only
//   per guarded network: a veth, host side on the network's bridge, peer
//     inside the namespace with the firewall's MAC, address and the
//     network's MTU, both up
//   routes: none beyond the connected ones (every guarded subnet is on-link)
//   nft: table inet weft-vnf-firewall (render-table.ts)
//   processes: none
import type { PlanFirewallSpec } from '../../model/firewall-vnf.js';
import type { PlanVnf } from '../../model/vnf-protocol.js';
import { baseVnfWant, type VnfDriver, type VnfWant } from '../vnf-driver.js';
import { compileFirewallRules, type FirewallModel } from './compile-rules.js';
import { readFirewallCounters } from './read-counters.js';
import { DEFAULT_VNF_LOG_GROUP, FIREWALL_FAMILY, FIREWALL_VNF_TABLE, renderFirewallTable } from './render-table.js';

export function renderFirewallVnf(fw: PlanVnf<PlanFirewallSpec>, logGroup = DEFAULT_VNF_LOG_GROUP): VnfWant<FirewallModel> {
  const model = compileFirewallRules(fw.spec);
  return { ...baseVnfWant(fw, model), nft: { table: FIREWALL_VNF_TABLE, family: FIREWALL_FAMILY, document: renderFirewallTable(model, fw.name, logGroup) } };
}

export const firewallDriver: VnfDriver<PlanFirewallSpec, FirewallModel> = {
  kind: 'Firewall',
  render: (vnf) => renderFirewallVnf(vnf),
  readCounters: (observed, model) => readFirewallCounters(observed.nft ?? [], model),
};
