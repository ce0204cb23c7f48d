// Events recorded where things happen and served by GET /api/v1/events.
import { eventsHarness } from '../support/events-harness.js';

type H = Awaited<ReturnType<typeof eventsHarness>>;

const net = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec });
const reasons = (body: { items: { reason: string }[] }) => body.items.map((e) => e.reason);

describe('controller events', () => {
  let h: H;
  beforeEach(async () => {
    h = await eventsHarness();
  });
  afterEach(async () => h.close());

  test('create, configure and delete of a network are listed for it, oldest first', async () => {
    h.resources.createNetwork(net('blue', { subnet: '10.20.0.0/24' }));
    h.resources.updateNetwork('blue', net('blue', { subnet: '10.20.0.0/24', mtu: 1400 }));
    h.resources.deleteNetwork('blue');
    const r = await h.get('/api/v1/events?kind=network&name=blue');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ apiVersion: 'weft.dev/v1', kind: 'EventList' });
    expect(r.body.items).toEqual([
      expect.objectContaining({ type: 'Normal', reason: 'Created', message: 'network created (generation 1)', involved: { kind: 'Network', name: 'blue' }, count: 1 }),
      expect.objectContaining({ type: 'Normal', reason: 'Configured', message: 'network configured (generation 2)' }),
      expect.objectContaining({ type: 'Normal', reason: 'Deleted', message: 'network deleted' }),
    ]);
    expect(typeof r.body.items[0].time).toBe('string');
  });

  test('apply records created and configured, not unchanged; a dry run records nothing', async () => {
    const doc = net('blue', { subnet: '10.20.0.0/24' });
    h.resources.apply({ items: [doc], dryRun: true });
    expect(h.events.size()).toBe(0);
    h.resources.apply({ items: [doc] });
    h.resources.apply({ items: [doc] });
    h.resources.apply({ items: [{ ...doc, metadata: { name: 'blue', labels: { team: 'web' } } }] });
    expect(reasons((await h.get('/api/v1/events?kind=Network&name=blue')).body)).toEqual(['Created', 'Configured']);
    expect((await h.get('/api/v1/events?name=blue')).body.items[1].message).toBe('network configured (generation 1)');
  });

  test('a write that fails records nothing', () => {
    h.resources.createNetwork(net('a', { subnet: '10.0.0.0/16' }));
    expect(() => h.resources.createNetwork(net('b', { subnet: '10.0.5.0/24' }))).toThrow();
    expect(h.events.list({ name: 'b' })).toEqual([]);
  });

  test('agent endpoint up and down are Attached and Detached events of the endpoint', async () => {
    h.resources.createNetwork(net('blue', { subnet: '10.20.0.0/24' }));
    h.attach('h1', 'blue', 'web-1');
    h.handler.endpointDown('h1', 'web-1');
    const items = (await h.get('/api/v1/events?kind=ep&name=web-1')).body.items;
    expect(items.map((e: { reason: string }) => e.reason)).toEqual(['Attached', 'Detached']);
    expect(items[0].message).toMatch(/^attached on host "h1" with 10\.20\.0\.\d+ \(network "blue"\)$/);
  });

  test('host Ready, NotReady and Gone transitions, but no event for agents rewriting host status', async () => {
    h.handler.hello({ type: 'hello', host: 'h1', agentVersion: 't', appliedRevision: 0, endpoints: [] }, Date.now());
    h.tracker.check();
    h.live.connected('h1', Date.now(), 0);
    h.tracker.check();
    h.live.disconnected('h1', Date.now());
    h.handler.disconnected('h1', Date.now());
    h.tracker.check();
    h.tracker.check(Date.now() + h.config.hostGoneAfterMs + 1000);
    const items = (await h.get('/api/v1/events?kind=host&name=h1')).body.items;
    expect(items.map((e: { type: string; reason: string }) => `${e.type}/${e.reason}`)).toEqual(['Normal/Created', 'Normal/Ready', 'Warning/NotReady', 'Warning/Gone']);
  });

  test('network condition changes: HostsNotReady when a carrying host is not ready, Ready when it reports', async () => {
    h.resources.createNetwork(net('blue', { subnet: '10.20.0.0/24' }));
    h.tracker.check();
    h.attach('h1', 'blue');
    h.tracker.check();
    h.live.status('h1', Date.now(), h.store.revision(), { blue: { ready: true } });
    h.tracker.check();
    const items = (await h.get('/api/v1/events?kind=network&name=blue')).body.items;
    expect(items.map((e: { type: string; reason: string }) => `${e.type}/${e.reason}`)).toEqual(['Normal/Created', 'Warning/HostsNotReady', 'Normal/Ready']);
    expect(items[1].message).toContain('"h1" (waiting for the agent to report this network)');
  });

  test('MtuTooLarge shows as a warning when a host with a small underlay joins', () => {
    h.handler.hello({ type: 'hello', host: 'h1', agentVersion: 't', appliedRevision: 0, endpoints: [], underlayMtu: 9000 }, Date.now());
    h.resources.createNetwork(net('jumbo', { subnet: '10.0.0.0/24', mtu: 8950 }));
    h.tracker.check();
    h.handler.hello({ type: 'hello', host: 'h2', agentVersion: 't', appliedRevision: 0, endpoints: [], underlayMtu: 1500 }, Date.now());
    h.tracker.check();
    expect(h.events.list({ kind: 'Network', name: 'jumbo' }).map((e) => `${e.type}/${e.reason}`)).toEqual(['Normal/Created', 'Warning/MtuTooLarge']);
  });

  test('limit keeps the newest; a bad kind or limit is 400 Invalid', async () => {
    for (let i = 0; i < 5; i++) h.resources.createNetwork(net(`n${i}`, { subnet: `10.${i}.0.0/24` }));
    const r = await h.get('/api/v1/events?limit=2');
    expect(r.body.items.map((e: { involved: { name: string } }) => e.involved.name)).toEqual(['n3', 'n4']);
    expect((await h.get('/api/v1/events?kind=widget')).body).toMatchObject({ code: 'Invalid' });
    expect((await h.get('/api/v1/events?limit=0')).status).toBe(400);
    expect((await h.get('/api/v1/events?limit=abc')).status).toBe(400);
  });
});
