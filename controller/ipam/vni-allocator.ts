// VXLAN network identifiers: one per network, unique, kept in the store so a
// network keeps its VNI across controller restarts. Automatic assignment
// starts at 4096 and leaves 1-4095 for hand-picked ones (spec.vni).
import { WeftError } from '../../model/errors.js';
import { MAX_VNI } from '../../model/kinds.js';
import type { StoreTx } from '../store/store.js';

export const AUTO_VNI_START = 4096;

/** Lowest free VNI from start upwards, then below start; undefined when all are taken. */
export function pickVni(taken: ReadonlySet<number>, start = AUTO_VNI_START, max = MAX_VNI): number | undefined {
  for (let v = start; v <= max; v++) if (!taken.has(v)) return v;
  for (let v = 1; v < start && v <= max; v++) if (!taken.has(v)) return v;
  return undefined;
}

/**
 * The VNI of network after this write: spec.vni if given (it must not belong
 * to another network), else the one it has, else a new one.
 */
export function assignVni(tx: StoreTx, network: string, requested: number | undefined, field = '/spec/vni'): number {
  const all = tx.listVnis();
  if (requested !== undefined) {
    for (const [other, vni] of all) {
      if (vni === requested && other !== network) {
        throw new WeftError('Overlap', `VNI ${requested} is used by network "${other}"`, {
          details: [{ path: field, message: `VNI ${requested} is used by network "${other}"`, value: requested, allowed: 'a VNI no other network uses, or none to have one assigned' }],
        });
      }
    }
    tx.setVni(network, requested);
    return requested;
  }
  const current = all.get(network);
  if (current !== undefined) return current;
  const vni = pickVni(new Set(all.values()));
  if (vni === undefined) throw new WeftError('Exhausted', `no free VNI is left (1-${MAX_VNI} are all in use)`);
  tx.setVni(network, vni);
  return vni;
}
