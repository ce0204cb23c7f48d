// The routes through VNFs in the endpoints' namespaces
// (agents/endpoints/endpoint-routes.ts), after the VNFs exist. A namespace
// found missing asks for a full pass at once, whose reaper
// (endpoint-reaper.ts) detaches the endpoint; once per endpoint, so a
// namespace the reaper leaves (its container busy) cannot loop passes.
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { EndpointRoutes } from '../endpoints/endpoint-routes.js';
import { EndpointStore } from '../state/endpoint-store.js';
import type { PlanChange } from '../state/plan-state.js';
import type { ChangeScope, ReconcileTriggers, SubReconciler } from './sub-reconciler.js';

@injectable()
export class EndpointRouteReconciler implements SubReconciler {
  readonly name = 'endpoint-routes';
  private triggers: ReconcileTriggers | undefined;
  /** endpoints whose missing namespace asked for a pass already */
  private asked = new Set<string>();

  constructor(
    @inject(EndpointRoutes) private readonly routes: EndpointRoutes,
    @inject(EndpointStore) private readonly store: Pick<EndpointStore, 'list'>,
  ) {}

  scope(change: PlanChange): ChangeScope {
    if (change.kind !== 'delta') return 'full';
    return change.delta.upsertNetworkRoutes.length + change.delta.removeNetworkRoutes.length > 0 ? 'full' : 'none';
  }

  start(triggers: ReconcileTriggers): () => void {
    this.triggers = triggers;
    return () => (this.triggers = undefined);
  }

  async sync(plan: HostPlan | undefined): Promise<void> {
    if (!plan) return;
    const missing = await this.routes.sync(plan, this.store.list());
    const fresh = missing.filter((name) => !this.asked.has(name));
    this.asked = new Set(missing);
    if (fresh.length > 0) void this.triggers?.full();
  }
}
