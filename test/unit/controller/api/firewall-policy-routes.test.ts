// /api/v1/firewallpolicies and FirewallPolicies through POST /apply: CRUD,
// generation, optimistic concurrency, validation with field paths, atomic
// multi-document applies, server dry runs, diff views, prune, schemas and
// the write events.
import { apiHarness } from '../support/harness.js';
import { eventsHarness } from '../support/events-harness.js';

type Api = Awaited<ReturnType<typeof apiHarness>>;

const BASE = '/api/v1/firewallpolicies';

const fwp = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'FirewallPolicy',
  metadata: { name, ...metadata },
  spec,
});
const net = (name: string, subnet: string, labels?: Record<string, string>) => ({ apiVersion: 'weft.dev/v1', kind: 'Network', metadata: labels ? { name, labels } : { name }, spec: { subnet } });

const DB_SPEC = {
  appliesTo: { network: 'db' },
  priority: 100,
  ingress: { defaultAction: 'deny', rules: [{ name: 'app', action: 'allow', from: [{ selector: { tier: 'app' } }], protocol: 'tcp', ports: [5432] }] },
};

const policies = (api: Api) => api.store.read((r) => r.listResources('FirewallPolicy'));
const names = (api: Api) => policies(api).map((p) => p.metadata.name);

describe('REST: /api/v1/firewallpolicies', () => {
  let api: Api;
  beforeEach(async () => {
    api = await apiHarness();
  });
  afterEach(async () => api.close());

  test('create, get, list, update and delete', async () => {
    const created = await api.call('POST', BASE, fwp('db-in', DB_SPEC, { labels: { tier: 'db' } }));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${BASE}/db-in`);
    expect(created.body).toMatchObject({ apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', spec: DB_SPEC });
    expect(created.body.metadata).toMatchObject({ name: 'db-in', labels: { tier: 'db' }, resourceVersion: '1', generation: 1 });
    expect(created.body.metadata.uid).toEqual(expect.any(String));
    expect(created.body.status.conditions[0]).toMatchObject({ type: 'Ready' });

    const got = await api.call('GET', `${BASE}/db-in`);
    expect(got.status).toBe(200);
    expect(got.body.spec).toEqual(DB_SPEC);

    const list = await api.call('GET', BASE);
    expect(list.body).toMatchObject({ apiVersion: 'weft.dev/v1', kind: 'FirewallPolicyList', revision: 1 });
    expect(list.body.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['db-in']);

    const spec = { ...DB_SPEC, priority: 50 };
    const updated = await api.call('PUT', `${BASE}/db-in`, fwp('db-in', spec, { labels: { tier: 'db' }, resourceVersion: '1' }));
    expect(updated.status).toBe(200);
    expect(updated.body.metadata).toMatchObject({ resourceVersion: '2', generation: 2 });
    expect(updated.body.spec.priority).toBe(50);

    const deleted = await api.call('DELETE', `${BASE}/db-in`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.metadata.name).toBe('db-in');
    const gone = await api.call('GET', `${BASE}/db-in`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ code: 'NotFound', message: 'firewallpolicy "db-in" does not exist' });
  });

  test('generation counts spec changes only: a label change keeps it, the same document again writes nothing', async () => {
    await api.call('POST', BASE, fwp('p', DB_SPEC));
    const relabelled = await api.call('PUT', `${BASE}/p`, fwp('p', DB_SPEC, { labels: { team: 'ops' } }));
    expect(relabelled.body.metadata).toMatchObject({ resourceVersion: '2', generation: 1 });
    const again = await api.call('PUT', `${BASE}/p`, fwp('p', DB_SPEC, { labels: { team: 'ops' } }));
    expect(again.body.metadata).toMatchObject({ resourceVersion: '2', generation: 1 });
    expect(api.store.revision()).toBe(2);
  });

  test('GET ?labelSelector= filters the list', async () => {
    await api.call('POST', BASE, fwp('a', {}, { labels: { tier: 'db' } }));
    await api.call('POST', BASE, fwp('b', {}, { labels: { tier: 'web' } }));
    await api.call('POST', BASE, fwp('c', {}));
    const only = async (q: string) => (await api.call('GET', `${BASE}?labelSelector=${encodeURIComponent(q)}`)).body.items.map((p: { metadata: { name: string } }) => p.metadata.name);
    expect(await only('tier=db')).toEqual(['a']);
    expect(await only('tier!=db')).toEqual(['b', 'c']);
    expect(await only('!tier')).toEqual(['c']);
    expect((await api.call('GET', `${BASE}?labelSelector=${encodeURIComponent('a=b=c')}`)).status).toBe(400);
  });

  test('apiVersion and kind may be left out on the typed route; a Network body is refused', async () => {
    expect((await api.call('POST', BASE, { metadata: { name: 'bare' }, spec: {} })).status).toBe(201);
    const wrong = await api.call('POST', BASE, net('x', '10.0.0.0/24'));
    expect(wrong.status).toBe(400);
    expect(wrong.body.details[0]).toMatchObject({ path: '/kind' });
  });

  test('POST of an existing name is 409 AlreadyExists; PUT of a missing one is 404; a name that differs from the URL is 400', async () => {
    await api.call('POST', BASE, fwp('p', {}));
    expect((await api.call('POST', BASE, fwp('p', {}))).body).toMatchObject({ code: 'AlreadyExists' });
    expect((await api.call('PUT', `${BASE}/nope`, fwp('nope', {}))).status).toBe(404);
    const mismatch = await api.call('PUT', `${BASE}/p`, fwp('q', {}));
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.details[0]).toMatchObject({ path: '/metadata/name' });
    expect((await api.call('DELETE', `${BASE}/nope`)).status).toBe(404);
  });

  test('a stale resourceVersion is 409 Conflict naming the changed fields', async () => {
    await api.call('POST', BASE, fwp('p', DB_SPEC));
    await api.call('PUT', `${BASE}/p`, fwp('p', { ...DB_SPEC, priority: 7 }));
    const stale = await api.call('PUT', `${BASE}/p`, fwp('p', { ...DB_SPEC, priority: 9 }, { resourceVersion: '1' }));
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('Conflict');
    expect(stale.body.details.map((d: { path: string }) => d.path)).toEqual(['/spec/priority']);
  });

  test('semantic problems are 400 Invalid with one detail per field', async () => {
    const r = await api.call(
      'POST',
      BASE,
      fwp('bad', { ingress: { rules: [{ action: 'allow', from: [{ cidr: '10.0.0.5/24' }], ports: ['@web'] }] } }),
    );
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('Invalid');
    expect(r.body.details.map((d: { path: string }) => d.path)).toEqual(['/spec/ingress/rules/0/from/0/cidr', '/spec/ingress/rules/0/ports', '/spec/ingress/rules/0/ports/0']);
    expect(api.store.revision()).toBe(0);
  });

  test('networks a policy names need not exist', async () => {
    const r = await api.call('POST', BASE, fwp('p', { appliesTo: { network: 'later' }, egress: { rules: [{ action: 'deny', to: [{ network: 'nowhere' }] }] } }));
    expect(r.status).toBe(201);
  });

  test('a status in the body is ignored: the controller owns it', async () => {
    await api.call('POST', BASE, { ...fwp('p', {}), status: { endpoints: 99 } });
    expect(policies(api)[0]?.status).toBeUndefined();
    const got = await api.call('GET', `${BASE}/p`);
    expect(got.body.status.endpoints).not.toBe(99);
  });

  test('the schema is listed and served', async () => {
    const list = await api.call('GET', '/api/v1/schemas');
    expect(list.body.items).toContainEqual({ kind: 'FirewallPolicy', apiVersion: 'weft.dev/v1', $id: 'https://weft.dev/schemas/v1/firewallpolicy.json', url: '/api/v1/schemas/firewallpolicy' });
    for (const name of ['firewallpolicy', 'firewallpolicies', 'fwp', 'policy', 'policies']) {
      const r = await api.call('GET', `/api/v1/schemas/${name}`);
      expect(r.status).toBe(200);
      expect(r.body.title).toBe('FirewallPolicy (weft.dev/v1)');
    }
  });
});

describe('POST /apply with FirewallPolicies', () => {
  let api: Api;
  beforeEach(async () => {
    api = await apiHarness();
  });
  afterEach(async () => api.close());

  test('several documents in one transaction, results in request order; a re-apply is unchanged', async () => {
    const items = [fwp('db-in', DB_SPEC), net('db', '10.10.3.0/24'), fwp('all-out', { egress: { defaultAction: 'allow' } })];
    const first = await api.call('POST', '/api/v1/apply', { items });
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: { kind: string; name: string; action: string }) => `${r.kind}/${r.name} ${r.action}`)).toEqual([
      'FirewallPolicy/db-in created',
      'Network/db created',
      'FirewallPolicy/all-out created',
    ]);
    const revision = api.store.revision();
    const again = await api.call('POST', '/api/v1/apply', { items });
    expect(again.body.results.every((r: { action: string }) => r.action === 'unchanged')).toBe(true);
    expect(api.store.revision()).toBe(revision);
  });

  test('atomic: one bad document and nothing is stored, every problem located under /items/N', async () => {
    const items = [fwp('good', DB_SPEC), fwp('bad', { ingress: { rules: [{ action: 'allow', protocol: 'icmp', ports: [1] }] } }), net('n', '10.0.0.1/24')];
    const r = await api.call('POST', '/api/v1/apply', { items });
    expect(r.status).toBe(400);
    expect(r.body.details.map((d: { path: string }) => d.path)).toEqual(['/items/1/spec/ingress/rules/0/ports', '/items/2/spec/subnet']);
    expect(api.store.revision()).toBe(0);
  });

  test('a server dry run stores nothing and shows the diff views', async () => {
    await api.call('POST', '/api/v1/apply', { items: [fwp('p', DB_SPEC, { labels: { a: 'b' } })] });
    const revision = api.store.revision();
    const changed = { ...DB_SPEC, priority: 5, egress: { defaultAction: 'deny' } };
    const r = await api.call('POST', '/api/v1/apply', { items: [fwp('p', changed, { labels: { a: 'b' } })], dryRun: true, diff: true });
    expect(r.body.dryRun).toBe(true);
    expect(r.body.results[0]).toMatchObject({ kind: 'FirewallPolicy', name: 'p', action: 'configured' });
    expect(r.body.results[0].live).toEqual({ metadata: { name: 'p', labels: { a: 'b' } }, spec: DB_SPEC });
    // The view lists spec fields in schema order: appliesTo, priority, portSets, ingress, egress.
    expect(Object.keys(r.body.results[0].merged.spec)).toEqual(['appliesTo', 'priority', 'ingress', 'egress']);
    expect(r.body.results[0].merged.spec.priority).toBe(5);
    expect(api.store.revision()).toBe(revision);
    expect(policies(api)[0]?.spec).toEqual(DB_SPEC);
  });

  test('prune deletes the selected policies the request no longer holds', async () => {
    const shop = { app: 'shop' };
    await api.call('POST', '/api/v1/apply', { items: [fwp('a', {}, { labels: shop }), fwp('b', {}, { labels: shop }), fwp('other', {}), net('n', '10.0.0.0/24', shop)] });
    const dry = await api.call('POST', '/api/v1/apply', { items: [fwp('a', {}, { labels: shop }), net('n', '10.0.0.0/24', shop)], prune: { selector: shop }, dryRun: true, diff: true });
    expect(dry.body.pruned).toEqual([{ kind: 'FirewallPolicy', name: 'b', live: { metadata: { name: 'b', labels: shop }, spec: {} } }]);
    expect(names(api)).toEqual(['a', 'b', 'other']);
    const r = await api.call('POST', '/api/v1/apply', { items: [fwp('a', {}, { labels: shop })], prune: { selector: shop } });
    expect(r.status).toBe(200);
    expect(r.body.pruned).toEqual([
      { kind: 'FirewallPolicy', name: 'b' },
      { kind: 'Network', name: 'n' },
    ]);
    expect(names(api)).toEqual(['a', 'other']);
  });

  test('prune by apply set: policies are labelled and pruned like the other kinds', async () => {
    await api.call('POST', '/api/v1/apply', { items: [fwp('a', {}), fwp('b', {})], prune: { applyset: 'fw' } });
    expect(policies(api).map((p) => p.metadata.labels)).toEqual([{ 'weft.dev/applyset': 'fw' }, { 'weft.dev/applyset': 'fw' }]);
    const r = await api.call('POST', '/api/v1/apply', { items: [fwp('a', {})], prune: { applyset: 'fw' } });
    expect(r.body.pruned).toEqual([{ kind: 'FirewallPolicy', name: 'b' }]);
    expect(names(api)).toEqual(['a']);
  });
});

describe('events of FirewallPolicy writes', () => {
  test('Created, Configured (spec or labels, with the generation) and Deleted; a write that changes nothing records nothing', async () => {
    const h = await eventsHarness();
    try {
      h.resources.createFirewallPolicy(fwp('p', DB_SPEC));
      h.resources.updateFirewallPolicy('p', fwp('p', { ...DB_SPEC, priority: 1 }));
      h.resources.updateFirewallPolicy('p', fwp('p', { ...DB_SPEC, priority: 1 }));
      h.resources.updateFirewallPolicy('p', fwp('p', { ...DB_SPEC, priority: 1 }, { labels: { a: 'b' } }));
      h.resources.deleteFirewallPolicy('p');
      const r = await h.get('/api/v1/events?kind=firewallpolicy&name=p');
      expect(r.status).toBe(200);
      expect(r.body.items.map((e: { reason: string; message: string; count: number; involved: unknown }) => [e.reason, e.message, e.count, e.involved])).toEqual([
        ['Created', 'firewallpolicy created (generation 1)', 1, { kind: 'FirewallPolicy', name: 'p' }],
        ['Configured', 'firewallpolicy configured (generation 2)', 2, { kind: 'FirewallPolicy', name: 'p' }],
        ['Deleted', 'firewallpolicy deleted', 1, { kind: 'FirewallPolicy', name: 'p' }],
      ]);
    } finally {
      await h.close();
    }
  });
});
