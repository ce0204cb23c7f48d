// Declared Endpoints: a user states that container C gets address A on
// network N at host H before (or after) it attaches. The declaration holds a
// reservation for A; the agent sees it in H's plan and gives A to C.
import { WeftError } from '../../model/errors.js';
import type { Endpoint } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';
import type { Ipam } from '../ipam/ipam.js';
import type { StoreTx, WriteAction } from '../store/store.js';
import { checkResourceVersion, requireMode, type WriteMode } from './write-guards.js';

/** Where an attached endpoint (agent record) contradicts a declaration of the same name. */
export function recordConflicts(record: Endpoint, spec: Endpoint['spec']): string[] {
  const out: string[] = [];
  for (const k of ['network', 'host', 'containerId', 'ifname'] as const) {
    if (record.spec[k] !== spec[k]) out.push(`${k} is ${JSON.stringify(record.spec[k])}, not ${JSON.stringify(spec[k])}`);
  }
  if (spec.ip !== undefined && record.spec.ip !== spec.ip) out.push(`ip is ${JSON.stringify(record.spec.ip)}, not ${JSON.stringify(spec.ip)}`);
  return out;
}

function releaseDeclared(tx: StoreTx, ep: Endpoint): void {
  if (ep.spec.ip === undefined) return;
  const res = tx.getReservation(ep.spec.network, ep.spec.ip);
  if (res?.source === 'declared' && res.ref === ep.metadata.name) tx.deleteReservation(ep.spec.network, ep.spec.ip);
}

export function writeDeclaredEndpoint(tx: StoreTx, ipam: Ipam, doc: Endpoint, mode: WriteMode): { resource: Endpoint; action: WriteAction } {
  const name = doc.metadata.name;
  if (!tx.getResource('Network', doc.spec.network)) {
    throw new WeftError('Invalid', `endpoint "${name}": network "${doc.spec.network}" does not exist`, {
      details: [{ path: '/spec/network', message: `network "${doc.spec.network}" does not exist`, value: doc.spec.network }],
    });
  }
  const existing = tx.getResource('Endpoint', name);
  requireMode(existing, mode, 'Endpoint', name);
  checkResourceVersion(existing, doc);

  const record = tx.getEndpointRecord(name);
  const conflicts = record ? recordConflicts(record, doc.spec) : [];
  if (conflicts.length > 0) {
    throw new WeftError('Conflict', `endpoint "${name}" is attached on host "${record?.spec.host}" and differs from this declaration: ${conflicts.join('; ')}`, { field: '/spec' });
  }

  // Release the old address only if what it was reserved as changes: re-putting it would bump the revision for nothing.
  const moved = (a: Endpoint['spec'], b: Endpoint['spec']) => a.ip !== b.ip || a.network !== b.network || a.host !== b.host || a.containerId !== b.containerId;
  if (existing && moved(existing.spec, doc.spec)) releaseDeclared(tx, existing);
  if (doc.spec.ip !== undefined) {
    ipam.reserveStatic(tx, { network: doc.spec.network, ip: doc.spec.ip, owner: doc.spec.containerId, host: doc.spec.host, source: 'declared', ref: name, field: '/spec/ip' });
  }
  const next: Endpoint = { apiVersion: API_VERSION, kind: 'Endpoint', metadata: { name }, spec: doc.spec };
  if (doc.metadata.labels) next.metadata.labels = doc.metadata.labels;
  return tx.putResource(next);
}

/** DELETE of a declared endpoint: the declaration and its reservation go; an attached record stays the agent's. */
export function deleteDeclaredEndpoint(tx: StoreTx, name: string): Endpoint {
  const declared = tx.getResource('Endpoint', name);
  if (!declared) {
    const record = tx.getEndpointRecord(name);
    if (record) {
      throw new WeftError('Conflict', `endpoint "${name}" was attached by the agent on host "${record.spec.host}" and is not declared; detach container ${record.spec.containerId} through its runtime (CNI DEL, weft run) instead`);
    }
    throw new WeftError('NotFound', `endpoint "${name}" does not exist`);
  }
  releaseDeclared(tx, declared);
  tx.deleteResource('Endpoint', name);
  return declared;
}
