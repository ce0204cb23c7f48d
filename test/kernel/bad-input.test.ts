import { jest } from '@jest/globals';
// Bad input across the three front doors — REST, YAML (`weft apply -f`) and
// the agent socket: every case gets a precise error, and afterwards the
// store and the kernel are exactly as before.
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsAdd, netnsList, SingleHostLab, waitFor } from '../support/test-lab.js';
import { MAX_RPC_LINE } from '../../model/agent-rpc.js';
import { MAX_BODY_BYTES } from '../../model/rest.js';

jest.setTimeout(300_000);


const lab = new SingleHostLab('i');
let yamlDir = '';
let workloadPath = '';

const NET = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec });

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('good', '198.18.40.0/24');
  await waitFor('network ready', async () =>
    (await lab.api<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', '/api/v1/networks/good')).status?.conditions?.some(
      (c) => c.type === 'Ready' && c.status === 'True',
    ));
  workloadPath = await netnsAdd(`${lab.prefix}w0`);
  yamlDir = mkdtempSync(join(tmpdir(), 'wt-yaml-'));
});

afterAll(async () => {
  rmSync(yamlDir, { recursive: true, force: true });
  await lab.stop();
});

async function rawRest(method: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${lab.token}`, 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = body;
  const res = await fetch(`${lab.url}${path}`, init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** One line to the agent socket, one response line back. */
function rawRpc(line: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: lab.socket });
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        s.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      }
    });
    s.on('error', reject);
    s.on('close', () => (buf.includes('\n') ? undefined : reject(new Error(`socket closed without an answer; got ${JSON.stringify(buf)}`))));
    s.write(line.endsWith('\n') ? line : `${line}\n`);
  });
}

/**
 * What the store holds (revision, metadata, spec; status is a live view of
 * agent reports, not stored input) and what the kernel holds.
 */
async function snapshot(): Promise<string> {
  const list = await lab.api<{ revision: number; items: { metadata: unknown; spec: unknown }[] }>('GET', '/api/v1/networks');
  const nets = { revision: list.revision, items: list.items.map((n) => ({ metadata: n.metadata, spec: n.spec })) };
  const eps = await lab.api<{ items: unknown[] }>('GET', '/api/v1/endpoints');
  const links = (await lab.hostLinks()).map((l) => l.ifname).sort();
  const ns = (await netnsList()).filter((n) => n.startsWith(lab.prefix) || n.startsWith('wr-')).sort();
  return JSON.stringify({ nets, eps, links, ns });
}

interface RestCase { name: string; method: string; path: string; body?: string; headers?: Record<string, string>; status: number; code: string; field?: string; message?: RegExp }

const big = JSON.stringify(NET('huge', { subnet: '10.0.0.0/24', pad: 'x'.repeat(MAX_BODY_BYTES + 1024) }));

const restCases: RestCase[] = [
  { name: 'garbage JSON', method: 'POST', path: '/api/v1/networks', body: '{"apiVersion": ', status: 400, code: 'BadJSON' },
  { name: 'body over MAX_BODY_BYTES', method: 'POST', path: '/api/v1/networks', body: big, status: 413, code: 'TooLarge' },
  { name: 'bad CIDR', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a1', { subnet: '198.18.50.0/33' })), status: 400, code: 'Invalid', field: '/spec/subnet' },
  { name: 'host bits set', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a2', { subnet: '198.18.50.1/24' })), status: 400, code: 'Invalid', field: '/spec/subnet', message: /198\.18\.50\.0\/24/ },
  { name: 'a /31', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a3', { subnet: '198.18.50.0/31' })), status: 400, code: 'Invalid', field: '/spec/subnet' },
  { name: 'a /32', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a4', { subnet: '198.18.50.1/32' })), status: 400, code: 'Invalid', field: '/spec/subnet' },
  { name: 'overlap with good', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a5', { subnet: '198.18.40.128/25' })), status: 409, code: 'Overlap', field: '/spec/subnet', message: /good/ },
  { name: 'name too long', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('n'.repeat(64), { subnet: '198.18.51.0/24' })), status: 400, code: 'Invalid', field: '/metadata/name' },
  { name: 'name not a DNS label', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('Has_Caps', { subnet: '198.18.51.0/24' })), status: 400, code: 'Invalid', field: '/metadata/name' },
  { name: 'unknown field', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a6', { subnet: '198.18.51.0/24', colour: 'blue' })), status: 400, code: 'Invalid', field: '/spec/colour' },
  { name: 'wrong type', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a7', { subnet: ['198.18.51.0/24'] })), status: 400, code: 'Invalid', field: '/spec/subnet' },
  { name: 'mtu out of range', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a8', { subnet: '198.18.51.0/24', mtu: 100 })), status: 400, code: 'Invalid', field: '/spec/mtu' },
  { name: 'gateway outside subnet', method: 'POST', path: '/api/v1/networks', body: JSON.stringify(NET('a9', { subnet: '198.18.51.0/24', gateway: '198.18.52.1' })), status: 400, code: 'Invalid', field: '/spec/gateway' },
  { name: 'wrong kind in body', method: 'POST', path: '/api/v1/networks', body: JSON.stringify({ ...NET('a10', { subnet: '198.18.51.0/24' }), kind: 'Host' }), status: 400, code: 'Invalid' },
  { name: 'name mismatch URL vs body', method: 'PUT', path: '/api/v1/networks/good', body: JSON.stringify(NET('other', { subnet: '198.18.40.0/24' })), status: 400, code: 'Invalid', field: '/metadata/name' },
  { name: 'stale resourceVersion', method: 'PUT', path: '/api/v1/networks/good', body: JSON.stringify({ ...NET('good', { subnet: '198.18.40.0/24', mtu: 1400 }), metadata: { name: 'good', resourceVersion: '1' } }), status: 409, code: 'Conflict' },
  { name: 'no token', method: 'GET', path: '/api/v1/networks', headers: { authorization: '' }, status: 401, code: 'Unauthorized' },
  { name: 'wrong token', method: 'GET', path: '/api/v1/networks', headers: { authorization: 'Bearer nope' }, status: 401, code: 'Unauthorized' },
  { name: 'get a missing network', method: 'GET', path: '/api/v1/networks/absent', status: 404, code: 'NotFound' },
  { name: 'apply with one bad document among good ones', method: 'POST', path: '/api/v1/apply', body: JSON.stringify({ items: [NET('ok1', { subnet: '198.18.60.0/24' }), NET('bad', { subnet: 'x' })] }), status: 400, code: 'Invalid' },
  { name: 'apply with items not an array', method: 'POST', path: '/api/v1/apply', body: JSON.stringify({ items: 'nope' }), status: 400, code: 'Invalid' },
];

test.each(restCases)('REST: $name', async (c) => {
  const before = await snapshot();
  const r = await rawRest(c.method, c.path, c.body, c.headers);
  expect(r.status).toBe(c.status);
  expect(r.json.code).toBe(c.code);
  expect(typeof r.json.message).toBe('string');
  if (c.field) expect(r.json.field).toBe(c.field);
  if (c.message) expect(r.json.message).toMatch(c.message);
  expect(await snapshot()).toBe(before);
});

interface YamlCase { name: string; text: string; where: RegExp }

const yamlCases: YamlCase[] = [
  { name: 'YAML syntax error', text: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata: {name: y1\nspec:\n  subnet: 198.18.70.0/24\n', where: /:\d+:\d+/ },
  { name: 'unknown field at its line', text: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y2\nspec:\n  subnet: 198.18.70.0/24\n  colour: red\n', where: /:7:3: .*colour/ },
  { name: 'bad CIDR at its line', text: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y3\nspec:\n  subnet: 198.18.70.1/24\n', where: /:6:\d+: .*host bits/ },
  { name: 'wrong kind', text: 'apiVersion: weft.dev/v1\nkind: Netwerk\nmetadata:\n  name: y4\nspec: {}\n', where: /:2:\d+: .*Network/ },
  { name: 'wrong apiVersion', text: 'apiVersion: v9\nkind: Network\nmetadata:\n  name: y5\nspec:\n  subnet: 198.18.70.0/24\n', where: /:1:\d+: .*apiVersion/ },
  { name: 'error in the second document', text: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y6\nspec:\n  subnet: 198.18.71.0/24\n---\napiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y7\nspec:\n  subnet: 198.18.72.0/24\n  mtu: 12\n', where: /:14:\d+: .*mtu/ },
  { name: 'duplicate names in one file', text: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y8\nspec:\n  subnet: 198.18.73.0/24\n---\napiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y8\nspec:\n  subnet: 198.18.74.0/24\n', where: /:\d+:\d+: .*(duplicate|twice|already)/i },
  { name: 'overlap reported by the server, mapped to the file', text: 'apiVersion: weft.dev/v1\nkind: Network\nmetadata:\n  name: y9\nspec:\n  subnet: 198.18.40.0/25\n', where: /y9|overlaps/ },
  { name: 'a list instead of a mapping', text: '- a\n- b\n', where: /:1:\d+/ },
  { name: 'too-long ifname in an endpoint', text: 'apiVersion: weft.dev/v1\nkind: Endpoint\nmetadata:\n  name: e1\nspec:\n  network: good\n  host: h1\n  containerId: c1\n  ifname: this-is-too-long\n', where: /:9:\d+: .*ifname/ },
];

test.each(yamlCases)('YAML: $name', async (c) => {
  const before = await snapshot();
  const file = join(yamlDir, `${c.name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(file, c.text);
  const r = await lab.cli(['apply', '-f', file]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(file);
  expect(r.stderr).toMatch(c.where);
  expect(await snapshot()).toBe(before);
});

interface RpcCase { name: string; line: string; code: string; field?: string }

const attach = (params: Record<string, unknown>) => JSON.stringify({ id: 1, method: 'attach', params });

const rpcCases: RpcCase[] = [
  { name: 'garbage JSON', line: '{"id": 1, "method": ', code: 'BadJSON' },
  { name: 'not an object', line: '[1,2,3]', code: 'Invalid' },
  { name: 'unknown method', line: JSON.stringify({ id: 1, method: 'explode', params: {} }), code: 'Invalid' },
  { name: 'missing netns path', line: attach({ network: 'good', containerId: 'x1' }), code: 'Invalid', field: '/netns' },
  { name: 'relative netns path', line: attach({ network: 'good', containerId: 'x2', netns: 'run/netns/x' }), code: 'Invalid', field: '/netns' },
  { name: 'netns that does not exist', line: attach({ network: 'good', containerId: 'x3', netns: '/run/netns/wt-does-not-exist' }), code: 'Invalid', field: '/netns' },
  { name: 'unknown network', line: attach({ network: 'nope', containerId: 'x4', netns: '/run/netns/x' }), code: 'NotFound', field: '/network' },
  { name: 'ifname too long', line: attach({ network: 'good', containerId: 'x5', netns: '/run/netns/x', ifname: 'sixteen-bytes-xx' }), code: 'Invalid', field: '/ifname' },
  { name: 'ip not IPv4', line: attach({ network: 'good', containerId: 'x6', netns: '/run/netns/x', ip: '198.18.40.300' }), code: 'Invalid', field: '/ip' },
  { name: 'ip outside the subnet', line: attach({ network: 'good', containerId: 'x7', netns: '/run/netns/x', ip: '198.18.41.5' }), code: 'Invalid', field: '/ip' },
  { name: 'ip is the gateway', line: attach({ network: 'good', containerId: 'x8', netns: '/run/netns/x', ip: '198.18.40.1' }), code: 'Invalid', field: '/ip' },
  { name: 'multicast mac', line: attach({ network: 'good', containerId: 'x9', netns: '/run/netns/x', mac: '01:00:5e:00:00:01' }), code: 'Invalid', field: '/mac' },
  { name: 'unknown param', line: attach({ network: 'good', containerId: 'x10', netns: '/run/netns/x', colour: 'red' }), code: 'Invalid', field: '/colour' },
  { name: 'wrong type', line: attach({ network: 'good', containerId: 42, netns: '/run/netns/x' }), code: 'Invalid', field: '/containerId' },
  { name: 'bad label', line: attach({ network: 'good', containerId: 'x11', netns: '/run/netns/x', labels: { 'bad key!': 'v' } }), code: 'Invalid' },
];

test.each(rpcCases)('agent socket: $name', async (c) => {
  const before = await snapshot();
  const line = c.line.replace('/run/netns/x', workloadPath);
  const r = await rawRpc(line);
  const err = r.error as { code: string; message: string; field?: string } | undefined;
  expect(err).toBeDefined();
  expect(err?.code).toBe(c.code);
  expect(err?.message.length).toBeGreaterThan(10);
  if (c.field) expect(err?.field).toBe(c.field);
  expect(await snapshot()).toBe(before);
});

test('a huge line on the agent socket is refused', async () => {
  const before = await snapshot();
  const r = await rawRpc(attach({ network: 'good', containerId: 'x'.repeat(MAX_RPC_LINE + 1), netns: workloadPath }));
  expect((r.error as { code: string }).code).toBe('TooLarge');
  expect(await snapshot()).toBe(before);
});

test('the table has at least 40 cases', () => {
  expect(restCases.length + yamlCases.length + rpcCases.length + 1).toBeGreaterThanOrEqual(40);
});
