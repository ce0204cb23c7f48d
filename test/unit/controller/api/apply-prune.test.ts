// POST /api/v1/apply with diff views, server dry runs and prune: what the
// CLI's `apply --dry-run=server`, `diff` and `apply --prune` stand on.
import { apiHarness } from '../support/harness.js';

type Api = Awaited<ReturnType<typeof apiHarness>>;

const net = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Network',
  metadata: labels ? { name, labels } : { name },
  spec,
});
const endpoint = (name: string, network: string, labels?: Record<string, string>) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Endpoint',
  metadata: labels ? { name, labels } : { name },
  spec: { network, host: 'h1', containerId: name.split('.')[0], ifname: 'eth0' },
});

/** Everything the store holds, to prove a refused or simulated apply changed nothing. */
const dump = (api: Api) =>
  api.store.read((r) =>
    JSON.stringify([r.revision(), r.listResources('Network'), r.listResources('Endpoint'), [...r.listVnis()], r.listBlocks(), r.listReservations(), r.listEndpointRecords()]),
  );

const names = (api: Api, kind: 'Network' | 'Endpoint') => api.store.read((r) => r.listResources(kind).map((x) => x.metadata.name).sort());

describe('POST /apply: diff views, dry runs, prune', () => {
  let api: Api;
  beforeEach(async () => {
    api = await apiHarness();
  });
  afterEach(async () => api.close());

  describe('diff views', () => {
    test('a new network has no live view; its merged view carries the allocated VNI and the default gateway and MTU', async () => {
      const r = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' })], dryRun: true, diff: true });
      expect(r.status).toBe(200);
      expect(r.body.results).toEqual([
        {
          kind: 'Network',
          name: 'a',
          action: 'created',
          merged: {
            metadata: { name: 'a' },
            spec: { subnet: '10.0.0.0/24', gateway: '10.0.0.1', mtu: 1450, vni: 4096 },
            defaulted: ['/spec/gateway', '/spec/vni', '/spec/mtu'],
          },
        },
      ]);
      expect(api.store.revision()).toBe(0);
    });

    test('an unchanged re-apply has equal live and merged views', async () => {
      const items = [net('a', { subnet: '10.0.0.0/24' }, { team: 'x' }), endpoint('web.eth0', 'a')];
      await api.call('POST', '/api/v1/apply', { items });
      const r = await api.call('POST', '/api/v1/apply', { items, dryRun: true, diff: true });
      for (const res of r.body.results) {
        expect(res.action).toBe('unchanged');
        expect(res.merged).toEqual(res.live);
      }
    });

    test('a changed field shows in merged; explicit values replace defaults', async () => {
      await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' })] });
      const r = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24', mtu: 1400 })], dryRun: true, diff: true });
      const [res] = r.body.results;
      expect(res.action).toBe('configured');
      expect(res.live.spec.mtu).toBe(1450);
      expect(res.live.defaulted).toContain('/spec/mtu');
      expect(res.merged.spec.mtu).toBe(1400);
      expect(res.merged.defaulted).not.toContain('/spec/mtu');
    });

    test('without diff the results stay as before', async () => {
      const r = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' })] });
      expect(r.body).toEqual({ results: [{ kind: 'Network', name: 'a', action: 'created' }], revision: 1 });
    });
  });

  describe('prune', () => {
    const base = () => [
      net('keep', { subnet: '10.0.0.0/24' }, { app: 'x' }),
      net('old', { subnet: '10.1.0.0/24' }, { app: 'x' }),
      net('other', { subnet: '10.2.0.0/24' }, { app: 'y' }),
      net('nolabel', { subnet: '10.3.0.0/24' }),
    ];

    test('removes only the matching resources the request does not hold, in the same revision as the writes', async () => {
      await api.call('POST', '/api/v1/apply', { items: base() });
      const r = await api.call('POST', '/api/v1/apply', { items: [net('keep', { subnet: '10.0.0.0/24', mtu: 1400 }, { app: 'x' })], prune: { selector: { app: 'x' } } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ results: [{ kind: 'Network', name: 'keep', action: 'configured' }], pruned: [{ kind: 'Network', name: 'old' }], revision: 2 });
      expect(names(api, 'Network')).toEqual(['keep', 'nolabel', 'other']);
      expect(api.store.read((r2) => r2.getVni('old'))).toBeUndefined();
    });

    test('a dry run reports the prune and stores nothing', async () => {
      await api.call('POST', '/api/v1/apply', { items: base() });
      const before = dump(api);
      const r = await api.call('POST', '/api/v1/apply', { items: [base()[0]], prune: { selector: { app: 'x' } }, dryRun: true, diff: true });
      expect(r.body.pruned).toEqual([{ kind: 'Network', name: 'old', live: expect.objectContaining({ metadata: { name: 'old', labels: { app: 'x' } } }) }]);
      expect(dump(api)).toBe(before);
    });

    test('a network with a declared endpoint is refused with 409 naming it, and nothing of the apply is stored', async () => {
      await api.call('POST', '/api/v1/apply', { items: [...base(), endpoint('db.eth0', 'old')] });
      const before = dump(api);
      const r = await api.call('POST', '/api/v1/apply', { items: [net('keep', { subnet: '10.0.0.0/24', mtu: 1400 }, { app: 'x' })], prune: { selector: { app: 'x' } } });
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('Conflict');
      expect(r.body.field).toBe('/prune');
      expect(r.body.message).toContain('network "old" is still used by endpoint "db.eth0"');
      expect(r.body.message).toContain('--cascade');
      expect(dump(api)).toBe(before);
    });

    test('--cascade takes the declared endpoints of a pruned network along', async () => {
      await api.call('POST', '/api/v1/apply', { items: [...base(), endpoint('db.eth0', 'old'), endpoint('web.eth0', 'keep')] });
      const r = await api.call('POST', '/api/v1/apply', { items: [base()[0], endpoint('web.eth0', 'keep')], prune: { selector: { app: 'x' }, cascade: true } });
      expect(r.status).toBe(200);
      expect(r.body.pruned).toEqual([
        { kind: 'Endpoint', name: 'db.eth0', cascadeFrom: 'old' },
        { kind: 'Network', name: 'old' },
      ]);
      expect(names(api, 'Endpoint')).toEqual(['web.eth0']);
    });

    test('an endpoint the request itself declares on a pruned network blocks it even with cascade', async () => {
      await api.call('POST', '/api/v1/apply', { items: [...base(), endpoint('db.eth0', 'old')] });
      const r = await api.call('POST', '/api/v1/apply', { items: [endpoint('db.eth0', 'old')], prune: { selector: { app: 'x' }, cascade: true } });
      expect(r.status).toBe(409);
      expect(r.body.message).toContain('endpoint "db.eth0" (declared in the applied files');
    });

    test('an attached endpoint blocks even with cascade', async () => {
      await api.call('POST', '/api/v1/apply', { items: base() });
      api.handler.hello(
        {
          type: 'hello', host: 'h1', agentVersion: 't', appliedRevision: 0,
          endpoints: [{ name: 'run1.eth0', network: 'old', containerId: 'run1', ifname: 'eth0', ip: '10.1.0.5', mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/x', labels: { app: 'x' } }],
        },
        Date.now(),
      );
      const before = dump(api);
      const r = await api.call('POST', '/api/v1/apply', { items: [base()[0]], prune: { selector: { app: 'x' }, cascade: true } });
      expect(r.status).toBe(409);
      expect(r.body.message).toContain('endpoint "run1.eth0" (attached on host "h1" for container run1');
      expect(r.body.message).toContain('--cascade never removes attached endpoints');
      expect(dump(api)).toBe(before);
    });

    test('declared endpoints are pruned before their network, which then goes too', async () => {
      await api.call('POST', '/api/v1/apply', { items: [...base(), endpoint('db.eth0', 'old', { app: 'x' })] });
      const r = await api.call('POST', '/api/v1/apply', { items: [base()[0]], prune: { selector: { app: 'x' } } });
      expect(r.status).toBe(200);
      expect(r.body.pruned).toEqual([
        { kind: 'Endpoint', name: 'db.eth0' },
        { kind: 'Network', name: 'old' },
      ]);
    });

    test('an apply set labels every item and prunes only its own members', async () => {
      const first = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' }), net('b', { subnet: '10.1.0.0/24' })], prune: { applyset: 'lab' } });
      expect(first.body.pruned).toEqual([]);
      await api.call('POST', '/api/v1/apply', { items: [net('c', { subnet: '10.2.0.0/24' })] });
      expect(api.store.read((r) => r.getResource('Network', 'a')?.metadata.labels)).toEqual({ 'weft.dev/applyset': 'lab' });
      const r = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' })], prune: { applyset: 'lab' } });
      expect(r.body.results).toEqual([{ kind: 'Network', name: 'a', action: 'unchanged' }]);
      expect(r.body.pruned).toEqual([{ kind: 'Network', name: 'b' }]);
      expect(names(api, 'Network')).toEqual(['a', 'c']);
    });

    test('a stored resource of another apply set is not taken over (its next prune would delete what the other set declares)', async () => {
      expect((await api.call('POST', '/api/v1/apply', { items: [net('shared', { subnet: '10.0.0.0/24' })], prune: { applyset: 'team1' } })).status).toBe(200);
      const before = dump(api);
      const r = await api.call('POST', '/api/v1/apply', { items: [net('shared', { subnet: '10.0.0.0/24' })], prune: { applyset: 'team2' } });
      expect(r.status).toBe(409);
      expect(r.body.details[0]).toMatchObject({ path: '/items/0/metadata/labels/weft.dev~1applyset', value: 'team1', allowed: 'team2' });
      expect(dump(api)).toBe(before);
    });

    test('a document of another apply set is refused at its label', async () => {
      const r = await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' }, { 'weft.dev/applyset': 'other' })], prune: { applyset: 'lab' } });
      expect(r.status).toBe(400);
      expect(r.body.details[0]).toMatchObject({ path: '/items/0/metadata/labels/weft.dev~1applyset', value: 'other', allowed: 'lab' });
    });

    test.each([
      [{}, '/prune'],
      [{ selector: {} }, '/prune'],
      [{ selector: { 'bad key!': 'x' } }, '/prune/selector/bad key!'],
      [{ selector: { app: 'not valid' } }, '/prune/selector/app'],
      [{ applyset: '' }, '/prune/applyset'],
      [{ applyset: 'x', cascade: 'yes' }, '/prune/cascade'],
      [{ applyset: 'x', everything: true }, '/prune/everything'],
      ['all', '/prune'],
    ])('a malformed prune %j is Invalid at %s and prunes nothing', async (prune, path) => {
      await api.call('POST', '/api/v1/apply', { items: [net('a', { subnet: '10.0.0.0/24' })] });
      const r = await api.call('POST', '/api/v1/apply', { items: [], prune });
      expect(r.status).toBe(400);
      expect(r.body.details[0].path).toBe(path);
      expect(names(api, 'Network')).toEqual(['a']);
    });
  });
});
