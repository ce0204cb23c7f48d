// The plan the agent works from: the controller's latest, or the cached one
// from the store until the controller answers. Every change is persisted and
// announced to listeners (the reconciler).
import { inject, injectable } from 'inversify';
import type { HostPlan, PlanBlock, PlanDelta, PlanNetwork } from '../../model/agent-protocol.js';
import { applyPlanDelta, withBlock } from './apply-plan-delta.js';
import { EndpointStore } from './endpoint-store.js';

export type PlanSource = 'cache' | 'controller';
type Listener = (plan: HostPlan) => void;

@injectable()
export class PlanState {
  private plan: HostPlan | undefined;
  private planSource: PlanSource | undefined;
  private readonly listeners = new Set<Listener>();
  /** Revision the reconciler last applied (reported in hello and status). */
  appliedRevision = 0;

  constructor(@inject(EndpointStore) private readonly store: EndpointStore) {
    this.plan = store.loadPlan();
    if (this.plan) this.planSource = 'cache';
  }

  current(): HostPlan | undefined {
    return this.plan;
  }

  source(): PlanSource | undefined {
    return this.planSource;
  }

  network(name: string): PlanNetwork | undefined {
    return this.plan?.networks.find((n) => n.name === name);
  }

  blocksOf(network: string): PlanBlock[] {
    return this.plan?.blocks.filter((b) => b.network === network) ?? [];
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  replace(plan: HostPlan): void {
    this.set(plan, 'controller');
  }

  /**
   * Apply a delta; false (and nothing changed) when it does not start at our
   * revision: the caller must then resync with a full plan.
   */
  applyDelta(fromRevision: number, revision: number, delta: PlanDelta): boolean {
    if (!this.plan || this.plan.revision !== fromRevision) return false;
    this.set(applyPlanDelta(this.plan, delta, revision), 'controller');
    return true;
  }

  /** A block the controller granted us; usable at once, before the delta that will carry it. */
  addBlock(block: PlanBlock): void {
    if (!this.plan) return;
    const next = withBlock(this.plan, block);
    if (next !== this.plan) this.set(next, this.planSource ?? 'controller');
  }

  private set(plan: HostPlan, source: PlanSource): void {
    this.store.savePlan(plan);
    this.plan = plan;
    this.planSource = source;
    for (const l of this.listeners) l(plan);
  }
}
