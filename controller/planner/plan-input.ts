// Reads what the planner needs from the store in one snapshot.
import type { StoreReader } from '../store/store.js';
import type { PlanEndpointInfo, PlanHostInfo, PlanInput } from './host-planner.js';

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
  const endpoints: PlanEndpointInfo[] = [];
  for (const rec of r.listEndpointRecords()) {
    const ip = rec.spec.ip ?? rec.status?.ip;
    const mac = rec.status?.mac;
    // Records come from agent reports, which always carry both; one without cannot be forwarded to anyway.
    if (ip === undefined || mac === undefined) continue;
    endpoints.push({ name: rec.metadata.name, network: rec.spec.network, host: rec.spec.host, ip, mac });
  }
  return { revision: r.revision(), networks, hosts, blocks: r.listBlocks(), reservations: r.listReservations(), endpoints };
}
