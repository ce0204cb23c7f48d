// spec.mtu against the hosts' underlays: a value no known underlay can
// carry is refused on every write path; a host that joins later with a
// smaller underlay is accepted and the network's status says so.
import { planHost } from '../../../../controller/planner/host-planner.js';
import { readPlanInput } from '../../../../controller/planner/plan-input.js';
import { apiHarness } from '../support/harness.js';

type Api = Awaited<ReturnType<typeof apiHarness>>;

const net = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Network',
  metadata: { name, ...metadata },
  spec,
});

describe('network MTU against the underlay', () => {
  let api: Api;
  const join = (host: string, underlayMtu: number) =>
    api.handler.hello({ type: 'hello', host, agentVersion: 't', appliedRevision: 0, endpoints: [], address: `192.0.2.${host.slice(1)}`, underlayMtu }, Date.now());

  beforeEach(async () => {
    api = await apiHarness();
  });
  afterEach(async () => api.close());

  test('create above the smallest underlay -> 400 Invalid at /spec/mtu naming the host and the maximum', async () => {
    join('h1', 9000);
    join('h2', 1500);
    const before = api.store.revision();
    const r = await api.call('POST', '/api/v1/networks', net('jumbo', { subnet: '10.0.0.0/24', mtu: 9000 }));
    expect(r.status).toBe(400);
    const expected = 'mtu 9000 is larger than host "h2" can carry over its underlay (1500 - 50 VXLAN overhead = 1450); use at most 1450 or raise the underlay MTU';
    expect(r.body).toMatchObject({ code: 'Invalid', field: '/spec/mtu', retriable: false });
    expect(r.body.message).toContain(expected);
    expect(r.body.details).toEqual([{ path: '/spec/mtu', message: expected, value: 9000, allowed: 'at most 1450' }]);
    expect(api.store.revision()).toBe(before);

    expect((await api.call('POST', '/api/v1/networks', net('jumbo', { subnet: '10.0.0.0/24', mtu: 1451 }))).status).toBe(400);
    const ok = await api.call('POST', '/api/v1/networks', net('jumbo', { subnet: '10.0.0.0/24', mtu: 1450 }));
    expect(ok.status).toBe(201);
    expect(ok.body.status.conditions[0].reason).not.toBe('MtuTooLarge');
  });

  test('with every underlay at 9000, up to 8950 is accepted', async () => {
    join('h1', 9000);
    join('h2', 9000);
    expect((await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24', mtu: 8950 }))).status).toBe(201);
    const r = await api.call('POST', '/api/v1/networks', net('b', { subnet: '10.1.0.0/24', mtu: 9000 }));
    expect(r.status).toBe(400);
    expect(r.body.details[0]).toMatchObject({ path: '/spec/mtu', allowed: 'at most 8950' });
    expect(r.body.message).toContain('host "h1"');
  });

  test('no host has reported an underlay MTU: 1500 is assumed, and the message says so', async () => {
    const r = await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24', mtu: 1500 }));
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('/spec/mtu');
    expect(r.body.message).toContain('no host has reported its underlay MTU yet, so 1500 is assumed');
    expect(r.body.message).toContain('use at most 1450');
    expect(r.body.details[0]).toMatchObject({ value: 1500, allowed: 'at most 1450' });
    expect((await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24', mtu: 1450 }))).status).toBe(201);
  });

  test('update to a too-large MTU -> 400; the stored network is unchanged', async () => {
    join('h1', 1500);
    const created = await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24', mtu: 1400 }));
    const r = await api.call('PUT', '/api/v1/networks/a', net('a', { subnet: '10.0.0.0/24', mtu: 9000 }, { resourceVersion: created.body.metadata.resourceVersion }));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'Invalid', field: '/spec/mtu' });
    expect(r.body.message).toContain('host "h1"');
    expect((await api.call('GET', '/api/v1/networks/a')).body.spec.mtu).toBe(1400);
  });

  test('apply (and its dry run) refuses the whole batch at /items/N/spec/mtu', async () => {
    join('h1', 9000);
    join('h2', 1500);
    const before = api.store.revision();
    const items = [net('ok', { subnet: '10.0.0.0/24' }), net('jumbo', { subnet: '10.1.0.0/24', mtu: 9000 })];
    for (const dryRun of [false, true]) {
      const r = await api.call('POST', '/api/v1/apply', { items, dryRun });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'Invalid', field: '/items/1/spec/mtu' });
      expect(r.body.message).toContain('host "h2"');
      expect(r.body.details).toEqual([expect.objectContaining({ path: '/items/1/spec/mtu', value: 9000, allowed: 'at most 1450' })]);
    }
    expect(api.store.revision()).toBe(before);
    expect((await api.call('GET', '/api/v1/networks/ok')).status).toBe(404);
  });

  test('a host joining later with a smaller underlay is accepted; the network says MtuTooLarge and plans keep spec.mtu', async () => {
    join('h1', 9000);
    expect((await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24', mtu: 8950 }))).status).toBe(201);
    expect((await api.call('POST', '/api/v1/networks', net('b', { subnet: '10.1.0.0/24' }))).status).toBe(201);

    expect(join('h3', 1500)).toEqual([]);
    expect((await api.call('GET', '/api/v1/hosts/h3')).body.status.underlayMtu).toBe(1500);

    const a = (await api.call('GET', '/api/v1/networks/a')).body;
    expect(a.status.mtu).toBe(8950);
    expect(a.status.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'MtuTooLarge', message: expect.stringContaining('host "h3" (underlay MTU 1500)') }),
    ]);
    expect(a.status.conditions[0].message).toContain('at most 1450');
    expect(a.status.conditions[0].message).not.toContain('"h1"');
    // A derived MTU follows each host's underlay, so it never exceeds one.
    expect((await api.call('GET', '/api/v1/networks/b')).body.status.conditions[0].reason).not.toBe('MtuTooLarge');

    // One L2 segment, one MTU: the small host gets spec.mtu like everyone else.
    const input = api.store.read(readPlanInput);
    expect(planHost(input, 'h3').networks.find((n) => n.name === 'a')?.mtu).toBe(8950);
    expect(planHost(input, 'h1').networks.find((n) => n.name === 'a')?.mtu).toBe(8950);
    expect(planHost(input, 'h3').networks.find((n) => n.name === 'b')?.mtu).toBe(1450);

    // The unchanged value is not refused (a label edit or re-apply still works); a new too-large one is.
    expect((await api.call('PUT', '/api/v1/networks/a', net('a', { subnet: '10.0.0.0/24', mtu: 8950 }, { labels: { x: 'y' } }))).status).toBe(200);
    expect((await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24', mtu: 8950 }, { labels: { x: 'y' } })] })).status).toBe(200);
    const raised = await api.call('PUT', '/api/v1/networks/a', net('a', { subnet: '10.0.0.0/24', mtu: 8000 }));
    expect(raised.status).toBe(400);
    expect(raised.body.message).toContain('host "h3"');

    const fixed = await api.call('PUT', '/api/v1/networks/a', net('a', { subnet: '10.0.0.0/24', mtu: 1450 }));
    expect(fixed.status).toBe(200);
    expect(fixed.body.status.conditions[0].reason).not.toBe('MtuTooLarge');
  });
});
