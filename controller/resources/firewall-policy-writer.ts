// FirewallPolicy resources: users write spec and labels. Status is computed
// when read (controller/status/firewall-policy-status.ts), so a status in
// the document is dropped, as for networks: what `weft get -o yaml` prints
// applies unchanged. Nothing refers to a policy, so a delete has nothing to
// check; the networks a policy names need not exist (it matches nothing
// there).
import { WeftError } from '../../model/errors.js';
import type { FirewallPolicy } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';
import type { StoreTx, WriteAction } from '../store/store.js';
import { checkResourceVersion, requireMode, type WriteMode } from './write-guards.js';

export function writeFirewallPolicy(tx: StoreTx, doc: FirewallPolicy, mode: WriteMode): { resource: FirewallPolicy; action: WriteAction } {
  const name = doc.metadata.name;
  const existing = tx.getResource('FirewallPolicy', name);
  requireMode(existing, mode, 'FirewallPolicy', name);
  checkResourceVersion(existing, doc);
  const next: FirewallPolicy = { apiVersion: API_VERSION, kind: 'FirewallPolicy', metadata: { name }, spec: doc.spec };
  if (doc.metadata.labels) next.metadata.labels = doc.metadata.labels;
  return tx.putResource(next);
}

export function deleteFirewallPolicy(tx: StoreTx, name: string): FirewallPolicy {
  const existing = tx.getResource('FirewallPolicy', name);
  if (!existing) throw new WeftError('NotFound', `firewallpolicy "${name}" does not exist`);
  tx.deleteResource('FirewallPolicy', name);
  return existing;
}
