// The agent's reconcile loop: brings the host in line with the plan and
// the endpoint records by running the sub-reconcilers registered in
// sub-reconcilers.ts, and reports status. It knows no concern itself.
//
// - A full pass runs every sub-reconciler's sync in list order (each reads
//   everything again, so a failed action is retried by the next pass), then
//   reports status and writes the applied plan behind.
// - A plan change that concerns no sub-reconciler as a whole (scope() said
//   'none' or gave keys) takes an incremental pass instead: each
//   sub-reconciler's syncPartial over its keys (the common case: a remote
//   endpoint came or went, one per attach anywhere), then the same report,
//   so the controller learns the applied revision at once.
// - Passes never overlap: a trigger during a pass queues exactly one more,
//   and a full pass covers the incremental work queued before it started.
// - Counters (policy rules, VNFs, spoof drops) move without any plan
//   change: they are re-read now and then and reported when they moved.
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { errorMessage } from '../../model/errors.js';
import { AGENT_CONFIG, AGENT_LOGGER, type AgentConfig, type AgentLogger } from '../agent-config.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from '../controller-uplink.js';
import { EndpointStore } from '../state/endpoint-store.js';
import { PlanState, type PlanChange } from '../state/plan-state.js';
import type { StatusMessage, SubReconciler } from './sub-reconciler.js';

/** The sub-reconcilers, in the order a full pass runs them (sub-reconcilers.ts). */
export const SUB_RECONCILERS = Symbol.for('weft.SubReconcilers');

/** How often counters are re-read (and reported when they moved). */
const COUNTER_INTERVAL_MS = 5_000;

interface Waiter {
  gen: number;
  resolve: () => void;
}

interface PartialBatch {
  keys: Map<SubReconciler, Set<string>>;
  waiters: (() => void)[];
}

const emptyBatch = (): PartialBatch => ({ keys: new Map(), waiters: [] });

@injectable()
export class ReconcileLoop {
  private requested = 0;
  private done = 0;
  private loop: Promise<void> = Promise.resolve();
  private running = false;
  private waiters: Waiter[] = [];
  private batch = emptyBatch();
  private timer: NodeJS.Timeout | undefined;
  private counterTimer: NodeJS.Timeout | undefined;
  private readingCounters = false;
  private unsubscribe: (() => void)[] = [];

  constructor(
    @inject(AGENT_CONFIG) private readonly config: Pick<AgentConfig, 'resyncMs'>,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(CONTROLLER_UPLINK) private readonly uplink: ControllerUplink,
    @inject(SUB_RECONCILERS) private readonly subs: readonly SubReconciler[],
  ) {}

  /** Reconcile on every plan change, on the sub-reconcilers' own events, and periodically (drift nobody told us about). */
  start(): void {
    if (this.unsubscribe.length === 0) {
      this.unsubscribe.push(this.plan.onChange((_plan, change) => this.onPlanChange(change)));
      for (const sub of this.subs) {
        const stop = sub.start?.({ full: () => this.reconcile(), partial: (keys) => this.partial(sub, keys) });
        if (stop) this.unsubscribe.push(stop);
      }
    }
    if (!this.timer && this.config.resyncMs > 0) {
      this.timer = setInterval(() => void this.reconcile(), this.config.resyncMs);
      this.timer.unref();
    }
    if (!this.counterTimer && this.subs.some((s) => s.refreshCounters) && COUNTER_INTERVAL_MS > 0) {
      this.counterTimer = setInterval(() => void this.reportCounters(), COUNTER_INTERVAL_MS);
      this.counterTimer.unref();
    }
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    clearInterval(this.timer);
    this.timer = undefined;
    clearInterval(this.counterTimer);
    this.counterTimer = undefined;
    await this.loop;
  }

  /** Resolves after a full pass that started after this call has finished. */
  reconcile(): Promise<void> {
    const gen = ++this.requested;
    const settled = new Promise<void>((resolve) => this.waiters.push({ gen, resolve }));
    this.kick();
    return settled;
  }

  /** Resolves once the incremental work queued so far has been done and reported (a status goes out). */
  settle(): Promise<void> {
    return this.partial(undefined, []);
  }

