// The reconcile loop with stub sub-reconcilers: it runs them in list order,
// decides full vs incremental passes from their scopes, builds the status
// from their reports, and one failing sub-reconciler does not stop the
// others.
import type { HostPlan } from '../../../../model/agent-protocol.js';
import { ReconcileLoop } from '../../../../agents/reconcile/reconcile-loop.js';
import type { ChangeScope, ReconcileTriggers, StatusMessage, SubReconciler } from '../../../../agents/reconcile/sub-reconciler.js';
import type { PlanChange } from '../../../../agents/state/plan-state.js';
import { emptyDelta, makeHarness, silentLogger, type Harness } from '../support/harness.js';

class Stub implements SubReconciler {
  triggers: ReconcileTriggers | undefined;
  nextScope: ChangeScope = 'none';
  fail = false;
  counters = false;
  constructor(
    readonly name: string,
    private readonly calls: string[],
  ) {}
  async sync(plan: HostPlan | undefined): Promise<void> {
    this.calls.push(`${this.name}.sync@${plan?.revision}`);
    if (this.fail) throw new Error(`${this.name} broke`);
  }
  async syncPartial(plan: HostPlan, keys: ReadonlySet<string>): Promise<void> {
    this.calls.push(`${this.name}.partial@${plan.revision}:${[...keys].sort().join(',')}`);
  }
  scope(_change: PlanChange): ChangeScope {
    return this.nextScope;
  }
  report(status: StatusMessage): void {
    status.networks[this.name] = { ready: !this.fail };
  }
  async refreshCounters(): Promise<boolean> {
    return this.counters;
  }
  start(triggers: ReconcileTriggers): () => void {
    this.triggers = triggers;
    return () => (this.triggers = undefined);
  }
}

describe('ReconcileLoop', () => {
  let h: Harness;
  let calls: string[];
  let a: Stub;
  let b: Stub;
  let loop: ReconcileLoop;

  beforeEach(() => {
    h = makeHarness();
    calls = [];
    a = new Stub('a', calls);
    b = new Stub('b', calls);
    loop = new ReconcileLoop(h.config, silentLogger, h.plan, h.store, h.uplink, [a, b]);
    loop.start();
  });
  afterEach(async () => {
    await loop.stop();
    h.cleanup();
  });

  test('a full pass runs every sub-reconciler in list order, then reports what each says', async () => {
    await loop.reconcile();
    expect(calls).toEqual(['a.sync@1', 'b.sync@1']);
    expect(h.uplink.ofType('status').at(-1)).toEqual({ type: 'status', appliedRevision: 1, networks: { a: { ready: true }, b: { ready: true } } });
  });

  test('a failing sub-reconciler does not stop the ones after it', async () => {
    a.fail = true;
    await loop.reconcile();
    expect(calls).toEqual(['a.sync@1', 'b.sync@1']);
    expect(h.uplink.ofType('status').at(-1)?.networks).toEqual({ a: { ready: false }, b: { ready: true } });
  });

  test('a delta one sub-reconciler needs whole takes a full pass', async () => {
    b.nextScope = 'full';
    h.plan.applyDelta(1, 2, emptyDelta());
    await loop.settle();
    expect(calls).toEqual(['a.sync@2', 'b.sync@2']);
  });

  test('a delta with keys takes an incremental pass of the sub-reconcilers that gave them only', async () => {
    a.nextScope = new Set(['blue']);
    h.plan.applyDelta(1, 2, emptyDelta());
    await loop.settle();
    expect(calls).toEqual(['a.partial@2:blue']);
    expect(h.uplink.ofType('status').at(-1)?.appliedRevision).toBe(2);
  });

  test('a delta that concerns nobody still reports the revision it applied', async () => {
    h.plan.applyDelta(1, 2, emptyDelta());
    await loop.settle();
    expect(calls).toEqual([]);
    expect(h.uplink.ofType('status').at(-1)?.appliedRevision).toBe(2);
    expect(h.plan.appliedRevision).toBe(2);
  });

  test('a granted block touches nothing; a full plan is a full pass', async () => {
    h.plan.addBlock({ network: 'blue', cidr: '100.64.0.64/26' });
    await loop.settle();
    expect(calls).toEqual([]);
    h.plan.replace({ ...h.plan.current()!, revision: 5 });
    await loop.settle(); // queued behind the full pass the replace started
    expect(calls).toEqual(['a.sync@5', 'b.sync@5']);
  });

  test('a sub-reconciler triggers its own incremental passes; a full pass covers those queued before it', async () => {
    const running = loop.reconcile();
    // queued while a pass runs: the next full pass covers the incremental work
    const partial = a.triggers!.partial(['x', 'y']);
    const full = loop.reconcile();
    await Promise.all([running, partial, full]);
    expect(calls).toEqual(['a.sync@1', 'b.sync@1', 'a.sync@1', 'b.sync@1']);
    await a.triggers!.partial(['z']);
    expect(calls.at(-1)).toBe('a.partial@1:z');
  });

  test('counters that moved send a status; unmoved ones do not', async () => {
    await loop.reconcile();
    const sent = h.uplink.ofType('status').length;
    await loop.reportCounters();
    expect(h.uplink.ofType('status')).toHaveLength(sent);
    b.counters = true;
    await loop.reportCounters();
    expect(h.uplink.ofType('status')).toHaveLength(sent + 1);
  });
});
