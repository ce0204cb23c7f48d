// The plan the agent works from: the controller's latest, or the cached one
// from the store until the controller answers. Every change is persisted and
// announced to listeners (the reconciler), with what changed so overlay-only
// deltas can be applied without a full pass.
import { inject, injectable } from 'inversify';
import type { HostPlan, PlanBlock, PlanDelta, PlanNetwork } from '../../model/agent-protocol.js';
import { applyDeltaKeepingRules, keepUnchangedRules, withBlock } from './plan-changes.js';
import { EndpointStore } from './endpoint-store.js';

export type PlanSource = 'cache' | 'controller';

/** What made the plan change. */
export type PlanChange =
  | { kind: 'replace' }
  | { kind: 'delta'; delta: PlanDelta; previous: HostPlan }
  /** a block granted ahead of its delta: no kernel object depends on it */
  | { kind: 'block' };

type Listener = (plan: HostPlan, change: PlanChange) => void;

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
    // A full plan (after a reconnect) repeats the policies in force: their unchanged rules stay the objects they were.
    const firewallPolicies = keepUnchangedRules(this.plan?.firewallPolicies ?? [], plan.firewallPolicies);
    this.set({ ...plan, firewallPolicies }, 'controller', { kind: 'replace' });
  }

  /**
   * Apply a delta; false (and nothing changed) when it does not start at our
   * revision: the caller must then resync with a full plan.
   */
  applyDelta(fromRevision: number, revision: number, delta: PlanDelta): boolean {
    const previous = this.plan;
    if (!previous || previous.revision !== fromRevision) return false;
    this.set(applyDeltaKeepingRules(previous, delta, revision), 'controller', { kind: 'delta', delta, previous });
    return true;
  }

  /** A block the controller granted us; usable at once, before the delta that will carry it. */
  addBlock(block: PlanBlock): void {
    if (!this.plan) return;
    const next = withBlock(this.plan, block);
    if (next !== this.plan) this.set(next, this.planSource ?? 'controller', { kind: 'block' });
  }

  private set(plan: HostPlan, source: PlanSource, change: PlanChange): void {
    this.store.savePlan(plan);
    this.plan = plan;
    this.planSource = source;
    for (const l of this.listeners) l(plan, change);
  }
}
