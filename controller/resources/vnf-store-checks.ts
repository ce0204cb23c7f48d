// The checks a VNF kind needs from the store beyond what every kind gets
// (its networks exist: vnf-writer.ts), one entry per kind that has any. A
// check throws a WeftError; the write's transaction then writes nothing.
import type { VnfKindName, VnfResource } from '../../model/vnf-resource.js';
import type { StoreTx } from '../store/store.js';
import { checkRouterInStore } from './router-checks.js';

type Checks = { [K in VnfKindName]?: (tx: StoreTx, doc: Extract<VnfResource, { kind: K }>) => void };

const CHECKS: Checks = { Router: checkRouterInStore };

export function checkVnfInStore(tx: StoreTx, doc: VnfResource): void {
  (CHECKS[doc.kind] as ((tx: StoreTx, doc: VnfResource) => void) | undefined)?.(tx, doc);
}
