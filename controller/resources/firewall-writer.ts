// Firewall (VNF) resources: users write spec and labels; the controller
// gives the firewall an address on each guarded network, as an IPAM
// reservation the firewall owns (owner `firewall:<name>`, source
// 'declared', host spec.host), so no endpoint anywhere can get it and the
// planner finds it again (controller/planner/firewall-vnf-planner.ts).
// Addresses are kept across edits: a network keeps its address while the
// firewall guards it (unless spec gives another), and follows the firewall
// to a new host when that host may use it. Status is computed at read time.
import { WeftError, isWeftError, type FieldIssue } from '../../model/errors.js';
import type { Firewall } from '../../model/firewall-vnf.js';
import { API_VERSION } from '../../model/meta.js';
import { firewallAddressOwner } from '../../model/vnf-names.js';
import { pickFirewallAddress } from '../ipam/firewall-address.js';
import type { Ipam } from '../ipam/ipam.js';
import type { ReservationRow, StoreTx, WriteAction } from '../store/store.js';
import { checkResourceVersion, requireMode, type WriteMode } from './write-guards.js';

/** ReservationRow.ref of a firewall's addresses: not an endpoint name (no Endpoint can have a '/'). */
export function firewallReservationRef(name: string): string {
  return `firewall/${name}`;
}

function reservationsOf(tx: StoreTx, name: string): ReservationRow[] {
  const owner = firewallAddressOwner(name);
  return tx.listReservations().filter((r) => r.owner === owner);
}

export function writeFirewall(tx: StoreTx, ipam: Ipam, doc: Firewall, mode: WriteMode): { resource: Firewall; action: WriteAction } {
  const name = doc.metadata.name;
  const existing = tx.getResource('Firewall', name);
  requireMode(existing, mode, 'Firewall', name);
  checkResourceVersion(existing, doc);

  const missing: FieldIssue[] = [];
  doc.spec.networks.forEach((n, i) => {
    if (!tx.getResource('Network', n.network)) missing.push({ path: `/spec/networks/${i}/network`, message: `network "${n.network}" does not exist`, value: n.network });
  });
  if (missing.length > 0) {
    throw new WeftError('Invalid', `firewall "${name}": ${(missing[0] as FieldIssue).message}; create it first`, { details: missing });
  }

  const host = doc.spec.host;
  const owner = firewallAddressOwner(name);
  const held = new Map(reservationsOf(tx, name).map((r) => [r.network, r]));
  const wanted = new Map(doc.spec.networks.map((n, i) => [n.network, { ...n, field: `/spec/networks/${i}/ip` }]));
  // What stays exactly as it is: same network, same host, and the address asked for (or none asked).
  for (const [network, r] of held) {
    const w = wanted.get(network);
    if (w && r.host === host && (w.ip === undefined || w.ip === r.ip)) continue;
    tx.deleteReservation(r.network, r.ip);
    if (!w) held.delete(network);
  }
  for (const [network, w] of wanted) {
    const before = held.get(network);
    if (before && before.host === host && (w.ip === undefined || w.ip === before.ip)) continue;
    const reserve = (ip: string, field?: string) =>
      ipam.reserveStatic(tx, { network, ip, owner, host, source: 'declared', ref: firewallReservationRef(name), ...(field === undefined ? {} : { field }) });
    if (w.ip !== undefined) {
      reserve(w.ip, w.field);
      continue;
    }
    if (before) {
      // The firewall moved: keep its address when the new host may use it.
      try {
        reserve(before.ip);
        continue;
      } catch (e: unknown) {
        if (!isWeftError(e) || e.code !== 'AddressInUse') throw e;
      }
    }
    reserve(pickFirewallAddress(tx, network, host), w.field);
  }

  const next: Firewall = { apiVersion: API_VERSION, kind: 'Firewall', metadata: { name }, spec: doc.spec };
  if (doc.metadata.labels) next.metadata.labels = doc.metadata.labels;
  return tx.putResource(next);
}

/** DELETE: the firewall and its addresses go; its host removes the namespace when its plan no longer has it. */
export function deleteFirewall(tx: StoreTx, name: string): Firewall {
  const existing = tx.getResource('Firewall', name);
  if (!existing) throw new WeftError('NotFound', `firewall "${name}" does not exist`);
  for (const r of reservationsOf(tx, name)) tx.deleteReservation(r.network, r.ip);
  tx.deleteResource('Firewall', name);
  return existing;
}

/** The firewalls guarding a network (a network they guard cannot be deleted). */
export function firewallsGuarding(tx: Pick<StoreTx, 'listResources'>, network: string): string[] {
  return tx
    .listResources('Firewall')
    .filter((f) => f.spec.networks.some((n) => n.network === network))
    .map((f) => f.metadata.name)
    .sort();
}
