// The seam of the agent's reconcile loop: one sub-reconciler per concern
// (isolation, policy, the host's networks, VNFs, endpoint routes, ...),
// registered in one list (sub-reconcilers.ts). The loop knows none of
// them: it coalesces triggers, runs every sub-reconciler's part of a full
// pass in list order, an incremental part where one asked for it, and
// builds the status message from every sub-reconciler's report. A new
// concern is a new sub-reconciler; the loop does not change.
import type { AgentMessage, HostPlan } from '../../model/agent-protocol.js';
import type { PlanChange } from '../state/plan-state.js';

export type StatusMessage = Extract<AgentMessage, { type: 'status' }>;

/**
 * How a plan change concerns a sub-reconciler: not at all, a full pass,
 * or an incremental pass over these keys (its own: networks, ...).
 */
export type ChangeScope = 'none' | 'full' | ReadonlySet<string>;

/** What a sub-reconciler may ask of the loop from its own event sources. */
export interface ReconcileTriggers {
  /** A full pass; resolves after one that started after the call has finished. */
  full(): Promise<void>;
  /** An incremental pass of the caller over `keys`; resolves once a pass covering them has finished. */
  partial(keys: Iterable<string>): Promise<void>;
}

export interface SubReconciler {
  /** for logs */
  readonly name: string;
  /**
   * Its part of a full pass: read everything again, change what differs.
   * A failure it can attribute it keeps for its report; one it throws is
   * logged, and the pass goes on with the next sub-reconciler.
   */
  sync(plan: HostPlan | undefined): Promise<void>;
  /** An incremental pass over keys it returned from scope() or asked for through its triggers. */
  syncPartial?(plan: HostPlan, keys: ReadonlySet<string>): Promise<void>;
  /** How a plan change concerns it (absent: every change but a granted block means a full pass). */
  scope?(change: PlanChange): ChangeScope;
  /** Its part of the agent's status. */
  report?(status: StatusMessage, plan: HostPlan): void;
  /** Re-read counters between passes; true when any moved (a status goes out then). */
  refreshCounters?(): Promise<boolean>;
  /** Subscribe to its own event sources; returns the unsubscribe. */
  start?(triggers: ReconcileTriggers): () => void;
}