  /** Re-read every sub-reconciler's counters; report when any moved. */
  async reportCounters(): Promise<void> {
    const plan = this.plan.current();
    // One read at a time: on a big table a read can outlast the interval.
    if (!plan || this.readingCounters) return;
    this.readingCounters = true;
    try {
      let moved = false;
      for (const sub of this.subs) {
        try {
          if (await sub.refreshCounters?.()) moved = true;
        } catch (e: unknown) {
          this.log.warn({ reconciler: sub.name, err: errorMessage(e) }, 'cannot read counters');
        }
      }
      if (moved) this.uplink.send(this.status(plan));
    } finally {
      this.readingCounters = false;
    }
  }

  /** An incremental pass of `sub` over `keys` (none: only the status report). */
  private partial(sub: SubReconciler | undefined, keys: Iterable<string>): Promise<void> {
    const batch = this.batch;
    if (sub) {
      let set = batch.keys.get(sub);
      if (!set) batch.keys.set(sub, (set = new Set()));
      for (const k of keys) set.add(k);
    }
    const settled = new Promise<void>((resolve) => batch.waiters.push(resolve));
    this.kick();
    return settled;
  }

  private onPlanChange(change: PlanChange): void {
    if (change.kind === 'block') return; // no kernel object depends on a block
    const scopes = this.subs.map((sub) => ({ sub, scope: change.kind === 'delta' && sub.scope ? sub.scope(change) : 'full' }));
    if (scopes.some((s) => s.scope === 'full')) {
      void this.reconcile();
      return;
    }
    let queued = false;
    for (const { sub, scope } of scopes) {
      if (typeof scope === 'string') continue;
      void this.partial(sub, scope);
      queued = true;
    }
    if (!queued) void this.partial(undefined, []);
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private takeBatch(): PartialBatch {
    const batch = this.batch;
    this.batch = emptyBatch();
    return batch;
  }

  private async run(): Promise<void> {
    // `running` is cleared in the same synchronous step as the last loop
    // check, so a trigger from a resolved waiter starts a new run.
    while (this.done < this.requested || this.batch.waiters.length > 0) {
      if (this.done < this.requested) {
        const gen = this.requested;
        const covered = this.takeBatch(); // the pass reads the plan as it is now: it covers these
        await this.fullPass();
        this.done = gen;
        const ready = this.waiters.filter((w) => w.gen <= gen);
        this.waiters = this.waiters.filter((w) => w.gen > gen);
        for (const w of ready) w.resolve();
        for (const w of covered.waiters) w();
      } else {
        const batch = this.takeBatch();
        await this.partialPass(batch);
        for (const w of batch.waiters) w();
      }
    }
    this.running = false;
  }

  private async fullPass(): Promise<void> {
    const plan = this.plan.current();
    for (const sub of this.subs) {
      try {
        await sub.sync(plan);
      } catch (e: unknown) {
        // It could not even observe (the kernel did not answer): the next trigger retries.
        this.log.error({ reconciler: sub.name, err: errorMessage(e) }, 'reconcile pass failed');
      }
    }
    if (plan) this.report(plan);
    this.savePlan();
  }

  private async partialPass(batch: PartialBatch): Promise<void> {
    const plan = this.plan.current();
    if (!plan) return;
    for (const [sub, keys] of batch.keys) {
      if (keys.size === 0 || !sub.syncPartial) continue;
      try {
        await sub.syncPartial(plan, keys);
      } catch (e: unknown) {
        this.log.error({ reconciler: sub.name, err: errorMessage(e) }, 'incremental pass failed');
      }
    }
    this.report(plan);
    this.savePlan();
  }

  /** The plan just applied and reported goes to the agent state now (written behind: see EndpointStore.savePlan). */
  private savePlan(): void {
    try {
      this.store.flushPlan();
    } catch (e: unknown) {
      this.log.error({ err: errorMessage(e) }, 'cannot write the plan to the agent state (the fallback for starting without the controller)');
    }
  }

  private report(plan: HostPlan): void {
    this.plan.appliedRevision = plan.revision;
    this.uplink.send(this.status(plan));
  }

  private status(plan: HostPlan): StatusMessage {
    const msg: StatusMessage = { type: 'status', appliedRevision: plan.revision, networks: {} };
    for (const sub of this.subs) sub.report?.(msg, plan);
    return msg;
  }
}
