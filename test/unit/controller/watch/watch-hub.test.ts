// WatchHub: the state as GET returns it, changes numbered without gaps,
// resume or resync, one pass per burst of triggers, no work unwatched.
import { jest } from '@jest/globals';
import { formatPosition, type WatchMessage } from '../../../../model/watch.js';
import { changesOf, seqOf, watchHarness } from './watch-harness.js';

type Harness = ReturnType<typeof watchHarness>;

const positionsOf = (ms: readonly WatchMessage[]) => ms.flatMap((m) => ('position' in m ? [m.position] : []));
const last = <T>(xs: readonly T[]): T => xs[xs.length - 1] as T;

describe('WatchHub', () => {
  let h: Harness;
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    h.close();
    jest.useRealTimers();
  });

  /** Let queued passes run. */
  const settle = () => jest.advanceTimersByTime(50);

  test('a first subscriber gets every object as GET returns it, in WATCH_KINDS order, then synced and the recent events', () => {
    h = watchHarness();
    h.createNetwork('web', '10.1.0.0/16');
    h.connect('h1');
    h.attach('h1', 'web', 'e1');
    h.resources.createFirewallPolicy({ kind: 'FirewallPolicy', metadata: { name: 'p' }, spec: {} });
    const w = h.watch();
    const got = w.take();
    expect(changesOf(got)).toEqual(['added Host/h1', 'added Network/web', 'added Endpoint/e1', 'added FirewallPolicy/p']);
    const objects = got.flatMap((m) => (m.type === 'added' ? [m.object] : []));
    expect(objects).toEqual([h.status.getHost('h1'), h.status.getNetwork('web'), h.status.getEndpoint('e1'), h.status.getFirewallPolicy('p')]);
    expect(got[4]).toEqual({ type: 'synced', position: h.hub.stats().position, revision: h.store.revision() });
    expect(new Set(positionsOf(got)).size).toBe(1); // a full state is one position: the state as of then
    const events = got.slice(5);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((m) => m.type === 'event')).toBe(true);
    expect(events.map((m) => (m.type === 'event' ? `${m.event.reason} ${m.event.involved.kind}/${m.event.involved.name}` : ''))).toContain('Created Network/web');
  });

  test('a subscriber whose send throws while catching up is not kept (the caller has nothing to close)', () => {
    h = watchHarness();
    h.createNetwork('web', '10.1.0.0/16');
    expect(() =>
      h.hub.subscribe(undefined, () => {
        throw new Error('socket gone');
      }),
    ).toThrow('socket gone');
    expect(h.hub.stats().subscribers).toBe(0);
  });

  test('a network created, changed and deleted is added, modified, deleted at increasing positions', () => {
    h = watchHarness();
    const w = h.watch();
    const synced = last(w.take());
    h.createNetwork('web', '10.1.0.0/16');
    settle();
    const rv = h.status.getNetwork('web').metadata.resourceVersion;
    h.resources.updateNetwork('web', { kind: 'Network', metadata: { name: 'web', resourceVersion: rv }, spec: { subnet: '10.1.0.0/16', mtu: 1400 } });
    settle();
    h.resources.deleteNetwork('web');
    settle();
    const got = w.take();
    expect(changesOf(got)).toEqual(['added Network/web', 'modified Network/web', 'deleted Network/web']);
    const seqs = positionsOf(got).map(seqOf);
    expect(seqs).toEqual([seqOf((synced as { position: string }).position) + 1, seqs[0] as number + 1, seqs[0] as number + 2]);
    const objects = got.flatMap((m) => ('object' in m ? [m.object] : []));
    expect(objects[1]).toMatchObject({ spec: { mtu: 1400 }, metadata: { generation: 2 } });
    expect(objects[2]).toMatchObject({ spec: { mtu: 1400 } }); // deleted: as it last was
  });

  test('a host going NotReady (its agent disconnects) is modified, though the store did not change', () => {
    h = watchHarness();
    h.connect('h1');
    const w = h.watch();
    w.take();
    const revision = h.store.revision();
    h.live.disconnected('h1', Date.now());
    settle();
    const got = w.take();
    expect(changesOf(got)).toEqual(['modified Host/h1']);
    expect(got[0]).toMatchObject({ object: { status: { state: 'NotReady' } } });
    expect(h.store.revision()).toBe(revision);
  });

  test('a silent host turns NotReady on the tick, with no trigger', () => {
    h = watchHarness({ tickMs: 2_000 });
    h.connect('h1');
    const w = h.watch();
    w.take();
    jest.advanceTimersByTime(h.config.heartbeatTimeoutMs + 2_100);
    const got = w.take();
    expect(changesOf(got)).toEqual(['modified Host/h1']);
    expect(got[0]).toMatchObject({ object: { status: { state: 'NotReady', conditions: [{ reason: 'HeartbeatTimeout' }] } } });
  });

  test('a heartbeat re-reads only the Hosts: the host is modified (lastHeartbeat), the other kinds are not read', () => {
    h = watchHarness();
    h.createNetwork('web', '10.1.0.0/16');
    h.connect('h1');
    const w = h.watch();
    w.take();
    const networks = jest.spyOn(h.status, 'listNetworks');
    const { hostPasses } = h.hub.stats();
    jest.advanceTimersByTime(1_000);
    h.live.heartbeat('h1', Date.now());
    settle();
    expect(changesOf(w.take())).toEqual(['modified Host/h1']);
    expect(networks).not.toHaveBeenCalled();
    expect(h.hub.stats().hostPasses).toBe(hostPasses + 1);
  });

  test('a host changing state on the clock makes the pass a full one (networks read host states)', () => {
    h = watchHarness({ tickMs: 2_000 });
    h.createNetwork('web', '10.1.0.0/16');
    h.connect('h1');
    h.attach('h1', 'web', 'e1');
    h.live.status('h1', Date.now(), h.store.revision(), { web: { ready: true } });
    const w = h.watch();
    w.take();
    const { recomputes } = h.hub.stats();
    jest.advanceTimersByTime(h.config.heartbeatTimeoutMs + 2_100);
    expect(h.hub.stats().recomputes).toBeGreaterThan(recomputes);
    expect(changesOf(w.take())).toContain('modified Host/h1');
  });

  test('resuming from a position gets exactly the changes after it, then synced', () => {
    h = watchHarness();
    const steady = h.watch(); // keeps the hub running and sees everything
    const first = h.watch();
    const at = (last(first.take()) as { position: string }).position;
    first.sub.close();
    h.createNetwork('a', '10.1.0.0/16');
    settle();
    h.createNetwork('b', '10.2.0.0/16');
    h.connect('h1');
    settle();
    const again = h.watch(at);
    const got = again.take();
    const missed = steady.take().filter((m) => m.type !== 'event' && m.type !== 'synced');
    expect(missed.length).toBeGreaterThan(0);
    expect(got.slice(0, missed.length)).toEqual(missed);
    expect(got[missed.length]).toEqual({ type: 'synced', position: last(positionsOf(missed)), revision: h.store.revision() });
    expect(got.slice(missed.length + 1).every((m) => m.type === 'event')).toBe(true);
  });

  test('resuming at the newest position gets no changes, only synced', () => {
    h = watchHarness();
    h.createNetwork('a', '10.1.0.0/16');
    const first = h.watch();
    const at = (first.take().find((m) => m.type === 'synced') as { position: string }).position;
    const again = h.watch(at);
    expect(again.take()[0]).toEqual({ type: 'synced', position: at, revision: h.store.revision() });
  });

  test.each([
    ['another epoch', () => 'zz0.1', /another run/],
    ['not a position', () => 'bogus', /not a watch position/],
    ['a position ahead of the hub', () => formatPosition(h.hub.epoch, 999), /ahead/],
  ])('%s: resync, the full state, synced', (_name, since, reason) => {
    h = watchHarness();
    h.createNetwork('a', '10.1.0.0/16');
    const w = h.watch(since());
    const got = w.take();
    expect(got[0]).toMatchObject({ type: 'resync', reason: expect.stringMatching(reason) });
    expect(changesOf(got)).toEqual(['added Network/a']);
    expect(got[2]).toMatchObject({ type: 'synced' });
  });

  test('a position that fell out of the ring gets resync and the full state', () => {
    h = watchHarness({ ringSize: 3 });
    const steady = h.watch();
    const at = (last(steady.take()) as { position: string }).position;
    for (const [i, name] of ['a', 'b', 'c', 'd'].entries()) {
      h.createNetwork(name, `10.${i + 1}.0.0/16`);
      settle();
    }
    const w = h.watch(at);
    const got = w.take();
    expect(got[0]).toMatchObject({ type: 'resync', reason: expect.stringMatching(/older than the changes this controller keeps/) });
    expect(changesOf(got)).toEqual(['added Network/a', 'added Network/b', 'added Network/c', 'added Network/d']);
    // One change later is still held: resuming from there works.
    const recent = positionsOf(steady.take())[1] as string;
    expect(h.watch(recent).take()[0]).toMatchObject({ type: 'added', object: { metadata: { name: 'c' } } });
  });

  test('a burst of 100 commits costs at most a few passes and loses no change', () => {
    h = watchHarness({ coalesceMs: 100 });
    const w = h.watch();
    w.take();
    const before = h.hub.stats().recomputes;
    for (let i = 0; i < 100; i++) h.createNetwork(`n${i}`, `10.${i}.0.0/16`);
    expect(h.hub.stats().recomputes).toBe(before); // never inside the trigger
    jest.advanceTimersByTime(500);
    expect(h.hub.stats().recomputes - before).toBeLessThanOrEqual(2);
    expect(changesOf(w.take())).toHaveLength(100);
  });

  test('does no work before its first subscriber', () => {
    h = watchHarness();
    const reads = jest.spyOn(h.status, 'listNetworks');
    const hostReads = jest.spyOn(h.status, 'listHosts');
    h.createNetwork('a', '10.1.0.0/16');
    h.connect('h1');
    h.live.status('h1', Date.now(), h.store.revision(), {});
    h.events.record({ type: 'Normal', reason: 'Test', message: 'x', involved: { kind: 'Host', name: 'h1' } });
    jest.advanceTimersByTime(60_000);
    expect(reads).not.toHaveBeenCalled();
    expect(hostReads).not.toHaveBeenCalled();
    expect(h.hub.stats()).toMatchObject({ running: false, recomputes: 0, hostPasses: 0 });
    h.watch();
    expect(reads).toHaveBeenCalledTimes(1);
  });

  test('keeps tracking for the retention time after the last subscriber leaves: a resume within it gets what it missed', () => {
    h = watchHarness({ retentionMs: 10_000 });
    const w = h.watch();
    const at = (last(w.take()) as { position: string }).position;
    w.sub.close();
    h.createNetwork('a', '10.1.0.0/16');
    jest.advanceTimersByTime(5_000);
    expect(h.hub.stats()).toMatchObject({ running: true, paused: true, subscribers: 0 });
    expect(changesOf(h.watch(at).take())).toEqual(['added Network/a']);
  });

  test('does no work while nobody watches: the next subscriber gets what changed meanwhile as one diff', () => {
    h = watchHarness({ retentionMs: 60_000 });
    h.createNetwork('gone', '10.9.0.0/16');
    const w = h.watch();
    const synced = w.take().find((m) => m.type === 'synced');
    const at = (synced as { position: string }).position;
    w.sub.close();
    const reads = jest.spyOn(h.status, 'listNetworks');
    const hostReads = jest.spyOn(h.status, 'listHosts');
    const { recomputes, hostPasses } = h.hub.stats();
    h.createNetwork('a', '10.1.0.0/16');
    h.createNetwork('brief', '10.2.0.0/16');
    h.resources.deleteNetwork('brief');
    h.resources.deleteNetwork('gone');
    h.connect('h1');
    h.events.record({ type: 'Normal', reason: 'Test', message: 'x', involved: { kind: 'Host', name: 'h1' } });
    jest.advanceTimersByTime(30_000); // many ticks' worth
    expect(reads).not.toHaveBeenCalled();
    expect(hostReads).not.toHaveBeenCalled();
    expect(h.hub.stats()).toMatchObject({ running: true, paused: true, recomputes, hostPasses });
    // The resume gets the net change, numbered after its position; "brief" came and went unseen.
    const back = h.watch(at);
    const got = back.take();
    expect(changesOf(got).sort()).toEqual(['added Host/h1', 'added Network/a', 'deleted Network/gone']);
    expect(got[0]).not.toMatchObject({ type: 'resync' });
    expect(got.every((m) => !('position' in m) || seqOf(m.position) > seqOf(at))).toBe(true);
    expect(h.hub.stats()).toMatchObject({ paused: false, recomputes: recomputes + 1 });
    // And it follows again.
    h.createNetwork('b', '10.3.0.0/16');
    jest.advanceTimersByTime(1_000);
    expect(changesOf(back.take())).toEqual(['added Network/b']);
  });

  test('stops when the retention time runs out: no more passes, and a later resume resyncs', () => {
    h = watchHarness({ retentionMs: 10_000 });
    const w = h.watch();
    const at = (last(w.take()) as { position: string }).position;
    w.sub.close();
    jest.advanceTimersByTime(10_001);
    expect(h.hub.stats()).toMatchObject({ running: false, subscribers: 0 });
    const passes = h.hub.stats().recomputes;
    h.createNetwork('b', '10.2.0.0/16');
    jest.advanceTimersByTime(5_000);
    expect(h.hub.stats().recomputes).toBe(passes);
    const got = h.watch(at).take();
    expect(got[0]).toMatchObject({ type: 'resync', reason: expect.stringMatching(/older than/) });
    expect(changesOf(got)).toEqual(['added Network/b']);
  });

  test('an event still waiting for its pass when a client joins comes once: in the catch-up, not again with the pass', () => {
    h = watchHarness();
    const first = h.watch();
    h.events.record({ type: 'Normal', reason: 'Early', message: 'before the join', involved: { kind: 'Host', name: 'h1' } });
    const late = h.watch(); // its catch-up sends the recent events, "Early" among them
    h.events.record({ type: 'Normal', reason: 'Later', message: 'after the join', involved: { kind: 'Host', name: 'h1' } });
    jest.advanceTimersByTime(10);
    const reasons = (w: { got: WatchMessage[] }) => w.got.flatMap((m) => (m.type === 'event' ? [m.event.reason] : []));
    expect(reasons(late)).toEqual(['Early', 'Later']);
    expect(reasons(first)).toEqual(['Early', 'Later']);
  });

  test('events are sent with the next pass, after its changes', () => {
    h = watchHarness();
    const w = h.watch();
    w.take();
    h.events.record({ type: 'Warning', reason: 'Test', message: 'something', involved: { kind: 'Host', name: 'h1' } });
    h.createNetwork('a', '10.1.0.0/16'); // records its own Created event
    expect(w.take()).toEqual([]);
    jest.advanceTimersByTime(10); // the harness's coalesceMs
    const got = w.take();
    expect(got.map((m) => (m.type === 'event' ? `event ${m.event.reason}` : changesOf([m])[0]))).toEqual(['added Network/a', 'event Test', 'event Created']);
    expect(got[1]).toEqual({ type: 'event', event: expect.objectContaining({ reason: 'Test', message: 'something', count: 1 }) });
  });
});
