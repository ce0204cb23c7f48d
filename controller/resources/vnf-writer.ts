// VNF resources, every kind: users write spec and labels; the controller
// gives the VNF an address on each of its networks, as an IPAM reservation
// the VNF owns (owner vnf-names vnfAddressOwner, e.g. `firewall:<name>`,
// source 'declared', host spec.host), so no endpoint anywhere can get it
// and the planner finds it again (controller/planner/vnf-planner.ts).
// Addresses are kept across edits: a network keeps its address while the
// VNF is on it (unless spec gives another), and follows the VNF to a new
// host when that host may use it. Status is computed at read time.
import { WeftError, isWeftError, type FieldIssue } from '../../model/errors.js';
import type { AnyResource } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';
import { vnfAddressOwner, vnfReservationRef } from '../../model/vnf-names.js';
import type { VnfKey } from '../../model/vnf-protocol.js';
import { vnfAttachments, vnfAttachmentsPath, type VnfResource } from '../../model/vnf-resource.js';
import { pickVnfAddress } from '../ipam/vnf-address.js';
import type { Ipam } from '../ipam/ipam.js';
import { VNF_KIND_NAMES } from '../planner/vnf-kinds.js';
import type { ReservationRow, StoreTx, WriteAction } from '../store/store.js';
import { checkVnfInStore } from './vnf-store-checks.js';
import { checkResourceVersion, requireMode, type WriteMode } from './write-guards.js';

const noun = (kind: string) => kind.toLowerCase();

const VNF_KINDS: ReadonlySet<string> = new Set(VNF_KIND_NAMES);

export function isVnfResource(r: AnyResource): r is VnfResource {
  return VNF_KINDS.has(r.kind);
}

function reservationsOf(tx: StoreTx, vnf: VnfKey): ReservationRow[] {
  const owner = vnfAddressOwner(vnf);
  return tx.listReservations().filter((r) => r.owner === owner);
}

export function writeVnf<R extends VnfResource>(tx: StoreTx, ipam: Ipam, doc: R, mode: WriteMode): { resource: R; action: WriteAction } {
  const name = doc.metadata.name;
  const key: VnfKey = { kind: doc.kind, name };
  const existing = tx.getResource(doc.kind, name);
  requireMode(existing, mode, doc.kind, name);
  checkResourceVersion(existing, doc);

  const missing: FieldIssue[] = [];
  const attachments = vnfAttachments(doc);
  const field = vnfAttachmentsPath(doc.kind);
  attachments.forEach((n, i) => {
    if (!tx.getResource('Network', n.network)) missing.push({ path: `${field}/${i}/network`, message: `network "${n.network}" does not exist`, value: n.network });
  });
  if (missing.length > 0) {
    throw new WeftError('Invalid', `${noun(doc.kind)} "${name}": ${(missing[0] as FieldIssue).message}; create it first`, { details: missing });
  }
  checkVnfInStore(tx, doc);

  const host = doc.spec.host;
  const owner = vnfAddressOwner(key);
  const held = new Map(reservationsOf(tx, key).map((r) => [r.network, r]));
  const wanted = new Map(attachments.map((n, i) => [n.network, { ...n, field: `${field}/${i}/ip` }]));
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
      ipam.reserveStatic(tx, { network, ip, owner, host, source: 'declared', ref: vnfReservationRef(key), ...(field === undefined ? {} : { field }) });
    if (w.ip !== undefined) {
      reserve(w.ip, w.field);
      continue;
    }
    if (before) {
      // The VNF moved: keep its address when the new host may use it.
      try {
        reserve(before.ip);
        continue;
      } catch (e: unknown) {
        if (!isWeftError(e) || e.code !== 'AddressInUse') throw e;
      }
    }
    reserve(pickVnfAddress(tx, network, host, noun(doc.kind)), w.field);
  }

  const next = { apiVersion: API_VERSION, kind: doc.kind, metadata: { name }, spec: doc.spec } as R;
  if (doc.metadata.labels) next.metadata.labels = doc.metadata.labels;
  return tx.putResource(next) as { resource: R; action: WriteAction };
}

/** DELETE: the VNF and its addresses go; its host removes the namespace when its plan no longer has it. */
export function deleteVnf<K extends VnfResource['kind']>(tx: StoreTx, kind: K, name: string): Extract<VnfResource, { kind: K }> {
  const existing = tx.getResource(kind, name);
  if (!existing) throw new WeftError('NotFound', `${noun(kind)} "${name}" does not exist`);
  for (const r of reservationsOf(tx, { kind, name })) tx.deleteReservation(r.network, r.ip);
  tx.deleteResource(kind, name);
  return existing;
}

/** The VNFs with an interface on a network, as `kind "name"` (a network with one cannot be deleted). */
export function vnfsOnNetwork(tx: Pick<StoreTx, 'listResources'>, network: string): string[] {
  return VNF_KIND_NAMES.flatMap((kind) =>
    tx
      .listResources(kind)
      .filter((v) => vnfAttachments(v).some((n) => n.network === network))
      .map((v) => `${noun(kind)} "${v.metadata.name}"`),
  ).sort();
}
