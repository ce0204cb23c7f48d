// Static addresses inside another host's block (loans) through the real
// controller: its hub, its SQLite store on disk, agents over WebSocket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type RunningController } from '../../../../controller/main.js';
import type { AgentHello, ControllerMessage, EndpointReport } from '../../../../model/agent-protocol.js';
import { TestAgent } from '../support/agent-client.js';
import { type JsonBody, adminRest } from '../support/harness.js';

const rep = (name: string, ip: string, containerId = name): EndpointReport => ({
  name, network: 'n', containerId, ifname: 'eth0', ip, mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/run/netns/x', labels: {},
});
const hello = (host: string, endpoints: EndpointReport[] = []): AgentHello => ({
  type: 'hello', host, address: `192.0.2.${host.slice(1)}`, agentVersion: 'test', underlayMtu: 1500, appliedRevision: 0, endpoints,
});

/** Skip messages until one of `type` matching `pred` arrives. */
async function until<T extends ControllerMessage['type']>(a: TestAgent, type: T, pred: (m: Extract<ControllerMessage, { type: T }>) => boolean = () => true) {
  for (;;) {
    const m = await a.next();
    if (m.type === type && pred(m as Extract<ControllerMessage, { type: T }>)) return m as Extract<ControllerMessage, { type: T }>;
  }
}

