// Host resources: users write spec and labels; status belongs to the
// controller (agent hello), so a write keeps whatever status is stored.
import type { Host } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';
import type { StoreTx, WriteAction } from '../store/store.js';
import { checkResourceVersion, requireMode, type WriteMode } from './write-guards.js';

export function writeHost(tx: StoreTx, doc: Host, mode: WriteMode): { resource: Host; action: WriteAction } {
  const name = doc.metadata.name;
  const existing = tx.getResource('Host', name);
  requireMode(existing, mode, 'Host', name);
  checkResourceVersion(existing, doc);
  const next: Host = { apiVersion: API_VERSION, kind: 'Host', metadata: { name }, spec: doc.spec };
  if (doc.metadata.labels) next.metadata.labels = doc.metadata.labels;
  if (existing?.status) next.status = existing.status;
  return tx.putResource(next);
}
