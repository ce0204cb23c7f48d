import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type RunningController } from '../../../../controller/main.js';
import type { AgentHello, EndpointReport } from '../../../../model/agent-protocol.js';
import { emptyPlanDelta } from '../../../../model/plan-delta.js';
import { TestAgent } from '../support/agent-client.js';
import { adminRest } from '../support/harness.js';

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
  const rest = (method: string, path: string, body?: unknown) => adminRest(ctl, method, path, body);
  const connect = async (token = ctl.agentToken) => {
    const a = await TestAgent.connect(ctl.url, token);
    agents.push(a);
    return a;
  };
  const createNetwork = (name: string, subnet: string, extra: Record<string, unknown> = {}) =>
    rest('POST', '/api/v1/networks', { metadata: { name }, spec: { subnet, ...extra } });

  async function start(opts: { heartbeatTimeoutMs?: number; hostGoneAfterMs?: number; blockReclaimGraceMs?: number } = {}) {
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
    expect(plan.networks).toEqual([
      { name: 'web', vni: 4096, subnet: '10.0.0.0/24', prefixLength: 24, gateway: '10.0.0.1', mtu: 1450, bridge: 'wb-001000', vxlan: 'wx-001000', gatewayMac: '02:77:66:00:10:00' },
    ]);
    // Alone, and without endpoints, it has nothing of the overlay.
    expect(plan.flood).toEqual([]);
    expect(plan.remoteEndpoints).toEqual([]);
    expect(plan.blocks).toEqual([{ network: 'web', cidr: '10.0.0.0/26' }]);
    expect(plan.reservations).toEqual([
      { network: 'web', ip: '10.0.0.0', owner: 'weft:network' },
      { network: 'web', ip: '10.0.0.1', owner: 'weft:gateway' },
    ]);
    const host = await rest('GET', '/api/v1/hosts/h1');
    expect(host.body.status).toMatchObject({ state: 'Ready', address: '192.0.2.10', underlayMtu: 1500, agentVersion: 'test', blocks: [{ network: 'web', cidr: '10.0.0.0/26' }] });
    // What `weft get hosts` shows: state, address, applied revision, last heartbeat.
    a.send({ type: 'status', appliedRevision: plan.revision, networks: {} });
    await sleep(50);
    const after = (await rest('GET', '/api/v1/hosts')).body.items[0].status;
    expect(after).toMatchObject({ state: 'Ready', address: '192.0.2.10', appliedRevision: plan.revision });
    expect(Date.parse(after.lastHeartbeat)).toBeGreaterThanOrEqual(Date.parse(host.body.status.lastHeartbeat));
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

  test('status reports make the network Ready on the hosts that carry it; the others are not listed', async () => {
    await start();
    await createNetwork('n', '10.0.0.0/24');
    const a = await connect();
    a.send(hello('h1', [rep('c1.eth0', 'n', '10.0.0.5')]));
    const { plan } = await a.next('plan');
    const b = await connect();
    b.send(hello('h2', [], { address: '192.0.2.20' }));
    await b.next('plan');
    expect((await rest('GET', '/api/v1/networks/n')).body.status.conditions[0]).toMatchObject({ status: 'False', reason: 'HostsNotReady' });
    a.send({ type: 'status', appliedRevision: plan.revision, networks: { n: { ready: true } } });
    b.send({ type: 'status', appliedRevision: plan.revision, networks: { n: { ready: false, message: 'no bridge: nothing attached here' } } });
    await sleep(50);
    const net = await rest('GET', '/api/v1/networks/n');
    expect(net.body.status.hosts).toEqual({ h1: { ready: true, revision: plan.revision } });
    expect(net.body.status.conditions[0]).toMatchObject({ status: 'True', reason: 'Ready' });

    // No endpoints anywhere: nothing to realise, nothing to wait for.
    a.send({ type: 'endpointDown', name: 'c1.eth0' });
    await sleep(50);
    const empty = await rest('GET', '/api/v1/networks/n');
    expect(empty.body.status.hosts).toEqual({});
    expect(empty.body.status.conditions[0]).toMatchObject({ status: 'True', reason: 'NoEndpoints' });
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

  test('a gone host has its endpoints withdrawn at the host grace period and its blocks reclaimed at the block grace period', async () => {
    await start({ heartbeatTimeoutMs: 200, hostGoneAfterMs: 400, blockReclaimGraceMs: 900 });
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
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status).toMatchObject({ state: 'NotReady', endpoints: 1 });
    await sleep(450);
    const gone = await rest('GET', '/api/v1/hosts/h1');
    expect(gone.body.status).toMatchObject({ state: 'Gone', endpoints: 0 });
    expect(gone.body.status.conditions[0]).toMatchObject({ reason: 'Gone' });
    expect(gone.body.status.blocks).toHaveLength(2); // not yet: the block grace period is longer
    await sleep(900);
    expect((await rest('GET', '/api/v1/hosts/h1')).body.status.blocks).toEqual([]);

    // Coming back with the endpoint re-adopts its block; the other network gets a fresh pre-grant.
    const b = await connect();
    b.send(hello('h1', [rep('c1.eth0', 'n', '10.0.0.5')]));
    const again = await b.next('plan');
    expect(again.plan.blocks).toEqual([
      { network: 'm', cidr: '10.1.0.0/26' },
      { network: 'n', cidr: '10.0.0.0/26' },
    ]);
    expect((await rest('GET', '/api/v1/endpoints/c1.eth0')).body.spec).toMatchObject({ host: 'h1', ip: '10.0.0.5' });
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

  describe('overlay membership', () => {
    const H1 = '192.0.2.1';
    const H2 = '192.0.2.2';
    const withMac = (r: EndpointReport, mac: string): EndpointReport => ({ ...r, mac });
    const c1 = withMac(rep('c1.eth0', 'n', '10.0.0.5'), '02:00:00:00:01:05');
    const c2 = withMac(rep('c2.eth0', 'n', '10.0.0.70'), '02:00:00:00:02:46');
    const remoteC1 = { name: 'c1.eth0', network: 'n', ip: '10.0.0.5', mac: '02:00:00:00:01:05', host: 'h1', vtep: H1 };
    const remoteC2 = { name: 'c2.eth0', network: 'n', ip: '10.0.0.70', mac: '02:00:00:00:02:46', host: 'h2', vtep: H2 };
    const names = async (host: string) => (await rest('GET', `/api/v1/endpoints?host=${host}`)).body.items.map((e: { metadata: { name: string } }) => e.metadata.name);

    /** h1 (no endpoints yet) and h2 (c2 on n), both greeted. */
    async function twoHosts() {
      await createNetwork('n', '10.0.0.0/24');
      const a = await connect();
      a.send(hello('h1', [], { address: H1 }));
      await a.next('plan');
      const b = await connect();
      b.send(hello('h2', [c2], { address: H2 }));
      const { plan } = await b.next('plan');
      expect(plan.flood).toEqual([]); // nobody else carries n yet
      // A carries nothing yet but learns B's VTEP and endpoint on n, so its first attach there is reachable at once.
      const da = await a.next('delta');
      expect(da.delta).toEqual({ ...emptyPlanDelta(), upsertFlood: [{ network: 'n', host: 'h2', vtep: H2 }], upsertRemoteEndpoints: [remoteC2] });
      return { a, b };
    }

    /** Keep an agent alive the way a real one does. */
    function heartbeats(agent: TestAgent, everyMs: number): () => void {
      const t = setInterval(() => agent.send({ type: 'heartbeat' }), everyMs);
      return () => clearInterval(t);
    }

    test('an endpointUp with a requestId is answered once B has reported applying the delta that carries it', async () => {
      await start();
      const { a, b } = await twoHosts();
      a.send({ type: 'endpointUp', endpoint: c1, requestId: 'r1' });
      const db = await b.next('delta');
      expect(db.delta.upsertRemoteEndpoints).toEqual([remoteC1]);
      // Not before B says so.
      expect((await a.quiet(100)).filter((m) => m.type === 'endpointPropagated')).toEqual([]);
      b.send({ type: 'status', appliedRevision: db.revision - 1, networks: {} }); // an older pass: not yet
      expect((await a.quiet(100)).filter((m) => m.type === 'endpointPropagated')).toEqual([]);
      b.send({ type: 'status', appliedRevision: db.revision, networks: {} });
      expect(await a.next('endpointPropagated')).toEqual({ type: 'endpointPropagated', requestId: 'r1', revision: db.revision, hosts: ['h2'], late: [] });
    });

    test('a report that changes no other host is answered at once; a host that never reports is named late after the bound', async () => {
      await start();
      const { a, b } = await twoHosts();
      a.send({ type: 'endpointUp', endpoint: c1, requestId: 'first' });
      const db = await b.next('delta');
      b.send({ type: 'status', appliedRevision: db.revision, networks: {} });
      await a.next('endpointPropagated');
      // The same report again (a retry): B has it already.
      a.send({ type: 'endpointUp', endpoint: c1, requestId: 'again' });
      expect(await a.next('endpointPropagated')).toMatchObject({ requestId: 'again', hosts: ['h2'], late: [] });
      // A new endpoint B gets but never reports applying: the answer comes after the controller's bound, naming B late.
      const t0 = Date.now();
      a.send({ type: 'endpointUp', endpoint: withMac(rep('c3.eth0', 'n', '10.0.0.6'), '02:00:00:00:01:06'), requestId: 'slow' });
      await b.next('delta');
      expect(await a.next('endpointPropagated', 5000)).toMatchObject({ requestId: 'slow', hosts: [], late: ['h2'] });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    });

    test('a waited-for host that disconnects is named late at once', async () => {
      await start();
      const { a, b } = await twoHosts();
      a.send({ type: 'endpointUp', endpoint: c1, requestId: 'r2' });
      await b.next('delta');
      await b.close();
      expect(await a.next('endpointPropagated')).toMatchObject({ requestId: 'r2', hosts: [], late: ['h2'] });
    });

    test('an endpointUp with a requestId that the controller refuses gets requestFailed', async () => {
      await start();
      const { a } = await twoHosts();
      // Outside A's blocks and reserved by nobody: refused.
      a.send({ type: 'endpointUp', endpoint: withMac(rep('bad.eth0', 'n', '10.0.0.100'), '02:00:00:00:01:99'), requestId: 'r3' });
      expect(await a.next('requestFailed')).toMatchObject({ requestId: 'r3' });
    });

    test('an endpointUp on A reaches B as a delta with the remote endpoint and, for A\'s first on the network, a flood entry', async () => {
      await start();
      const { a, b } = await twoHosts();
      a.send({ type: 'endpointUp', endpoint: c1 });
      const db = await b.next('delta');
      expect(db.delta.upsertRemoteEndpoints).toEqual([remoteC1]);
      expect(db.delta.upsertFlood).toEqual([{ network: 'n', host: 'h1', vtep: H1 }]);
      expect({ ...db.delta, upsertRemoteEndpoints: [], upsertFlood: [] }).toEqual(emptyPlanDelta());
      // A had B's VTEP and endpoint before carrying n: its own plan does not change.
      expect(await a.quiet(100)).toEqual([]);

      // A second endpoint of A: one more remote endpoint for B, nothing else.
      const c3 = withMac(rep('c3.eth0', 'n', '10.0.0.6'), '02:00:00:00:01:06');
      a.send({ type: 'endpointUp', endpoint: c3 });
      const db2 = await b.next('delta');
      expect(db2.fromRevision).toBe(db.revision);
      expect({ ...db2.delta, upsertRemoteEndpoints: [] }).toEqual(emptyPlanDelta());
      expect(db2.delta.upsertRemoteEndpoints.map((r) => r.name)).toEqual(['c3.eth0']);
      expect(await a.quiet(100)).toEqual([]); // A's own plan did not change

      // Detach both: B loses them, and the flood entry with the last one.
      a.send({ type: 'endpointDown', name: 'c3.eth0' });
      expect((await b.next('delta')).delta).toEqual({ ...emptyPlanDelta(), removeRemoteEndpoints: ['c3.eth0'] });
      a.send({ type: 'endpointDown', name: 'c1.eth0' });
      expect((await b.next('delta')).delta).toEqual({ ...emptyPlanDelta(), removeRemoteEndpoints: ['c1.eth0'], removeFlood: [{ network: 'n', host: 'h1', vtep: H1 }] });
      expect(await a.quiet(100)).toEqual([]); // A keeps B's entries (its agent drops them with the device)
    });

    test('heartbeat timeout: NotReady keeps the endpoints in other plans; the grace period withdraws them; a reconnect restores them', async () => {
      await start({ heartbeatTimeoutMs: 300, hostGoneAfterMs: 1_000 });
      const { a, b } = await twoHosts();
      const stopB = heartbeats(b, 100);
      try {
        a.send({ type: 'endpointUp', endpoint: c1 });
        expect((await b.next('delta')).delta.upsertRemoteEndpoints).toEqual([remoteC1]);

        // A goes silent (a partition, not a close): cut off after the timeout, NotReady, endpoints kept.
        const silentSince = Date.now();
        while (!a.closed && Date.now() - silentSince < 2_000) await sleep(20);
        expect(a.closed).toBe(true);
        expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('NotReady');
        expect(await b.quiet(200)).toEqual([]);
        expect(await names('h1')).toEqual(['c1.eth0']);

        // Past the grace period: Gone, withdrawn from B's plan and from the endpoint list.
        const d = await b.next('delta', 3_000);
        expect(Date.now() - silentSince).toBeGreaterThanOrEqual(1_000);
        expect(d.delta).toEqual({ ...emptyPlanDelta(), removeRemoteEndpoints: ['c1.eth0'], removeFlood: [{ network: 'n', host: 'h1', vtep: H1 }] });
        expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('Gone');
        expect(await names('h1')).toEqual([]);

        // The agent comes back with its endpoint: it is re-recorded and B gets it again.
        const a2 = await connect();
        a2.send(hello('h1', [c1], { address: H1 }));
        const { plan } = await a2.next('plan');
        expect(plan.flood).toEqual([{ network: 'n', host: 'h2', vtep: H2 }]);
        expect(plan.remoteEndpoints).toEqual([remoteC2]);
        expect((await b.next('delta')).delta).toEqual({ ...emptyPlanDelta(), upsertRemoteEndpoints: [remoteC1], upsertFlood: [{ network: 'n', host: 'h1', vtep: H1 }] });
        expect(await names('h1')).toEqual(['c1.eth0']);
        expect((await rest('GET', '/api/v1/hosts/h1')).body.status.state).toBe('Ready');
      } finally {
        stopB();
      }
    });

    test('a reconnect within the grace period changes nothing for the other hosts', async () => {
      await start({ heartbeatTimeoutMs: 300, hostGoneAfterMs: 5_000 });
      const { a, b } = await twoHosts();
      a.send({ type: 'endpointUp', endpoint: c1 });
      await b.next('delta');
      await a.close();
      await sleep(100);
      const a2 = await connect();
      a2.send(hello('h1', [c1], { address: H1 }));
      expect((await a2.next('plan')).plan.remoteEndpoints).toEqual([remoteC2]);
      expect(await b.quiet(200)).toEqual([]);
    });

    test('a gone host whose endpoint address was given to another meanwhile gets that endpoint refused, by name', async () => {
      await start({ heartbeatTimeoutMs: 200, hostGoneAfterMs: 300, blockReclaimGraceMs: 300 });
      const { a, b } = await twoHosts();
      const stopB = heartbeats(b, 50);
      try {
        a.send({ type: 'endpointUp', endpoint: c1 });
        await b.next('delta');
        await a.close();
        await b.next('delta', 3_000); // withdrawn
        const deadline = Date.now() + 3_000;
        while ((await rest('GET', '/api/v1/hosts/h1')).body.status.blocks.length > 0 && Date.now() < deadline) await sleep(50);
        // h2 gets h1's old block and puts a workload on c1's old address.
        b.send({ type: 'requestBlock', requestId: 'r1', network: 'n' });
        expect((await b.next('delta')).delta.upsertBlocks).toEqual([{ network: 'n', cidr: '10.0.0.0/26' }]);
        await b.next('blockGranted');
        b.send({ type: 'endpointUp', endpoint: withMac(rep('c9.eth0', 'n', '10.0.0.5'), '02:00:00:00:09:05') });
        await sleep(50);

        const a2 = await connect();
        const c4 = withMac(rep('c4.eth0', 'n', '10.0.0.140'), '02:00:00:00:01:8c');
        a2.send(hello('h1', [c1, c4], { address: H1 }));
        const { plan } = await a2.next('plan');
        const err = await a2.next('error');
        expect(err.code).toBe('AddressInUse');
        expect(err.message).toMatch(/endpoint "c1\.eth0" refused: 10\.0\.0\.5 .*c9\.eth0/);
        // The one whose address is still free is accepted and reaches h2; c1 does not.
        expect(await names('h1')).toEqual(['c4.eth0']);
        expect(plan.remoteEndpoints.map((r) => r.name)).toEqual(['c2.eth0', 'c9.eth0']);
        const d = await b.next('delta');
        expect(d.delta.upsertRemoteEndpoints.map((r) => r.name)).toEqual(['c4.eth0']);
      } finally {
        stopB();
      }
    });

    test('a hello with an unusable underlay address is told so, and other hosts get nothing that points at it', async () => {
      await start();
      await createNetwork('n', '10.0.0.0/24');
      const a = await connect();
      a.send(hello('h1', [c1], { address: 'fd00::1' }));
      await a.next('plan');
      expect(await a.next('error')).toMatchObject({ code: 'Invalid', message: expect.stringMatching(/not an IPv4 address/) });
      expect((await rest('GET', '/api/v1/hosts/h1')).body.status.address).toBeUndefined();
      const b = await connect();
      b.send(hello('h2', [c2], { address: H2 }));
      const { plan } = await b.next('plan');
      expect(plan.flood).toEqual([]);
      expect(plan.remoteEndpoints).toEqual([]);
      // h1 itself can still reach h2.
      expect((await a.next('delta')).delta.upsertRemoteEndpoints).toEqual([remoteC2]);
    });
  });
});
