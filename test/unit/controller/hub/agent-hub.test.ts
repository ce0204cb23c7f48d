import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type RunningController } from '../../../../controller/main.js';
import type { AgentHello, EndpointReport } from '../../../../model/agent-protocol.js';
import { TestAgent } from '../support/agent-client.js';
import type { JsonBody } from '../support/harness.js';

const rep = (name: string, network: string, ip: string): EndpointReport => ({
  name, network, containerId: name.split('.')[0] as string, ifname: 'eth0', ip, mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/run/netns/x', labels: {},
});
const hello = (host: string, endpoints: EndpointReport[] = [], extra: Partial<AgentHello> = {}): AgentHello => ({
  type: 'hello', host, address: '192.0.2.10', agentVersion: 'test', underlayMtu: 1500, appliedRevision: 0, endpoints, ...extra,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent hub', () => {
  let dir: string;
  let ctl: RunningController;
  const agents: TestAgent[] = [];
  const rest = async (method: string, path: string, body?: unknown) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${ctl.adminToken}`, 'content-type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const r = await fetch(`${ctl.url}${path}`, init);
    return { status: r.status, body: (await r.json()) as JsonBody };
  };
  const connect = async (token = ctl.agentToken) => {
    const a = await TestAgent.connect(ctl.url, token);
    agents.push(a);
    return a;
  };
  const createNetwork = (name: string, subnet: string, extra: Record<string, unknown> = {}) =>
    rest('POST', '/api/v1/networks', { metadata: { name }, spec: { subnet, ...extra } });

  async function start(opts: { heartbeatTimeoutMs?: number; blockReclaimGraceMs?: number } = {}) {
    ctl = await startController({ listen: '127.0.0.1:0', dataDir: dir, logLevel: 'silent', ...opts });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-hub-'));
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    await ctl?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a wrong or missing token is refused with 401 before the upgrade', async () => {
    await start();
    await expect(TestAgent.connect(ctl.url, 'f'.repeat(64))).rejects.toMatchObject({ statusCode: 401 });
    const e = (await TestAgent.connect(ctl.url, undefined).then(
      () => undefined,
      (x: unknown) => x,
    )) as { statusCode: number; body: string };
    expect(e.statusCode).toBe(401);
    expect(JSON.parse(e.body)).toMatchObject({ code: 'Unauthorized' });
  });

  test('hello gets the full plan, with a pre-granted block per network', async () => {
    await start();
    await createNetwork('web', '10.0.0.0/24');
    const a = await connect();
    a.send(hello('h1'));
    const { plan } = await a.next('plan');
    expect(plan.host).toBe('h1');
    expect(plan.networks).toEqual([{ name: 'web', vni: 4096, subnet: '10.0.0.0/24', prefixLength: 24, gateway: '10.0.0.1', mtu: 1450, bridge: 'wb-001000' }]);
    expect(plan.blocks).toEqual([{ network: 'web', cidr: '10.0.0.0/26' }]);
    expect(plan.reservations).toEqual([
      { network: 'web', ip: '10.0.0.0', owner: 'weft:network' },
      { network: 'web', ip: '10.0.0.1', owner: 'weft:gateway' },
    ]);
    const host = await rest('GET', '/api/v1/hosts/h1');
    expect(host.body.status).toMatchObject({ state: 'Ready', address: '192.0.2.10', agentVersion: 'test', blocks: [{ network: 'web', cidr: '10.0.0.0/26' }] });
  });

  test('the admin token is accepted too', async () => {
    await start();
    const a = await connect(ctl.adminToken);
    a.send(hello('h1'));
    await a.next('plan');
  });

  test('a network created over REST reaches connected agents as a delta', async () => {
    await start();
    const a = await connect();
    a.send(hello('h1'));
    const { plan } = await a.next('plan');
    expect(plan.networks).toEqual([]);
    await createNetwork('db', '10.5.0.0/24', { mtu: 1400 });
    const d = await a.next('delta');
    expect(d.fromRevision).toBe(plan.revision);
    expect(d.revision).toBeGreaterThan(plan.revision);
    expect(d.delta.upsertNetworks).toEqual([expect.objectContaining({ name: 'db', mtu: 1400, vni: 4096 })]);
    expect(d.delta.upsertBlocks).toEqual([{ network: 'db', cidr: '10.5.0.0/26' }]);
    // Deltas chain: the next one starts where this one ended.
    await rest('DELETE', '/api/v1/networks/db');
    const d2 = await a.next('delta');
    expect(d2.fromRevision).toBe(d.revision);
    expect(d2.delta.removeNetworks).toEqual(['db']);
    expect(d2.delta.removeBlocks).toEqual([{ network: 'db', cidr: '10.5.0.0/26' }]);
    expect(await a.quiet()).toEqual([]);
  });

  test('requestBlock: the delta holding the block comes before blockGranted; exhaustion -> requestFailed', async () => {
    await start();
    await createNetwork('n', '10.0.0.0/25'); // two /26 blocks: neither is pre-granted if it would be the last
    const a = await connect();
    a.send(hello('h1'));
    const { plan } = await a.next('plan');
    expect(plan.blocks).toEqual([{ network: 'n', cidr: '10.0.0.0/26' }]);
    a.send({ type: 'requestBlock', requestId: 'r1', network: 'n' });
    const d = await a.next('delta');
    expect(d.delta.upsertBlocks).toEqual([{ network: 'n', cidr: '10.0.0.64/26' }]);
    expect(await a.next('blockGranted')).toEqual({ type: 'blockGranted', requestId: 'r1', block: { network: 'n', cidr: '10.0.0.64/26' } });
    a.send({ type: 'requestBlock', requestId: 'r2', network: 'n' });
    expect(await a.next('requestFailed')).toMatchObject({ requestId: 'r2', code: 'Exhausted' });
    a.send({ type: 'requestBlock', requestId: 'r3', network: 'nope' });
    expect(await a.next('requestFailed')).toMatchObject({ requestId: 'r3', code: 'NotFound' });
  });

  test('requestStatic: granted once, refused for another owner, released', async () => {
    await start();
    await createNetwork('n', '10.0.0.0/24');
    const a = await connect();
    a.send(hello('h1'));
    await a.next('plan');
    a.send({ type: 'requestStatic', requestId: 's1', network: 'n', ip: '10.0.0.200', owner: 'c1' });
    const d = await a.next('delta');
    expect(d.delta.upsertReservations).toEqual([{ network: 'n', ip: '10.0.0.200', owner: 'c1' }]);
    expect(await a.next('staticGranted')).toEqual({ type: 'staticGranted', requestId: 's1', reservation: { network: 'n', ip: '10.0.0.200', owner: 'c1' } });
    a.send({ type: 'requestStatic', requestId: 's2', network: 'n', ip: '10.0.0.200', owner: 'c2' });
    const failed = await a.next('requestFailed');
    expect(failed).toMatchObject({ requestId: 's2', code: 'AddressInUse' });
    expect(failed.message).toContain('c1');
    a.send({ type: 'requestStatic', requestId: 's3', network: 'n', ip: '10.0.0.1', owner: 'c2' });
    expect(await a.next('requestFailed')).toMatchObject({ requestId: 's3', code: 'Invalid' });
    a.send({ type: 'releaseStatic', network: 'n', ip: '10.0.0.200' });
    expect((await a.next('delta')).delta.removeReservations).toEqual([{ network: 'n', ip: '10.0.0.200', owner: 'c1' }]);
  });

  test('endpointUp/endpointDown maintain Endpoint records visible over REST; bad ones get an error', async () => {
    await start();
    await createNetwork('n', '10.0.0.0/24');
    const a = await connect();
    a.send(hello('h1'));
    await a.next('plan');
    a.send({ type: 'endpointUp', endpoint: rep('c1.eth0', 'n', '10.0.0.5') });
    await sleep(50);
    const ep = await rest('GET', '/api/v1/endpoints/c1.eth0');
    expect(ep.status).toBe(200);
    expect(ep.body).toMatchObject({ kind: 'Endpoint', spec: { network: 'n', host: 'h1', containerId: 'c1', ip: '10.0.0.5' }, status: { phase: 'Attached', mac: '02:00:00:00:00:01' } });

    a.send({ type: 'endpointUp', endpoint: rep('c2.eth0', 'n', '10.0.0.5') });
    expect(await a.next('error')).toMatchObject({ code: 'AddressInUse' });
    a.send({ type: 'endpointUp', endpoint: rep('c3.eth0', 'n', '10.0.0.100') });
    expect(await a.next('error')).toMatchObject({ code: 'Invalid' });

    a.send({ type: 'endpointDown', name: 'c1.eth0' });
    await sleep(50);
    expect((await rest('GET', '/api/v1/endpoints/c1.eth0')).status).toBe(404);
  });

  test('malformed frames and messages before hello are answered with error', async () => {
    await start();
    const a = await connect();
    a.send({ type: 'heartbeat' });
    expect(await a.next('error')).toMatchObject({ code: 'NotReady' });
    a.sendRaw('{nope');
    expect(await a.next('error')).toMatchObject({ code: 'BadJSON' });
    a.send({ type: 'teleport' });
    expect(await a.next('error')).toMatchObject({ code: 'Invalid' });
    a.send({ type: 'hello', host: 'Bad_Name' });
    expect(await a.next('error')).toMatchObject({ code: 'Invalid' });
  });

  test('status reports make the network Ready on that host', async () => {
    await start();
    await createNetwork('n', '10.0.0.0/24');
    const a = await connect();
    a.send(hello('h1'));
    const { plan } = await a.next('plan');
    expect((await rest('GET', '/api/v1/networks/n')).body.status.conditions[0]).toMatchObject({ status: 'False', reason: 'HostsNotReady' });
    a.send({ type: 'status', appliedRevision: plan.revision, networks: { n: { ready: true } } });
    await sleep(50);
    const net = await rest('GET', '/api/v1/networks/n');
    expect(net.body.status.hosts).toEqual({ h1: { ready: true, revision: plan.revision } });
    expect(net.body.status.conditions[0]).toMatchObject({ status: 'True', reason: 'Ready' });
  });

  test('a dropped connection makes the host NotReady; silence past the heartbeat timeout cuts it', async () => {
    await start({ heartbeatTimeoutMs: 300 });
    const a = await connect();
    a.send(hello('h1'));
    await a.next('plan');
    await a.close();
    await sleep(50);
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('NotReady');

    const b = await connect();
    b.send(hello('h1'));
    await b.next('plan');
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('Ready');
    for (let i = 0; i < 4; i++) {
      await sleep(120);
      b.send({ type: 'heartbeat' });
    }
    expect(b.closed).toBe(false);
    await sleep(700);
    expect(b.closed).toBe(true);
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('NotReady');
  });

  test('a reconnect with hello reconciles records to the listed endpoints', async () => {
    await start();
    await createNetwork('n', '10.0.0.0/24');
    const a = await connect();
    a.send(hello('h1', [rep('c1.eth0', 'n', '10.0.0.0')]));
    await a.next('plan');
    expect(await a.next('error')).toMatchObject({ code: 'Invalid' }); // the network address is never an endpoint's
    a.send({ type: 'endpointUp', endpoint: rep('c1.eth0', 'n', '10.0.0.5') });
    a.send({ type: 'endpointUp', endpoint: rep('c2.eth0', 'n', '10.0.0.6') });
    await sleep(50);
    await a.close();
    const b = await connect();
    b.send(hello('h1', [rep('c2.eth0', 'n', '10.0.0.6')]));
    await b.next('plan');
    const names = (await rest('GET', '/api/v1/endpoints?host=h1')).body.items.map((e: { metadata: { name: string } }) => e.metadata.name);
    expect(names).toEqual(['c2.eth0']);
  });

  test('a newer connection from the same host replaces the old one', async () => {
    await start();
    const a = await connect();
    a.send(hello('h1'));
    await a.next('plan');
    const b = await connect();
    b.send(hello('h1'));
    await b.next('plan');
    await sleep(100);
    expect(a.closed).toBe(true);
    expect(a.closeCode).toBe(4000);
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('Ready');
  });

  test('blocks of a gone host are reclaimed unless endpoints are in them', async () => {
    await start({ blockReclaimGraceMs: 300 });
    await createNetwork('n', '10.0.0.0/24');
    await createNetwork('m', '10.1.0.0/24');
    const a = await connect();
    a.send(hello('h1'));
    const { plan } = await a.next('plan');
    expect(plan.blocks).toHaveLength(2);
    a.send({ type: 'endpointUp', endpoint: rep('c1.eth0', 'n', '10.0.0.5') });
    await sleep(50);
    await a.close();
    await sleep(150);
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('NotReady');
    await sleep(600);
    const host = await rest('GET', '/api/v1/hosts/h1');
    expect(host.body.status.state).toBe('Gone');
    expect(host.body.status.blocks).toEqual([{ network: 'n', cidr: '10.0.0.0/26' }]);

    // Coming back with the endpoint keeps that block; the other network gets a fresh pre-grant.
    const b = await connect();
    b.send(hello('h1', [rep('c1.eth0', 'n', '10.0.0.5')]));
    const again = await b.next('plan');
    expect(again.plan.blocks).toEqual([
      { network: 'm', cidr: '10.1.0.0/26' },
      { network: 'n', cidr: '10.0.0.0/26' },
    ]);
  });

  test('state, tokens and VNIs survive a controller restart', async () => {
    await start();
    const tokens = [ctl.adminToken, ctl.agentToken];
    await createNetwork('n', '10.0.0.0/24');
    const a = await connect();
    a.send(hello('h1', []));
    await a.next('plan');
    a.send({ type: 'endpointUp', endpoint: rep('c1.eth0', 'n', '10.0.0.5') });
    await sleep(50);
    await a.close();
    await sleep(50);
    const before = await rest('GET', '/api/v1/networks/n');
    const revBefore = ((await (await fetch(`${ctl.url}/healthz`)).json()) as { revision: number }).revision;
    await ctl.close();

    await start();
    expect([ctl.adminToken, ctl.agentToken]).toEqual(tokens);
    const after = await rest('GET', '/api/v1/networks/n');
    expect(after.body.metadata).toEqual(before.body.metadata);
    expect(after.body.status.vni).toBe(before.body.status.vni);
    expect((await rest('GET', '/api/v1/endpoints/c1.eth0')).body.spec.ip).toBe('10.0.0.5');
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status).toMatchObject({ state: 'NotReady', blocks: [{ network: 'n', cidr: '10.0.0.0/26' }] });
    const health = await fetch(`${ctl.url}/healthz`);
    expect(((await health.json()) as { revision: number }).revision).toBe(revBefore);
  });
});