describe('agent hub: static addresses borrowed from another host', () => {
  let dir: string;
  let ctl: RunningController;
  const agents: TestAgent[] = [];
  const rest = (method: string, path: string, body?: unknown) => adminRest(ctl, method, path, body);
  /** A connected, greeted agent whose plan is read. */
  const join_ = async (host: string) => {
    const a = await TestAgent.connect(ctl.url, ctl.agentToken);
    agents.push(a);
    a.send(hello(host));
    const { plan } = await a.next('plan');
    return { a, plan };
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-loans-'));
    ctl = await startController({ listen: '127.0.0.1:0', dataDir: dir, logLevel: 'silent' });
    expect((await rest('POST', '/api/v1/networks', { metadata: { name: 'n' }, spec: { subnet: '100.64.0.0/24' } })).status).toBe(201);
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    await ctl?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('granted once the owner of the block confirms; the borrower gets it in its plan first; freeing returns it', async () => {
    const h1 = await join_('h1');
    expect(h1.plan.blocks).toEqual([{ network: 'n', cidr: '100.64.0.0/26' }]);
    const h2 = await join_('h2');
    h2.a.send({ type: 'requestStatic', requestId: 's1', network: 'n', ip: '100.64.0.20', owner: 'c2' });
    // The owner excludes it at once and is asked to confirm.
    const asked = await until(h1.a, 'delta', (d) => d.delta.upsertReservations.length > 0);
    expect(asked.delta.upsertReservations).toEqual([{ network: 'n', ip: '100.64.0.20', owner: 'c2', pending: true }]);
    expect(await h2.a.quiet(100)).toEqual([]);
    h1.a.send({ type: 'loanConfirmed', network: 'n', ip: '100.64.0.20' });
    const d = await h2.a.next('delta');
    expect(d.delta.upsertReservations).toEqual([{ network: 'n', ip: '100.64.0.20', owner: 'c2' }]);
    expect(await h2.a.next('staticGranted')).toEqual({ type: 'staticGranted', requestId: 's1', reservation: { network: 'n', ip: '100.64.0.20', owner: 'c2' } });
    expect((await until(h1.a, 'delta')).delta.upsertReservations).toEqual([{ network: 'n', ip: '100.64.0.20', owner: 'c2' }]);

    // The borrower's endpoint is accepted and reaches the owner as a remote endpoint.
    h2.a.send({ type: 'endpointUp', endpoint: rep('c2.eth0', '100.64.0.20', 'c2') });
    const remote = await until(h1.a, 'delta', (m) => m.delta.upsertRemoteEndpoints.length > 0);
    expect(remote.delta.upsertRemoteEndpoints).toEqual([expect.objectContaining({ name: 'c2.eth0', ip: '100.64.0.20', host: 'h2', vtep: '192.0.2.2' })]);

    // Gone: the address returns to h1's block (its plan no longer reserves it).
    h2.a.send({ type: 'endpointDown', name: 'c2.eth0' });
    const back = await until(h1.a, 'delta', (m) => m.delta.removeReservations.length > 0);
    expect(back.delta.removeReservations).toEqual([{ network: 'n', ip: '100.64.0.20', owner: 'c2' }]);
  });

  test("a declared endpoint's address in another host's block waits for that host too; the attach then gets it", async () => {
    const h1 = await join_('h1');
    const h2 = await join_('h2');
    const declared = await rest('POST', '/api/v1/apply', {
      items: [{ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'db' }, spec: { network: 'n', host: 'h2', containerId: 'c5', ifname: 'eth0', ip: '100.64.0.30' } }],
    });
    expect(declared.status).toBe(200);
    const asked = await until(h1.a, 'delta', (d) => d.delta.upsertReservations.length > 0);
    expect(asked.delta.upsertReservations).toEqual([{ network: 'n', ip: '100.64.0.30', owner: 'c5', pending: true }]);
    // Not h2's yet: its attach asks, and waits for h1.
    expect(await h2.a.quiet(100)).toEqual([]);
    h2.a.send({ type: 'requestStatic', requestId: 's5', network: 'n', ip: '100.64.0.30', owner: 'c5' });
    expect(await h2.a.quiet(100)).toEqual([]);
    h1.a.send({ type: 'loanConfirmed', network: 'n', ip: '100.64.0.30' });
    expect((await h2.a.next('delta')).delta.upsertReservations).toEqual([{ network: 'n', ip: '100.64.0.30', owner: 'c5' }]);
    expect(await h2.a.next('staticGranted')).toMatchObject({ requestId: 's5' });
    // Another container may not have it, from any host.
    h1.a.send({ type: 'requestStatic', requestId: 's6', network: 'n', ip: '100.64.0.30', owner: 'c6' });
    const refused = await until(h1.a, 'requestFailed');
    expect(refused).toMatchObject({ requestId: 's6', code: 'AddressInUse' });
    expect(refused.message).toContain('declared endpoint "db"');
  });

  test("the owner's endpoint that got the address first wins; the borrower hears who has it", async () => {
    const h1 = await join_('h1');
    const h2 = await join_('h2');
    h2.a.send({ type: 'requestStatic', requestId: 's1', network: 'n', ip: '100.64.0.21', owner: 'c2' });
    await until(h1.a, 'delta', (d) => d.delta.upsertReservations.length > 0);
    // h1 had allocated it locally before the plan told it: it reports its endpoint, never confirms.
    h1.a.send({ type: 'endpointUp', endpoint: rep('mine.eth0', '100.64.0.21', 'mine') });
    const failed = await until(h2.a, 'requestFailed');
    expect(failed).toMatchObject({ requestId: 's1', code: 'AddressInUse' });
    expect(failed.message).toContain('100.64.0.21');
    expect(failed.message).toContain('endpoint "mine.eth0" (container mine on host "h1")');
    const ep = await rest('GET', '/api/v1/endpoints/mine.eth0');
    expect(ep.body).toMatchObject({ spec: { host: 'h1', ip: '100.64.0.21' } });
    // The loan is gone from the owner's plan.
    const withdrawn = await until(h1.a, 'delta', (d) => d.delta.removeReservations.length > 0);
    expect(withdrawn.delta.removeReservations).toEqual([{ network: 'n', ip: '100.64.0.21', owner: 'c2', pending: true }]);
  });

  test('an owner that is not connected cannot confirm: NotReady at once, nothing left reserved', async () => {
    const h1 = await join_('h1');
    await h1.a.close();
    const h2 = await join_('h2');
    h2.a.send({ type: 'requestStatic', requestId: 's1', network: 'n', ip: '100.64.0.22', owner: 'c2' });
    const failed = await until(h2.a, 'requestFailed');
    expect(failed.code).toBe('NotReady');
    expect(failed.message).toContain('100.64.0.0/26, the address block of host "h1", which is not connected');
    // Nothing was left reserved: another container asking meets the same answer, not AddressInUse.
    h2.a.send({ type: 'requestStatic', requestId: 's1b', network: 'n', ip: '100.64.0.22', owner: 'c9' });
    expect(await until(h2.a, 'requestFailed')).toMatchObject({ requestId: 's1b', code: 'NotReady' });
    // A free address outside every block needs nobody's confirmation.
    h2.a.send({ type: 'requestStatic', requestId: 's2', network: 'n', ip: '100.64.0.250', owner: 'c3' });
    expect(await until(h2.a, 'staticGranted')).toMatchObject({ requestId: 's2' });
  });

  test('an owner that disconnects while asked: the request fails naming it', async () => {
    const h1 = await join_('h1');
    const h2 = await join_('h2');
    h2.a.send({ type: 'requestStatic', requestId: 's1', network: 'n', ip: '100.64.0.23', owner: 'c2' });
    await until(h1.a, 'delta', (d) => d.delta.upsertReservations.length > 0);
    await h1.a.close();
    const failed = await until(h2.a, 'requestFailed');
    expect(failed).toMatchObject({ requestId: 's1', code: 'NotReady' });
    expect(failed.message).toContain('host "h1"');
  });

  test('a host confirming a loan outside its blocks is refused', async () => {
    const h1 = await join_('h1');
    const h2 = await join_('h2');
    const h3 = await join_('h3');
    h2.a.send({ type: 'requestStatic', requestId: 's1', network: 'n', ip: '100.64.0.24', owner: 'c2' });
    await until(h1.a, 'delta', (d) => d.delta.upsertReservations.length > 0);
    h3.a.send({ type: 'loanConfirmed', network: 'n', ip: '100.64.0.24' });
    expect(await until(h3.a, 'error')).toMatchObject({ code: 'Invalid' });
    expect(await h2.a.quiet(100)).toEqual([]);
    h1.a.send({ type: 'loanConfirmed', network: 'n', ip: '100.64.0.24' });
    expect(await until(h2.a, 'staticGranted')).toMatchObject({ requestId: 's1' });
  });

  test('concurrent requests for one address from two hosts, with the owner racing locally: exactly one holder, every round', async () => {
    const h1 = await join_('h1');
    const h2 = await join_('h2');
    const h3 = await join_('h3');
    // h1 owns 100.64.0.0/26. Like its agent, it confirms every loan it is asked for unless it took the address itself first.
    const mine = new Set<string>();
    let stop = false;
    const owner = (async () => {
      while (!stop) {
        const m = await h1.a.next(undefined, 60_000).catch(() => undefined);
        if (!m || m.type !== 'delta') continue;
        for (const r of m.delta.upsertReservations) if (r.pending && !mine.has(r.ip)) h1.a.send({ type: 'loanConfirmed', network: r.network, ip: r.ip });
      }
    })();
    const result = async (a: TestAgent, requestId: string): Promise<{ ok: boolean; message?: string }> => {
      for (;;) {
        const m = await a.next();
        if (m.type === 'staticGranted' && m.requestId === requestId) return { ok: true };
        if (m.type === 'requestFailed' && m.requestId === requestId) return { ok: false, message: m.message };
      }
    };
    const ROUNDS = 40;
    const wins = { h1: 0, h2: 0, h3: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const ip = `100.64.0.${2 + i}`;
      // Both requests leave in the same tick; every third round h1 also reports a local endpoint on it.
      h2.a.send({ type: 'requestStatic', requestId: `a${i}`, network: 'n', ip, owner: `x${i}` });
      h3.a.send({ type: 'requestStatic', requestId: `b${i}`, network: 'n', ip, owner: `y${i}` });
      if (i % 3 === 0) {
        mine.add(ip);
        h1.a.send({ type: 'endpointUp', endpoint: rep(`own${i}.eth0`, ip, `own${i}`) });
      }
      const [r2, r3] = await Promise.all([result(h2.a, `a${i}`), result(h3.a, `b${i}`)]);
      expect(Number(r2.ok) + Number(r3.ok)).toBeLessThanOrEqual(1);
      const records = (await rest('GET', '/api/v1/endpoints')).body.items as JsonBody[];
      const ownRecord = records.some((e) => e.spec.ip === ip);
      // Exactly one holder: h1's endpoint, or one of the two borrowers.
      expect(Number(r2.ok) + Number(r3.ok) + Number(ownRecord)).toBe(1);
      for (const r of [r2, r3]) {
        if (r.ok) continue;
        expect(r.message).toContain(ip);
        expect(r.message).toMatch(/host "h[123]"/);
      }
      if (r2.ok) wins.h2++;
      else if (r3.ok) wins.h3++;
      else wins.h1++;
    }
    stop = true;
    h1.a.send({ type: 'heartbeat' });
    await h1.a.close();
    await owner;
    expect(wins.h1 + wins.h2 + wins.h3).toBe(ROUNDS);
    expect(wins.h1).toBeGreaterThan(0);
    expect(wins.h2 + wins.h3).toBeGreaterThan(0);
  });
});
