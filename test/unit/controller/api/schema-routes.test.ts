import { KINDS } from '../../../../model/kinds.js';
import { exportKindSchema } from '../../../../model/schema-export.js';
import { apiHarness } from '../support/harness.js';

type Api = Awaited<ReturnType<typeof apiHarness>>;

describe('GET /api/v1/schemas', () => {
  let api: Api;
  beforeEach(async () => {
    api = await apiHarness();
  });
  afterEach(async () => api.close());

  test('lists every kind with its $id and URL', async () => {
    const r = await api.call('GET', '/api/v1/schemas');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      apiVersion: 'weft.dev/v1',
      kind: 'SchemaList',
      items: KINDS.map((kind) => ({ kind, apiVersion: 'weft.dev/v1', $id: `https://weft.dev/schemas/v1/${kind.toLowerCase()}.json`, url: `/api/v1/schemas/${kind.toLowerCase()}` })),
    });
    expect(r.body.items.slice(0, 4)).toEqual([
      { kind: 'Network', apiVersion: 'weft.dev/v1', $id: 'https://weft.dev/schemas/v1/network.json', url: '/api/v1/schemas/network' },
      { kind: 'Endpoint', apiVersion: 'weft.dev/v1', $id: 'https://weft.dev/schemas/v1/endpoint.json', url: '/api/v1/schemas/endpoint' },
      { kind: 'Host', apiVersion: 'weft.dev/v1', $id: 'https://weft.dev/schemas/v1/host.json', url: '/api/v1/schemas/host' },
      { kind: 'FirewallPolicy', apiVersion: 'weft.dev/v1', $id: 'https://weft.dev/schemas/v1/firewallpolicy.json', url: '/api/v1/schemas/firewallpolicy' },
    ]);
  });

  test.each(KINDS)('serves exactly the exported schema of %s at the listed URL', async (kind) => {
    const list = await api.call('GET', '/api/v1/schemas');
    const url = list.body.items.find((i: { kind: string }) => i.kind === kind).url as string;
    const r = await api.call('GET', url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual(exportKindSchema(kind));
  });

  test.each(['Network', 'NETWORK', 'networks', 'net', 'network.json'])('the kind is read case-insensitively, plural and short too: %s', async (name) => {
    const r = await api.call('GET', `/api/v1/schemas/${name}`);
    expect(r.status).toBe(200);
    expect(r.body.$id).toBe('https://weft.dev/schemas/v1/network.json');
  });

  test('an unknown kind is a 404 that lists the kinds', async () => {
    const r = await api.call('GET', '/api/v1/schemas/widget');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 'NotFound', retriable: false });
    expect(r.body.message).toContain('"widget"');
    for (const kind of KINDS) expect(r.body.message).toContain(kind);
  });

  test.each([
    ['/api/v1/schemas', null],
    ['/api/v1/schemas/network', null],
    ['/api/v1/schemas/network', 'f'.repeat(64)],
  ])('%s needs the admin token like the rest of the API', async (path, token) => {
    const r = await api.call('GET', path, undefined, token);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('Unauthorized');
  });
});
