// Every VNF this host runs, any kind (agents/vnf/vnf-host.ts), after the
// bridges and VXLAN devices its interfaces hang on exist.
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { vnfTouched } from '../../model/vnf-plan-delta.js';
import { vnfKey } from '../../model/vnf-protocol.js';
import type { PlanChange } from '../state/plan-state.js';
import { VnfHost } from '../vnf/vnf-host.js';
import type { ChangeScope, StatusMessage, SubReconciler } from './sub-reconciler.js';

/** The one key of its incremental passes: a sync covers every VNF. */
const ALL_VNFS = 'vnfs';

@injectable()
export class VnfReconciler implements SubReconciler {
  readonly name = 'vnfs';

  constructor(@inject(VnfHost) private readonly vnfs: VnfHost) {}

  /**
   * A change inside existing VNFs (a port forward, a rule, a static route:
   * the same interfaces) is an incremental pass of this one, so it reaches
   * the kernel without a whole pass first; the VNF host's sync covers every
   * VNF of the plan, and routes in endpoints have their own scope. A VNF
   * that comes, goes or changes interfaces may need a network carried (its
   * bridge and VXLAN device): a full pass.
   */
  scope(change: PlanChange): ChangeScope {
    if (change.kind !== 'delta') return 'full';
    const d = change.delta;
    if (!vnfTouched(d)) return 'none';
    if (d.removeVnfs.length > 0) return 'full';
    const before = new Map(change.previous.vnfs.map((v) => [vnfKey(v), v]));
    const sameInterfaces = d.upsertVnfs.every((v) => {
      const was = before.get(vnfKey(v));
      return was !== undefined && JSON.stringify(was.interfaces) === JSON.stringify(v.interfaces);
    });
    return sameInterfaces ? new Set([ALL_VNFS]) : 'full';
  }

  async sync(plan: HostPlan | undefined): Promise<void> {
    if (plan) await this.vnfs.sync(plan);
  }

  async syncPartial(plan: HostPlan): Promise<void> {
    await this.vnfs.sync(plan);
  }

  refreshCounters(): Promise<boolean> {
    return this.vnfs.refreshCounters();
  }

  report(status: StatusMessage): void {
    const vnfs = this.vnfs.reports();
    if (vnfs.length > 0) status.vnfs = vnfs;
  }
}
