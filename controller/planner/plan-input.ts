// Reads what the planner needs from the store in one snapshot. Endpoint
// labels (what firewall selectors match) are the record's with its
// declaration's over them, as the endpoint views show them.
import type { Endpoint } from '../../model/kinds.js';
import { declarationsOf, endpointLabels } from '../hub/endpoint-record.js';
import type { StoreReader } from '../store/store.js';
import type { PlanEndpointInfo, PlanHostInfo, PlanInput } from './host-planner.js';
import { VNF_KIND_NAMES } from './vnf-kinds.js';

export function readPlanInput(r: StoreReader): PlanInput {
  const vnis = r.listVnis();
  const networks: PlanInput['networks'] = [];
  for (const network of r.listResources('Network')) {
    const vni = vnis.get(network.metadata.name);
    // Every stored network has a VNI (assigned in the same transaction); skip rather than plan a half-made one.
    if (vni !== undefined) networks.push({ network, vni });
  }
  const hosts: PlanInput['hosts'] = {};
  for (const h of r.listResources('Host')) {
    const info: PlanHostInfo = {};
    const mtu = h.status?.underlayMtu;
    if (mtu !== undefined) info.underlayMtu = mtu;
    // What the agent reported is what its VXLAN device uses; a declared spec.address only stands in until then.
    const address = h.status?.address ?? h.spec.address;
    if (address !== undefined) info.address = address;
    hosts[h.metadata.name] = info;
  }
  return {
    revision: r.revision(),
    networks,
    hosts,
    blocks: r.listBlocks(),
    reservations: r.listReservations(),
    endpoints: readPlanEndpoints(r),
    firewallPolicies: r.listResources('FirewallPolicy'),
    vnfs: VNF_KIND_NAMES.flatMap((kind) => r.listResources(kind)),
  };
}

/** Attached endpoints (agent records) with what forwarding and firewall selectors need. */
function readPlanEndpoints(r: StoreReader): PlanEndpointInfo[] {
  return planEndpointsOf(r.listEndpointRecords(), r.listResources('Endpoint'));
}

/** readPlanEndpoints from records and declarations already read. */
export function planEndpointsOf(records: readonly Endpoint[], declared: readonly Endpoint[]): PlanEndpointInfo[] {
  const endpoints: PlanEndpointInfo[] = [];
  const declarations = declarationsOf(records, declared);
  for (const rec of records) {
    const ip = rec.spec.ip ?? rec.status?.ip;
    const mac = rec.status?.mac;
    // Records come from agent reports, which always carry both; one without cannot be forwarded to anyway.
    if (ip === undefined || mac === undefined) continue;
    const ep: PlanEndpointInfo = { name: rec.metadata.name, network: rec.spec.network, host: rec.spec.host, ip, mac };
    if (rec.status?.ip6 !== undefined) ep.ip6 = rec.status.ip6;
    const labels = endpointLabels(rec, declarations.get(rec.metadata.name));
    if (labels) ep.labels = labels;
    endpoints.push(ep);
  }
  return endpoints;
}
