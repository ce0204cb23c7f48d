// The routes through VNFs in the endpoints' namespaces
// (agents/endpoints/endpoint-routes.ts), after the VNFs exist.
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { EndpointRoutes } from '../endpoints/endpoint-routes.js';
import { EndpointStore } from '../state/endpoint-store.js';
import type { PlanChange } from '../state/plan-state.js';
import type { ChangeScope, SubReconciler } from './sub-reconciler.js';

@injectable()
export class EndpointRouteReconciler implements SubReconciler {
  readonly name = 'endpoint-routes';

  constructor(
    @inject(EndpointRoutes) private readonly routes: EndpointRoutes,
    @inject(EndpointStore) private readonly store: Pick<EndpointStore, 'list'>,
  ) {}

  scope(change: PlanChange): ChangeScope {
    if (change.kind !== 'delta') return 'full';
    return change.delta.upsertNetworkRoutes.length + change.delta.removeNetworkRoutes.length > 0 ? 'full' : 'none';
  }

  async sync(plan: HostPlan | undefined): Promise<void> {
    if (plan) await this.routes.sync(plan, this.store.list());
  }
}
