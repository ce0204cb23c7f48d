// The endpoint reaper: endpoints whose namespace is gone (the path removed,
// or naming another namespace now) are detached fully, once, with one log
// line; live ones, and ones whose container has an attach in flight, are
// left alone. On the fake kernel, through the agent's services.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { EndpointService } from '../../../../agents/endpoints/endpoint-service.js';
import { netnsGoneReason } from '../../../../agents/endpoints/netns-gone.js';
import { EndpointReaper } from '../../../../agents/reconcile/endpoint-reaper.js';
import { makeHarness, silentLogger, type Harness } from '../support/harness.js';

/** A logger whose lines the test reads back. */
function capture(): { logger: pino.Logger; clear: () => void; lines: () => Array<{ msg: string; endpoint?: string; netns?: string; reason?: string; level: number }> } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), clear: () => void out.splice(0), lines: () => out.map((l) => JSON.parse(l) as { msg: string; level: number }) };
}

describe('netnsGoneReason', () => {
  test.each<[string, { netns: string; netnsId?: string; netnsCheckAt?: string }, string | undefined, RegExp | undefined]>([
    ['handed over, the caller still has it', { netns: '/run/netns/a', netnsId: '4:1', netnsCheckAt: '/proc/42/root/run/netns/a' }, '4:1', undefined],
    ['handed over, the caller is gone', { netns: '/run/netns/a', netnsId: '4:1', netnsCheckAt: '/proc/42/root/run/netns/a' }, undefined, /\/run\/netns\/a does not exist any more where its caller had it \(\/proc\/42\/root\/run\/netns\/a: the caller is gone/],
    ['the path is there, same namespace', { netns: '/run/netns/a', netnsId: '4:1' }, '4:1', undefined],
    ['the path is gone', { netns: '/run/netns/a', netnsId: '4:1' }, undefined, /\/run\/netns\/a does not exist/],
    ['the path names another namespace', { netns: '/proc/42/ns/net', netnsId: '4:1' }, '4:2', /names another namespace now \(nsfs 4:2, attached to 4:1\)/],
    ['no identity recorded, path there', { netns: '/run/netns/a' }, '4:2', undefined],
    ['no identity recorded, path gone', { netns: '/run/netns/a' }, undefined, /does not exist/],
  ])('%s', (_what, record, current, reason) => {
    const got = netnsGoneReason(record, current);
    if (reason === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(reason);
  });
});

describe('EndpointReaper', () => {
  let h: Harness;
  let log: ReturnType<typeof capture>;
  let endpoints: EndpointService;
  let reaper: EndpointReaper;

  beforeEach(() => {
    h = makeHarness();
    log = capture();
    endpoints = new EndpointService(h.dp, h.dp.host(), h.store, h.plan, h.allocator, h.overlay, h.uplink, log.logger);
    reaper = new EndpointReaper(h.store, endpoints, h.dp, silentLogger);
  });
  afterEach(() => h.cleanup());

  const about = (name: string) => log.lines().filter((l) => JSON.stringify(l).includes(name));

  test('attach records the identity of the namespace it attached to', async () => {
    const netns = await h.netns('c1');
    await endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    const id = await h.dp.netnsId(netns);
    expect(id).toBeDefined();
    expect(h.store.get('c1.eth0')?.netnsId).toBe(id);
  });

  test('a removed namespace: the endpoint is detached everywhere (record, address, controller), one log line', async () => {
    const netns = await h.netns('c1');
    const r = await endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    await h.dp.deleteNamedNetns('c1'); // the workload died: its veth pair goes with the namespace
    h.uplink.sent.length = 0;
    log.clear();

    await reaper.sync();
    expect(h.store.get('c1.eth0')).toBeUndefined();
    expect(h.uplink.ofType('endpointDown').map((m) => m.name)).toEqual(['c1.eth0']);
    expect(h.store.ownerOf('blue', r.ip)).toBeUndefined();
    const lines = about('c1.eth0');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ endpoint: 'c1.eth0', netns, level: 40 });
    expect(lines[0]?.reason).toMatch(/does not exist any more/);

    await reaper.sync(); // nothing left to say
    expect(about('c1.eth0')).toHaveLength(1);
    // the address is free for the next attach
    const again = await endpoints.attach({ network: 'blue', containerId: 'c2', netns: await h.netns('c2'), ip: r.ip });
    expect(again.ip).toBe(r.ip);
  });

  test('a namespace whose path is gone but which something still holds: its host veth is removed too', async () => {
    const netns = await h.netns('c1');
    const r = await endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    const holder = await h.dp.at(netns); // e.g. a process still inside
    await h.dp.deleteNamedNetns('c1');
    expect(await h.dp.link('host', r.hostIfname)).toBeDefined();

    await reaper.sync();
    expect(await h.dp.link('host', r.hostIfname)).toBeUndefined();
    expect(h.store.get('c1.eth0')).toBeUndefined();
    expect(h.uplink.ofType('endpointDown').map((m) => m.name)).toEqual(['c1.eth0']);
    holder.close();
  });

  test('a path reused by a new namespace is not mistaken for the old one, and the new one is left alone', async () => {
    const netns = await h.netns('c1');
    const r = await endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    const holder = await h.dp.at(netns);
    await h.dp.deleteNamedNetns('c1');
    await h.netns('c1'); // same path, another namespace
    log.clear();

    await reaper.sync();
    expect(h.store.get('c1.eth0')).toBeUndefined();
    expect(await h.dp.link('host', r.hostIfname)).toBeUndefined();
    expect(about('c1.eth0')[0]?.reason).toMatch(/names another namespace now/);
    expect((await h.dp.links(netns)).map((l) => l.name)).toEqual(['lo']);
    holder.close();
  });

  test('live namespaces are left alone', async () => {
    const netns = await h.netns('c1');
    await endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    await reaper.sync();
    expect(h.store.get('c1.eth0')?.state).toBe('attached');
    expect(h.uplink.ofType('endpointDown')).toEqual([]);
  });

  test('a namespace handed over as a descriptor is looked for where its caller has it, not at its own path', async () => {
    const netns = await h.netns('c1');
    const callerPath = '/run/netns/seen-by-the-caller-only';
    // Alive while the caller has it (here: checked at a path that resolves), though the agent cannot see the caller's path.
    await endpoints.attach({ network: 'blue', containerId: 'c1', netns: callerPath }, '', { openAt: netns, checkAt: netns });
    expect(h.store.get('c1.eth0')).toMatchObject({ netns: callerPath, netnsCheckAt: netns });
    await reaper.sync();
    expect(h.store.get('c1.eth0')?.state).toBe('attached');

    // The caller gone: its view of the namespace is gone with it.
    const other = await h.netns('c2');
    await endpoints.attach({ network: 'blue', containerId: 'c2', netns: callerPath }, '', { openAt: other, checkAt: '/proc/4242/root/run/netns/c2' });
    log.clear();
    await reaper.sync();
    expect(h.store.get('c2.eth0')).toBeUndefined();
    expect(h.store.get('c1.eth0')?.state).toBe('attached');
    expect(about('c2.eth0')[0]?.reason).toMatch(/where its caller had it \(\/proc\/4242\/root\/run\/netns\/c2: the caller is gone/);
  });

  test('never reaps an endpoint whose container has an attach in flight; the next pass does', async () => {
    const netns = await h.netns('c1');
    await endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    await h.dp.deleteNamedNetns('c1');
    // A second interface of the same container, on a network the plan does not have yet: the attach waits, holding the container.
    const inFlight = endpoints.attach({ network: 'later', containerId: 'c1', netns, ifname: 'eth1' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));

    await reaper.sync();
    expect(h.store.get('c1.eth0')?.state).toBe('attached');
    await inFlight;
    await reaper.sync();
    expect(h.store.get('c1.eth0')).toBeUndefined();
  });
});
