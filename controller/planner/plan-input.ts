// Reads what the planner needs from the store in one snapshot.
import type { StoreReader } from '../store/store.js';
import type { PlanInput } from './host-planner.js';

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
    const mtu = h.status?.underlayMtu;
    hosts[h.metadata.name] = mtu === undefined ? {} : { underlayMtu: mtu };
  }
  return { revision: r.revision(), networks, hosts, blocks: r.listBlocks(), reservations: r.listReservations() };
}
