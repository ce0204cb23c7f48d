import { writeFileSync } from 'node:fs';
import { ControllerLink, connectUrl } from '../../../agents/controller-link.js';
import { Underlay } from '../../../agents/overlay/underlay.js';
import type { HostPlan } from '../../../model/agent-protocol.js';
import { WeftError } from '../../../model/errors.js';
import { emptyDelta, makeHarness, silentLogger, testPlan, type Harness } from './support/harness.js';
import { TOKEN, TinyController, until } from './support/tiny-controller.js';

describe('connectUrl', () => {
  test.each([
    ['http://ctl:7443', 'ws://ctl:7443/api/v1/agents/connect'],
    ['https://ctl/', 'wss://ctl/api/v1/agents/connect'],
    ['ws://10.0.0.1:8080/base/', 'ws://10.0.0.1:8080/base/api/v1/agents/connect'],
    ['wss://ctl?x=1', 'wss://ctl/api/v1/agents/connect'],
  ])('%s -> %s', (base, url) => expect(connectUrl(base)).toBe(url));

  test('refuses other schemes and non-URLs', () => {
    expect(() => connectUrl('ftp://x')).toThrow(WeftError);
    expect(() => connectUrl('not a url')).toThrow(WeftError);
  });
});

describe('ControllerLink', () => {
  let h: Harness;
  let ctl: TinyController;
  let link: ControllerLink;

  async function start(over: Partial<Harness['config']> = {}) {
    const base = await ctl.listen();
    writeFileSync(h.config.tokenFile, `  ${TOKEN}\n`);
    link = new ControllerLink({ ...h.config, controller: base, ...over }, silentLogger, h.store, h.plan);
    link.start();
  }

  beforeEach(() => {
    h = makeHarness();
    ctl = new TinyController();
  });

  afterEach(async () => {
    await link?.stop();
    await ctl.close();
    h.cleanup();
  });

  test('authenticates with the trimmed token and says hello with every attached endpoint', async () => {
    await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns: await h.netns() });
    await h.endpoints.attach({ network: 'blue', containerId: 'c2', netns: await h.netns() });
    await h.endpoints.detach({ containerId: 'c2' }); // deleting: not reported as present
    await start();
    const hello = await ctl.next('hello');
    expect(ctl.requests[0]).toEqual({ url: '/api/v1/agents/connect', auth: `Bearer ${TOKEN}` });
    expect(hello).toMatchObject({ type: 'hello', host: 'h1', agentVersion: 'test', appliedRevision: 1 });
    expect(hello.endpoints.map((e) => e.name)).toEqual(['c1.eth0']);
    expect(hello.endpoints[0]).toMatchObject({ network: 'blue', containerId: 'c1', ifname: 'eth0', ip: '100.64.0.2' });
    expect(link.connected).toBe(true);
    await h.endpoints.drain();
  });

  test('hello carries the underlay address (the local address of the connection) and its MTU', async () => {
    const base = await ctl.listen();
    writeFileSync(h.config.tokenFile, TOKEN);
    const underlay = new Underlay({}, h.dp.host(), h.store, silentLogger);
    link = new ControllerLink({ ...h.config, controller: base }, silentLogger, h.store, h.plan, underlay);
    link.start();
    const hello = await ctl.next('hello');
    expect(hello).toMatchObject({ address: '127.0.0.1' });
    expect(hello.underlayMtu).toBeUndefined(); // loopback: the controller assumes a 1500-byte underlay
    expect(h.store.getMeta('underlayAddress')).toBe('127.0.0.1');
    expect(underlay.current()).toEqual({ address: '127.0.0.1' });
  });

  test('without an underlay service hello carries no address', async () => {
    await start();
    const hello = await ctl.next('hello');
    expect(hello).not.toHaveProperty('address');
    expect(hello).not.toHaveProperty('underlayMtu');
  });

  test('applies a full plan and deltas, persisting them and telling listeners', async () => {
    const seen: number[] = [];
    h.plan.onChange((p) => seen.push(p.revision));
    await start();
    await ctl.next('hello');
    const first = link.waitForFirstPlan(2000);
    const plan: HostPlan = testPlan({ revision: 7 });
    ctl.send({ type: 'plan', plan });
    expect(await first).toBe(true);
    expect(h.plan.source()).toBe('controller');
    ctl.send({
      type: 'delta', fromRevision: 7, revision: 8,
      delta: {
        ...emptyDelta(),
        upsertNetworks: [{ ...plan.networks[0]!, name: 'red', vni: 0x11, bridge: 'wb-000011', subnet: '100.64.1.0/24', gateway: '100.64.1.1' }],
        removeNetworks: [], upsertBlocks: [{ network: 'red', cidr: '100.64.1.0/26' }], removeBlocks: [],
        upsertReservations: [{ network: 'blue', ip: '100.64.0.9', owner: 'x' }], removeReservations: [],
        upsertFlood: [], removeFlood: [], upsertRemoteEndpoints: [], removeRemoteEndpoints: [],
      },
    });
    await until(() => h.plan.current()?.revision === 8);
    expect(h.plan.current()?.networks.map((n) => n.name)).toEqual(['blue', 'red']);
    expect(h.store.loadPlan()?.revision).toBe(8);
    expect(h.store.blocks()).toEqual([{ network: 'blue', cidr: '100.64.0.0/26' }, { network: 'red', cidr: '100.64.1.0/26' }]);
    expect(seen).toEqual([7, 8]);
  });

  test('a delta that does not start at our revision forces a reconnect asking for a full plan', async () => {
    await start();
    await ctl.next('hello');
    ctl.send({ type: 'delta', fromRevision: 41, revision: 42, delta: { ...emptyDelta(), removeNetworks: ['blue'] } });
    await until(() => ctl.received.filter((m) => m.type === 'hello').length === 2);
    const second = ctl.received.filter((m) => m.type === 'hello')[1];
    expect(second).toMatchObject({ appliedRevision: 0 });
    expect(h.plan.current()?.revision).toBe(1); // unchanged
  });

  test('requestBlock and requestStatic are answered by request id; failures carry the controller code', async () => {
    ctl.onMessage = (ws, m) => {
      if (m.type === 'requestBlock') ctl.send({ type: 'blockGranted', requestId: m.requestId, block: { network: m.network, cidr: '100.64.0.64/26' } }, ws);
      if (m.type === 'requestStatic') {
        if (m.ip === '100.64.0.200') ctl.send({ type: 'staticGranted', requestId: m.requestId, reservation: { network: m.network, ip: m.ip, owner: m.owner } }, ws);
        else ctl.send({ type: 'requestFailed', requestId: m.requestId, code: 'AddressInUse', message: `${m.ip} is used by h2` }, ws);
      }
    };
    await start();
    await ctl.next('hello');
    await until(() => link.connected);
    expect(await link.requestBlock('blue')).toEqual({ network: 'blue', cidr: '100.64.0.64/26' });
    expect(await link.requestStatic('blue', '100.64.0.200', 'ep')).toEqual({ network: 'blue', ip: '100.64.0.200', owner: 'ep' });
    await expect(link.requestStatic('blue', '100.64.0.201', 'ep')).rejects.toMatchObject({ code: 'AddressInUse' });
  });

  test('announceEndpoint sends endpointUp with a request id and resolves with the late hosts of its endpointPropagated; its own bound applies', async () => {
    const ep = { name: 'c1.eth0', network: 'blue', containerId: 'c1', ifname: 'eth0', ip: '100.64.0.5', mac: '02:00:00:00:00:05', hostIfname: 'wv-1', netns: '/n', labels: {} };
    let answer = true;
    ctl.onMessage = (ws, m) => {
      if (m.type === 'endpointUp' && m.requestId !== undefined && answer) {
        ctl.send({ type: 'endpointPropagated', requestId: m.requestId, revision: 7, hosts: ['h2'], late: ['h3'] }, ws);
      }
    };
    await start();
    await ctl.next('hello');
    await until(() => link.connected);
    expect(await link.announceEndpoint(ep, 1000)).toEqual({ late: ['h3'] });
    expect(ctl.received.filter((m) => m.type === 'endpointUp')).toEqual([expect.objectContaining({ endpoint: ep, requestId: expect.any(String) })]);
    answer = false;
    await expect(link.announceEndpoint(ep, 30)).rejects.toMatchObject({ code: 'NotReady' });
  });

  test('an unanswered request times out as NotReady; without a connection it fails at once', async () => {
    await start({ requestTimeoutMs: 50 });
    await ctl.next('hello');
    await until(() => link.connected);
    await expect(link.requestBlock('blue')).rejects.toMatchObject({ code: 'NotReady' });
    await link.stop();
    await expect(link.requestBlock('blue')).rejects.toMatchObject({ code: 'NotReady' });
  });

  test('reconnects after the controller drops it; endpoint reports made meanwhile ride in the next hello', async () => {
    await start();
    await ctl.next('hello');
    await until(() => link.connected);
    ctl.sockets[0]?.terminate();
    await until(() => !link.connected);
    link.send({ type: 'endpointUp', endpoint: { name: 'x', network: 'blue', containerId: 'x', ifname: 'eth0', ip: '1.1.1.1', mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/n', labels: {} } });
    link.send({ type: 'releaseStatic', network: 'blue', ip: '100.64.0.200' });
    link.send({ type: 'status', appliedRevision: 1, networks: {} });
    link.send({ type: 'status', appliedRevision: 2, networks: {} });
    await until(() => ctl.received.filter((m) => m.type === 'hello').length === 2);
    await until(() => ctl.received.some((m) => m.type === 'releaseStatic'));
    const afterHello = ctl.received.slice(ctl.received.findIndex((m, i) => m.type === 'hello' && i > 0));
    expect(afterHello.map((m) => m.type)).toEqual(['hello', 'releaseStatic', 'status']);
    expect(afterHello[2]).toMatchObject({ appliedRevision: 2 });
    expect(afterHello.some((m) => m.type === 'endpointUp')).toBe(false); // superseded by hello
  });

  test('a wrong token is refused; the link keeps retrying and the first-plan wait gives up', async () => {
    await start();
    writeFileSync(h.config.tokenFile, 'wrong');
    const base = `http://127.0.0.1:${ctl.port}`;
    await link.stop();
    link = new ControllerLink({ ...h.config, controller: base }, silentLogger, h.store, h.plan);
    link.start();
    expect(await link.waitForFirstPlan(2000)).toBe(false);
    await until(() => ctl.requests.length >= 3);
    expect(link.connected).toBe(false);
    expect(ctl.requests.every((r) => r.auth === 'Bearer wrong')).toBe(true);
    // fixing the token file needs no restart
    writeFileSync(h.config.tokenFile, TOKEN);
    await ctl.next('hello');
  });

  test('sends heartbeats while connected', async () => {
    await start({ heartbeatMs: 30 });
    await ctl.next('hello');
    await until(() => ctl.received.filter((m) => m.type === 'heartbeat').length >= 2);
  });

  test('connection listeners hear about up and down', async () => {
    const events: boolean[] = [];
    await start();
    link.onConnectionChange((c) => events.push(c));
    await ctl.next('hello');
    await until(() => events.length === 1);
    ctl.sockets[0]?.terminate();
    await until(() => events.length >= 2);
    expect(events.slice(0, 2)).toEqual([true, false]);
  });
});
