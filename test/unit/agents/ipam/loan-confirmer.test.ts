// The agent's side of a loan: an address of our block another host asked
// for (a pending reservation in our plan) is excluded at once and confirmed
// only when nothing here uses it, with the plan on disk first.
import { LoanConfirmer } from '../../../../agents/ipam/loan-confirmer.js';
import { EndpointStore } from '../../../../agents/state/endpoint-store.js';
import type { PlanReservation } from '../../../../model/agent-protocol.js';
import { WeftError } from '../../../../model/errors.js';
import { emptyDelta, makeHarness, planNetwork, silentLogger, testPlan, type Harness } from '../support/harness.js';

const blue = planNetwork('blue', 0x10);
const loan = (ip: string, owner = 'far-container'): PlanReservation => ({ network: 'blue', ip, owner, pending: true });

describe('LoanConfirmer', () => {
  let h: Harness;
  let confirmer: LoanConfirmer;
  const start = (harness: Harness) => {
    h = harness;
    confirmer = new LoanConfirmer(h.plan, h.allocator, h.store, h.uplink, silentLogger);
    confirmer.start();
  };
  /** The controller's next delta: these reservations upserted. */
  const deliver = (...upsert: PlanReservation[]) => {
    const rev = h.plan.current()?.revision ?? 0;
    expect(h.plan.applyDelta(rev, rev + 1, { ...emptyDelta(), upsertReservations: upsert })).toBe(true);
  };
  const confirmed = () => h.uplink.ofType('loanConfirmed').map((m) => m.ip);
  afterEach(async () => {
    confirmer.stop();
    await h.endpoints.drain();
    h.cleanup();
  });

  test('a free address is excluded from allocation at once and confirmed once, with the plan holding it on disk', async () => {
    start(makeHarness({ plan: testPlan({ blocks: [{ network: 'blue', cidr: '100.64.0.0/30' }] }) }));
    deliver(loan('100.64.0.2'));
    expect(confirmed()).toEqual(['100.64.0.2']);
    // What a crash right now would leave: the stored plan excludes it.
    const after = new EndpointStore({ stateDir: h.dir });
    expect(after.loadPlan()?.reservations).toContainEqual(loan('100.64.0.2'));
    after.close();
    // Our one other address goes to our own endpoint; the lent one never does.
    expect((await h.allocator.allocate(blue, 'a')).ip).toBe('100.64.0.3');
    h.uplink.connected = false;
    // Full (the lent address is not ours to give) and no controller to grant another block.
    expect((await h.allocator.allocate(blue, 'b').catch((x: unknown) => x)) as WeftError).toMatchObject({ code: 'NotReady' });
    expect((await h.allocator.allocate(blue, 'c', '100.64.0.2').catch((x: unknown) => x)) as WeftError).toMatchObject({ code: 'AddressInUse' });
    // A later plan change does not confirm it again.
    deliver(loan('100.64.0.2', 'far-container'));
    expect(confirmed()).toEqual(['100.64.0.2']);
  });

  test('an address one of our endpoints has is not confirmed; once that endpoint is gone, it is', async () => {
    start(makeHarness());
    const netns = await h.netns();
    const mine = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    deliver(loan(mine.ip));
    expect(confirmed()).toEqual([]);
    await h.endpoints.detach({ containerId: 'c1' });
    await h.endpoints.drain();
    expect(confirmed()).toEqual([mine.ip]);
    // And the address is not handed out again here.
    const next = await h.endpoints.attach({ network: 'blue', containerId: 'c2', netns: await h.netns() });
    expect(next.ip).not.toBe(mine.ip);
  });

  test('a loan arriving while an attach here holds the address waits for that attach and its endpoint', async () => {
    start(makeHarness());
    const netns = await h.netns();
    const attaching = h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.9' });
    // The attach has taken the address (held) but has not finished.
    await new Promise((r) => setImmediate(r));
    expect(h.allocator.localUser('blue', '100.64.0.9')).toBeDefined();
    deliver(loan('100.64.0.9'));
    await attaching;
    expect(confirmed()).toEqual([]);
    await h.endpoints.detach({ containerId: 'c1' });
    await h.endpoints.drain();
    expect(confirmed()).toEqual(['100.64.0.9']);
  });

  test('a restarted agent still excludes a lent address (cached plan) and confirms again on a full plan', async () => {
    start(makeHarness({ plan: testPlan({ blocks: [{ network: 'blue', cidr: '100.64.0.0/30' }] }) }));
    deliver(loan('100.64.0.2'));
    expect(confirmed()).toEqual(['100.64.0.2']);
    confirmer.stop();
    const old = h;
    start(old.restart());
    expect(h.plan.source()).toBe('cache');
    expect(h.plan.current()?.reservations).toContainEqual(loan('100.64.0.2'));
    expect((await h.allocator.allocate(blue, 'a')).ip).toBe('100.64.0.3');
    h.uplink.connected = false;
    expect((await h.allocator.allocate(blue, 'b').catch((x: unknown) => x)) as WeftError).toMatchObject({ code: 'NotReady' });
    // The cached plan's loan is answered again (idempotent at the controller), and again after a reconnect's full plan.
    expect(confirmed()).toEqual(['100.64.0.2']);
    h.plan.replace({ ...(h.plan.current() ?? testPlan()), revision: 9 });
    expect(confirmed()).toEqual(['100.64.0.2', '100.64.0.2']);
  });

  test('the same address lent again to another owner is answered again', () => {
    start(makeHarness());
    deliver(loan('100.64.0.9', 'first'));
    deliver(loan('100.64.0.9', 'second'));
    expect(h.uplink.ofType('loanConfirmed')).toEqual([
      { type: 'loanConfirmed', network: 'blue', ip: '100.64.0.9' },
      { type: 'loanConfirmed', network: 'blue', ip: '100.64.0.9' },
    ]);
  });

  test('confirmed loans (no longer pending) and reservations of our own are never answered', () => {
    start(makeHarness({ plan: testPlan({ reservations: [{ network: 'blue', ip: '100.64.0.5', owner: 'declared' }] }) }));
    deliver({ network: 'blue', ip: '100.64.0.6', owner: 'far' });
    expect(confirmed()).toEqual([]);
  });
});
