// Writing and deleting Networks inside a store transaction: overlap checks,
// VNI assignment, and the guards that keep a layout change from orphaning
// addresses already handed out.
import { WeftError } from '../../model/errors.js';
import type { Network } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';
import { checkNetworkOverlap } from '../../model/validate.js';
import { addressSpaceOf } from '../ipam/address-space.js';
import type { Ipam } from '../ipam/ipam.js';
import { assignVni } from '../ipam/vni-allocator.js';
import { mtuLimit, mtuTooLargeMessage } from '../planner/mtu-limit.js';
import type { StoreTx, WriteAction } from '../store/store.js';
import { vnfsOnNetwork } from './vnf-writer.js';
import { checkResourceVersion, requireMode, type WriteMode } from './write-guards.js';

/** Up to `max` names, then "(and N more)". */
function someNames(names: string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`).join(', ');
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

export function writeNetwork(tx: StoreTx, ipam: Ipam, doc: Network, mode: WriteMode): { resource: Network; action: WriteAction } {
  const name = doc.metadata.name;
  const existing = tx.getResource('Network', name);
  requireMode(existing, mode, 'Network', name);
  checkResourceVersion(existing, doc);
  guardMtu(tx, doc, existing);

  // VNI clashes are checked against the allocation table below, which also knows auto-assigned VNIs.
  const overlaps = checkNetworkOverlap(doc, tx.listResources('Network')).filter((i) => i.path !== '/spec/vni');
  if (overlaps.length > 0) {
    throw new WeftError('Overlap', `network "${name}": ${(overlaps[0] as { message: string }).message}`, { details: overlaps });
  }
  if (existing) guardLayoutChange(tx, ipam, existing, doc);

  const next: Network = { apiVersion: API_VERSION, kind: 'Network', metadata: { name }, spec: doc.spec };
  if (doc.metadata.labels) next.metadata.labels = doc.metadata.labels;
  assignVni(tx, name, doc.spec.vni);
  return tx.putResource(next);
}

/**
 * A spec.mtu the smallest known underlay cannot carry after VXLAN
 * encapsulation would black-hole large packets, so it is refused when it is
 * set or changed. An unchanged value is let through: a host that joined
 * later with a smaller underlay is reported in the network's status
 * (MtuTooLarge), and refusing here would also block label edits and
 * re-applies of an unchanged manifest until the hosts are fixed.
 */
function guardMtu(tx: StoreTx, doc: Network, existing: Network | undefined): void {
  const mtu = doc.spec.mtu;
  if (mtu === undefined || mtu === existing?.spec.mtu) return;
  const limit = mtuLimit(tx.listResources('Host'));
  if (mtu <= limit.max) return;
  const message = mtuTooLargeMessage(mtu, limit);
  throw new WeftError('Invalid', `network "${doc.metadata.name}": ${message}`, {
    details: [{ path: '/spec/mtu', message, value: mtu, allowed: `at most ${limit.max}` }],
  });
}

/**
 * A new subnet would strand every address already recorded or reserved, so
 * it is refused while any exist; otherwise the old blocks are dropped and
 * hosts get new ones. A new gateway must not be an address someone holds.
 */
function guardLayoutChange(tx: StoreTx, ipam: Ipam, old: Network, next: Network): void {
  const name = next.metadata.name;
  const before = addressSpaceOf(old);
  const after = addressSpaceOf(next);
  const v6 = (n: Network) => `${n.spec.subnet6 ?? ''}|${n.spec.subnet6 === undefined ? '' : (n.spec.gateway6 ?? '')}`;
  if (v6(old) !== v6(next)) {
    // Endpoints' IPv6 addresses derive from subnet6 (model/dual-stack.ts) and their routes from gateway6.
    const records = tx.listEndpointRecords({ network: name }).map((e) => e.metadata.name);
    if (records.length > 0) {
      throw new WeftError('Conflict', `cannot change subnet6 or gateway6 of network "${name}" while endpoints are attached: ${someNames(records)}; detach them first`, {
        field: old.spec.subnet6 !== next.spec.subnet6 ? '/spec/subnet6' : '/spec/gateway6',
      });
    }
  }
  if (old.spec.subnet !== next.spec.subnet) {
    const holders = [
      ...tx.listEndpointRecords({ network: name }).map((e) => `endpoint ${e.metadata.name}`),
      ...tx.listReservations({ network: name }).map((r) => `${r.ip} (${r.source === 'declared' ? `declared endpoint ${r.ref ?? r.owner}` : `static for ${r.owner}`})`),
    ];
    if (holders.length > 0) {
      throw new WeftError('Conflict', `cannot change the subnet of network "${name}" from ${old.spec.subnet} to ${next.spec.subnet} while addresses are in use: ${someNames(holders)}`, {
        field: '/spec/subnet',
      });
    }
    for (const b of tx.listBlocks({ network: name })) tx.deleteBlock(b.network, b.cidr);
    return;
  }
  if (after.gateway !== before.gateway && next.spec.gateway !== undefined) {
    const holder = ipam.holderOf(tx, name, next.spec.gateway);
    if (holder) throw new WeftError('AddressInUse', `gateway ${next.spec.gateway} of network "${name}" is taken by ${holder.describe}`, { field: '/spec/gateway' });
  }
}

/** Delete a network that has no endpoints; its blocks, statics and VNI go with it. */
export function deleteNetwork(tx: StoreTx, name: string): Network {
  const existing = tx.getResource('Network', name);
  if (!existing) throw new WeftError('NotFound', `network "${name}" does not exist`);
  const endpoints = [
    ...tx.listEndpointRecords({ network: name }).map((e) => e.metadata.name),
    ...tx.listResources('Endpoint').filter((e) => e.spec.network === name).map((e) => e.metadata.name),
  ];
  const unique = [...new Set(endpoints)].sort();
  if (unique.length > 0) {
    throw new WeftError(
      'Conflict',
      `network "${name}" still has ${unique.length} endpoint${unique.length === 1 ? '' : 's'}: ${someNames(unique)}; detach or delete them first`,
      { details: unique.slice(0, 20).map((n) => ({ path: '/status/endpoints', message: `endpoint "${n}" is on this network`, value: n })) },
    );
  }
  // A VNF's interface lives on the network (its address is a reservation that would go with it).
  const vnfs = vnfsOnNetwork(tx, name);
  if (vnfs.length > 0) {
    throw new WeftError('Conflict', `network "${name}" is used by ${vnfs.slice(0, 5).join(', ')}${vnfs.length > 5 ? ` (and ${vnfs.length - 5} more)` : ''}; remove the network from ${vnfs.length === 1 ? 'its' : 'their'} spec (or delete ${vnfs.length === 1 ? 'it' : 'them'}) first`);
  }
  for (const b of tx.listBlocks({ network: name })) tx.deleteBlock(b.network, b.cidr);
  for (const r of tx.listReservations({ network: name })) tx.deleteReservation(r.network, r.ip);
  tx.deleteVni(name);
  tx.deleteResource('Network', name);
  return existing;
}
