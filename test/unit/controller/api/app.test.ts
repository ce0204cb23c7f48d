import { MAX_BODY_BYTES } from '../../../../model/rest.js';
import { apiHarness, TOKENS } from '../support/harness.js';

type Api = Awaited<ReturnType<typeof apiHarness>>;

const net = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Network',
  metadata: { name, ...metadata },
  spec,
});

describe('REST API', () => {
  let api: Api;
  beforeEach(async () => {
    api = await apiHarness();
  });
  afterEach(async () => api.close());

  describe('auth', () => {
    test('/healthz needs no token', async () => {
      const r = await api.call('GET', '/healthz', undefined, null);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'ok', revision: 0 });
    });

    test.each([
      ['no token', null],
      ['a wrong token', 'f'.repeat(64)],
      ['the agent token', TOKENS.agent],
      ['a short token', 'abc'],
    ])('%s -> 401 JSON', async (_label, token) => {
      const r = await api.call('GET', '/api/v1/networks', undefined, token);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'Unauthorized', retriable: false });
      expect(r.headers.get('www-authenticate')).toContain('Bearer');
    });

    test('an unauthenticated write stores nothing', async () => {
      const r = await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24' }), null);
      expect(r.status).toBe(401);
      expect(api.store.revision()).toBe(0);
    });
  });

  describe('networks', () => {
    test('create, get, list, update and delete', async () => {
      const created = await api.call('POST', '/api/v1/networks', net('web', { subnet: '10.0.0.0/24' }, { labels: { tier: 'front' } }));
      expect(created.status).toBe(201);
      expect(created.body.metadata).toMatchObject({ name: 'web', resourceVersion: '1', generation: 1, labels: { tier: 'front' } });
      expect(created.body.status).toMatchObject({ vni: 4096, mtu: 1450, gateway: '10.0.0.1', bridge: 'wb-001000', endpoints: 0 });
      expect(created.body.status.conditions[0]).toMatchObject({ type: 'Ready' });

      const got = await api.call('GET', '/api/v1/networks/web');
      expect(got.status).toBe(200);
      expect(got.body.spec).toEqual({ subnet: '10.0.0.0/24' });

      const list = await api.call('GET', '/api/v1/networks');
      expect(list.body).toMatchObject({ apiVersion: 'weft.dev/v1', kind: 'NetworkList', revision: 1 });
      expect(list.body.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual(['web']);

      const updated = await api.call('PUT', '/api/v1/networks/web', net('web', { subnet: '10.0.0.0/24', mtu: 1400 }, { resourceVersion: '1' }));
      expect(updated.status).toBe(200);
      expect(updated.body.metadata).toMatchObject({ resourceVersion: '2', generation: 2 });
      expect(updated.body.status).toMatchObject({ vni: 4096, mtu: 1400 });

      const deleted = await api.call('DELETE', '/api/v1/networks/web');
      expect(deleted.status).toBe(200);
      expect((await api.call('GET', '/api/v1/networks/web')).status).toBe(404);
      expect(api.store.read((r) => r.listVnis().size)).toBe(0);
    });

    test('apiVersion and kind may be left out on the typed route', async () => {
      const r = await api.call('POST', '/api/v1/networks', { metadata: { name: 'a' }, spec: { subnet: '10.0.0.0/24' } });
      expect(r.status).toBe(201);
    });

    test('creating an existing name -> 409 AlreadyExists', async () => {
      await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24' }));
      const r = await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.9.0.0/24' }));
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('AlreadyExists');
    });

    test('unknown fields and wrong types -> 400 Invalid with JSON-pointer paths', async () => {
      const r = await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24', mtu: 'big', subnett: 'x' }));
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('Invalid');
      const paths = r.body.details.map((d: { path: string }) => d.path);
      expect(paths).toEqual(expect.arrayContaining(['/spec/mtu', '/spec/subnett']));
      expect(r.body.field).toBeDefined();
      expect(r.body.retriable).toBe(false);
    });

    test('semantic errors carry their field: host bits set in the subnet', async () => {
      const r = await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.5/24' }));
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('/spec/subnet');
    });

    test('overlapping subnets -> 409 Overlap naming the other network', async () => {
      await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/16' }));
      const r = await api.call('POST', '/api/v1/networks', net('b', { subnet: '10.0.5.0/24' }));
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('Overlap');
      expect(r.body.field).toBe('/spec/subnet');
      expect(r.body.message).toContain('"a"');
    });

    test('a VNI another network has -> 409 Overlap', async () => {
      const a = await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24' }));
      const r = await api.call('POST', '/api/v1/networks', net('b', { subnet: '10.1.0.0/24', vni: a.body.status.vni }));
      expect(r.status).toBe(409);
      expect(r.body.field).toBe('/spec/vni');
    });

    test('stale resourceVersion -> 409 Conflict saying what differs', async () => {
      await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24' }));
      await api.call('PUT', '/api/v1/networks/a', net('a', { subnet: '10.0.0.0/24', mtu: 1400 }));
      const r = await api.call('PUT', '/api/v1/networks/a', net('a', { subnet: '10.0.0.0/24', mtu: 1300 }, { resourceVersion: '1' }));
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('Conflict');
      expect(r.body.retriable).toBe(true);
      expect(r.body.message).toContain('resourceVersion 2');
      expect(r.body.message).toContain('/spec/mtu');
      expect(r.body.details).toEqual([expect.objectContaining({ path: '/spec/mtu', value: 1400 })]);
    });

    test('name mismatch between URL and body -> 400', async () => {
      await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24' }));
      const r = await api.call('PUT', '/api/v1/networks/a', net('b', { subnet: '10.0.0.0/24' }));
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'Invalid', field: '/metadata/name' });
    });

    test('PUT of a missing network -> 404', async () => {
      const r = await api.call('PUT', '/api/v1/networks/nope', net('nope', { subnet: '10.0.0.0/24' }));
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('NotFound');
    });

    test('delete is refused while endpoints exist on the network, listing them', async () => {
      await api.call('POST', '/api/v1/networks', net('a', { subnet: '10.0.0.0/24' }));
      api.handler.hello(
        {
          type: 'hello', host: 'h1', agentVersion: 't', appliedRevision: 0,
          endpoints: [{ name: 'c1.eth0', network: 'a', containerId: 'c1', ifname: 'eth0', ip: '10.0.0.5', mac: '02:00:00:00:00:05', hostIfname: 'wv-1', netns: '/x', labels: {} }],
        },
        Date.now(),
      );
      const r = await api.call('DELETE', '/api/v1/networks/a');
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('Conflict');
      expect(r.body.message).toContain('c1.eth0');
    });
  });

  describe('bodies and routes', () => {
    test('garbage JSON -> 400 BadJSON', async () => {
      const r = await api.call('POST', '/api/v1/networks', '{"metadata": ');
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('BadJSON');
    });

    test('a body over MAX_BODY_BYTES -> 413 TooLarge', async () => {
      const big = JSON.stringify({ items: [], pad: 'x'.repeat(MAX_BODY_BYTES + 10) });
      const r = await api.call('POST', '/api/v1/apply', big);
      expect(r.status).toBe(413);
      expect(r.body.code).toBe('TooLarge');
    });

    test('unknown route -> 404 JSON', async () => {
      const r = await api.call('GET', '/api/v1/nothing');
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('NotFound');
      expect((await api.call('GET', '/elsewhere', undefined, null)).body.code).toBe('NotFound');
    });
  });

  describe('apply', () => {
    const endpoint = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({
      apiVersion: 'weft.dev/v1',
      kind: 'Endpoint',
      metadata: labels ? { name, labels } : { name },
      spec,
    });

    test('creates everything in one revision; an identical re-apply changes nothing', async () => {
      const items = [
        endpoint('db.eth0', { network: 'a', host: 'h1', containerId: 'db', ifname: 'eth0', ip: '10.0.0.50' }, { app: 'db' }),
        net('a', { subnet: '10.0.0.0/24' }),
        { apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: 'h1' }, spec: { maxEndpoints: 10 } },
      ];
      const first = await api.call('POST', '/api/v1/apply', { items });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        results: [
          { kind: 'Endpoint', name: 'db.eth0', action: 'created' },
          { kind: 'Network', name: 'a', action: 'created' },
          { kind: 'Host', name: 'h1', action: 'created' },
        ],
        revision: 1,
      });
      const again = await api.call('POST', '/api/v1/apply', { items });
      expect(again.body.results.map((r: { action: string }) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
      expect(again.body.revision).toBe(1);

      const changed = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24', mtu: 1400 })] });
      expect(changed.body).toEqual({ results: [{ kind: 'Network', name: 'a', action: 'configured' }], revision: 2 });

      const ep = await api.call('GET', '/api/v1/endpoints/db.eth0');
      expect(ep.body.status).toMatchObject({ ip: '10.0.0.50' });
      expect(ep.body.status.conditions[0]).toMatchObject({ status: 'False', reason: 'NotAttached' });
      expect(api.store.read((r) => r.getReservation('a', '10.0.0.50'))).toMatchObject({ owner: 'db', host: 'h1', source: 'declared' });
    });

    test('one bad document -> nothing stored, revision unchanged, paths point into items', async () => {
      await api.call('POST', '/api/v1/apply', { items: [net('base', { subnet: '10.9.0.0/24' })] });
      const items = [net('a', { subnet: '10.0.0.0/24' }), net('b', { subnet: '10.1.0.0/24', colour: 'red' })];
      const r = await api.call('POST', '/api/v1/apply', { items });
      expect(r.status).toBe(400);
      expect(r.body.details[0].path).toBe('/items/1/spec/colour');
      expect(api.store.revision()).toBe(1);
      expect((await api.call('GET', '/api/v1/networks/a')).status).toBe(404);
    });

    test('a conflict found while writing rolls back the earlier writes of the same apply', async () => {
      const items = [net('a', { subnet: '10.0.0.0/24' }), net('b', { subnet: '10.0.0.0/25' })];
      const r = await api.call('POST', '/api/v1/apply', { items });
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('Overlap');
      expect(r.body.details[0].path).toBe('/items/1/spec/subnet');
      expect(api.store.revision()).toBe(0);
      expect(api.store.read((r2) => r2.listResources('Network'))).toEqual([]);
    });

    test('an endpoint naming a missing network is Invalid at its spec.network', async () => {
      const r = await api.call('POST', '/api/v1/apply', { items: [endpoint('x.eth0', { network: 'nope', host: 'h1', containerId: 'x', ifname: 'eth0' })] });
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('/items/0/spec/network');
    });

    test('dryRun validates and reports without storing', async () => {
      const r = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' })], dryRun: true });
      expect(r.body).toEqual({ results: [{ kind: 'Network', name: 'a', action: 'created' }], revision: 0, dryRun: true });
      expect(api.store.read((r2) => r2.listResources('Network'))).toEqual([]);
    });

    test('the same resource twice in one request is refused', async () => {
      const r = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' }), net('a', { subnet: '10.0.0.0/24' })] });
      expect(r.status).toBe(400);
      expect(r.body.details[0].path).toBe('/items/1/metadata/name');
    });

    test('a declared static address another declaration holds -> AddressInUse', async () => {
      await api.call('POST', '/api/v1/apply', {
        items: [net('a', { subnet: '10.0.0.0/24' }), endpoint('x.eth0', { network: 'a', host: 'h1', containerId: 'x', ifname: 'eth0', ip: '10.0.0.9' })],
      });
      const r = await api.call('POST', '/api/v1/apply', { items: [endpoint('y.eth0', { network: 'a', host: 'h1', containerId: 'y', ifname: 'eth0', ip: '10.0.0.9' })] });
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('AddressInUse');
      expect(r.body.message).toContain('x');
      const gw = await api.call('POST', '/api/v1/apply', { items: [endpoint('z.eth0', { network: 'a', host: 'h1', containerId: 'z', ifname: 'eth0', ip: '10.0.0.1' })] });
      expect(gw.status).toBe(400);
      expect(gw.body.details[0]).toMatchObject({ path: '/items/0/spec/ip', allowed: '10.0.0.2 - 10.0.0.254' });
    });
  });

  describe('endpoints and hosts', () => {
    beforeEach(async () => {
      await api.call('POST', '/api/v1/apply', {
        items: [
          net('a', { subnet: '10.0.0.0/24' }),
          net('b', { subnet: '10.1.0.0/24' }),
          { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'decl.eth0', labels: { app: 'db' } }, spec: { network: 'b', host: 'h2', containerId: 'decl', ifname: 'eth0', ip: '10.1.0.99' } },
        ],
      });
      const rep = (name: string, network: string, ip: string, labels: Record<string, string>) => ({
        name, network, containerId: name.split('.')[0] as string, ifname: 'eth0', ip, mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/x', labels,
      });
      api.handler.hello({ type: 'hello', host: 'h1', agentVersion: 't', appliedRevision: 0, endpoints: [rep('web1.eth0', 'a', '10.0.0.5', { app: 'web' }), rep('web2.eth0', 'a', '10.0.0.6', { app: 'web', canary: 'yes' })] }, Date.now());
    });

    test('list with filters: network, host, labelSelector', async () => {
      const names = async (q: string) => (await api.call('GET', `/api/v1/endpoints${q}`)).body.items.map((e: { metadata: { name: string } }) => e.metadata.name);
      expect(await names('')).toEqual(['decl.eth0', 'web1.eth0', 'web2.eth0']);
      expect(await names('?network=b')).toEqual(['decl.eth0']);
      expect(await names('?host=h1')).toEqual(['web1.eth0', 'web2.eth0']);
      expect(await names('?labelSelector=app=web,canary')).toEqual(['web2.eth0']);
      expect(await names('?labelSelector=app!=web')).toEqual(['decl.eth0']);
      const bad = await api.call('GET', '/api/v1/endpoints?labelSelector=a=b=c');
      expect(bad.status).toBe(400);
      expect(bad.body.field).toBe('labelSelector');
    });

    test('an attached endpoint shows its status; network status counts endpoints', async () => {
      const ep = await api.call('GET', '/api/v1/endpoints/web1.eth0');
      expect(ep.body.status).toMatchObject({ ip: '10.0.0.5', mac: '02:00:00:00:00:01', phase: 'Attached' });
      expect((await api.call('GET', '/api/v1/networks/a')).body.status.endpoints).toBe(2);
      const list = await api.call('GET', '/api/v1/endpoints');
      expect(list.body.kind).toBe('EndpointList');
    });

    test('DELETE removes a declared endpoint and its reservation; an attached one is refused', async () => {
      const r = await api.call('DELETE', '/api/v1/endpoints/decl.eth0');
      expect(r.status).toBe(200);
      expect(api.store.read((s) => s.getReservation('b', '10.1.0.99'))).toBeUndefined();
      const refused = await api.call('DELETE', '/api/v1/endpoints/web1.eth0');
      expect(refused.status).toBe(409);
      expect((await api.call('DELETE', '/api/v1/endpoints/nope')).status).toBe(404);
    });

    test('hosts: state, address, blocks and endpoints', async () => {
      api.live.connected('h1', Date.now(), 0);
      const list = await api.call('GET', '/api/v1/hosts');
      expect(list.body.kind).toBe('HostList');
      const h = await api.call('GET', '/api/v1/hosts/h1');
      expect(h.body.status).toMatchObject({ state: 'Ready', endpoints: 2, agentVersion: 't' });
      expect(h.body.status.blocks.map((b: { network: string }) => b.network).sort()).toEqual(['a', 'b']);
      api.live.disconnected('h1', Date.now());
      expect((await api.call('GET', '/api/v1/hosts/h1')).body.status.state).toBe('NotReady');
      expect((await api.call('GET', '/api/v1/hosts/zz')).status).toBe(404);
    });
  });
});
