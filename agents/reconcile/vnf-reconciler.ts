// Every VNF this host runs, any kind (agents/vnf/vnf-host.ts), after the
// bridges and VXLAN devices its interfaces hang on exist.
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { vnfTouched } from '../../model/vnf-plan-delta.js';
import type { PlanChange } from '../state/plan-state.js';
import { VnfHost } from '../vnf/vnf-host.js';
import type { ChangeScope, StatusMessage, SubReconciler } from './sub-reconciler.js';

@injectable()
export class VnfReconciler implements SubReconciler {
  readonly name = 'vnfs';

  constructor(@inject(VnfHost) private readonly vnfs: VnfHost) {}

  scope(change: PlanChange): ChangeScope {
    if (change.kind !== 'delta') return 'full';
    return vnfTouched(change.delta) ? 'full' : 'none';
  }

  async sync(plan: HostPlan | undefined): Promise<void> {
    if (plan) await this.vnfs.sync(plan);
  }

  refreshCounters(): Promise<boolean> {
    return this.vnfs.refreshCounters();
  }

  report(status: StatusMessage): void {
    const vnfs = this.vnfs.reports();
    if (vnfs.length > 0) status.vnfs = vnfs;
  }
}
