// /api/v1/firewalls and Firewalls through POST /apply: CRUD, allocated
// addresses in the status, readiness from the agent's report, validation
// with field paths.
import { apiHarness } from '../support/harness.js';

type Api = Awaited<ReturnType<typeof apiHarness>>;

const BASE = '/api/v1/firewalls';
const net = (name: string, subnet: string) => ({ apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec: { subnet } });
const firewall = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ apiVersion: 'weft.dev/v1', kind: 'Firewall', metadata: { name: 'edge', ...metadata }, spec });
const SPEC = { host: 'h1', networks: [{ network: 'front' }, { network: 'back' }], rules: [{ name: 'web', action: 'allow', from: [{ network: 'front' }], protocol: 'tcp', ports: [80] }] };

describe('REST: /api/v1/firewalls', () => {
  let api: Api;
  beforeEach(async () => {
    api = await apiHarness();
    await api.call('POST', '/api/v1/apply', { items: [net('front', '10.1.0.0/24'), net('back', '10.2.0.0/24')] });
  });
  afterEach(async () => api.close());

  test('create, get, list, update and delete; the status shows the allocated addresses', async () => {
    const created = await api.call('POST', BASE, firewall(SPEC));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${BASE}/edge`);
    expect(created.body.status.interfaces.map((i: { network: string; ip: string }) => `${i.network}:${i.ip}`)).toEqual(['front:10.1.0.254', 'back:10.2.0.254']);
    expect(created.body.status).toMatchObject({ ready: false, hosts: { h1: { ready: false } } });
    expect(created.body.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'AgentNotConnected' });

    const list = await api.call('GET', BASE);
    expect(list.body).toMatchObject({ kind: 'FirewallList' });
    expect(list.body.items.map((f: { metadata: { name: string } }) => f.metadata.name)).toEqual(['edge']);

    const updated = await api.call('PUT', `${BASE}/edge`, firewall({ ...SPEC, defaultAction: 'reject' }));
    expect(updated.body.metadata.generation).toBe(2);

    expect((await api.call('DELETE', `${BASE}/edge`)).status).toBe(200);
    expect((await api.call('GET', `${BASE}/edge`)).status).toBe(404);
  });

  test('ready once its host reports the current generation; counters come from that report', async () => {
    await api.call('POST', BASE, firewall(SPEC));
    api.live.connected('h1', Date.now(), 0);
    api.live.status('h1', Date.now(), 5, {}, {
      vnfs: [{ kind: 'Firewall', name: 'edge', generation: 1, ready: true, interfaces: [], counters: [{ rule: 'web', packets: 3, bytes: 180 }, { rule: 'default', packets: 1, bytes: 60 }] }],
    });
    const got = await api.call('GET', `${BASE}/edge`);
    expect(got.body.status).toMatchObject({ ready: true, observedGeneration: 1, counters: [{ rule: 'web', packets: 3 }, { rule: 'default', packets: 1 }] });
    expect(got.body.status.conditions[0]).toMatchObject({ status: 'True', reason: 'Ready' });
  });

  test('refuses bad documents with the field at fault', async () => {
    const one = await api.call('POST', BASE, firewall({ ...SPEC, networks: [{ network: 'front' }] }));
    expect(one.status).toBe(400);
    expect(JSON.stringify(one.body)).toContain('/spec/networks');
    const twice = await api.call('POST', BASE, firewall({ ...SPEC, networks: [{ network: 'front' }, { network: 'front' }] }));
    expect(twice.status).toBe(400);
    expect(JSON.stringify(twice.body)).toContain('listed twice');
    const badPeer = await api.call('POST', BASE, firewall({ ...SPEC, rules: [{ action: 'allow', to: [{ cidr: '10.2.0.1/24' }] }] }));
    expect(badPeer.status).toBe(400);
    expect(JSON.stringify(badPeer.body)).toContain('/spec/rules/0/to/0/cidr');
    const missing = await api.call('POST', BASE, firewall({ ...SPEC, networks: [{ network: 'front' }, { network: 'gone' }] }));
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('/spec/networks/1/network');
  });

  test('goes through POST /apply with the networks it names in the same request', async () => {
    const res = await api.call('POST', '/api/v1/apply', { items: [firewall({ ...SPEC, networks: [{ network: 'front' }, { network: 'third' }] }), net('third', '10.3.0.0/24')] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { kind: string; action: string }) => `${r.kind}:${r.action}`)).toEqual(['Firewall:created', 'Network:created']);
  });
});
