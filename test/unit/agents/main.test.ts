// startAgent end to end in one process: fake kernel, a tiny controller on
// loopback, the real store and socket in a temp dir.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../../agents/main.js';
import { EndpointStore } from '../../../agents/state/endpoint-store.js';
import { TestKernel } from './support/test-kernel.js';
import { testConfig, testPlan } from './support/harness.js';
import { TOKEN, TinyController, until } from './support/tiny-controller.js';

type Response = { id: unknown; result?: Record<string, unknown>; error?: { code: string; retriable: boolean } };

function rpc(path: string, method: string, params: object): Promise<Response> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path, () => s.write(`${JSON.stringify({ id: 1, method, params })}\n`));
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        s.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as Response);
      }
    });
    s.on('error', reject);
  });
}

const tuning = { reconnectMinMs: 20, reconnectMaxMs: 100, firstPlanWaitMs: 300, requestTimeoutMs: 300, resyncMs: 0 };

describe('startAgent', () => {
  let dir: string;
  let ctl: TinyController;
  let agent: RunningAgent | undefined;
  let kernel: TestKernel;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-main-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    ctl = new TinyController();
    kernel = new TestKernel();
  });

  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await ctl.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const opts = (controller: string) => ({
    controller, name: 'h1', tokenFile: join(dir, 'token'), socket: join(dir, 'sock', 'agent.sock'), stateDir: join(dir, 'state'),
    datapath: kernel, logLevel: 'silent', tuning,
  });

  test('connects, takes the plan, reconciles, then serves attaches on the socket', async () => {
    ctl.onMessage = (ws, m) => {
      if (m.type === 'hello') ctl.send({ type: 'plan', plan: testPlan({ revision: 3 }) }, ws);
    };
    const base = await ctl.listen();
    agent = await startAgent(opts(base));
    expect(statSync(agent.socketPath).mode & 0o777).toBe(0o600);
    expect((await ctl.next('status')).appliedRevision).toBe(3);

    const netns = await kernel.workload('c1');
    const r = await rpc(agent.socketPath, 'attach', { network: 'blue', containerId: 'c1', netns });
    expect(r.result).toMatchObject({ ip: '100.64.0.2', gateway: '100.64.0.1' });
    expect((await ctl.next('endpointUp')).endpoint.name).toBe('c1.eth0');
    expect((await rpc(agent.socketPath, 'health', {})).result).toMatchObject({ host: 'h1', controller: 'connected', planRevision: 3, endpoints: 1 });

    await agent.close();
    agent = undefined;
    expect(existsSync(join(dir, 'sock', 'agent.sock'))).toBe(false);
  });

  test('with the controller unreachable, serves from the cached plan and sweeps crash leftovers first', async () => {
    const cfg = testConfig(join(dir, 'state'));
    const store = new EndpointStore(cfg);
    store.savePlan(testPlan({ revision: 5 }));
    store.close();
    const half = await kernel.workload('half');
    await kernel.host().addVeth({ name: 'wv-0badf00d', mtu: 1450, up: true, peer: { name: 'eth0', netns: half, up: true } });

    agent = await startAgent(opts('http://127.0.0.1:9')); // nothing listens there
    expect(await kernel.weftLinks('wv-')).toEqual([]);
    const netns = await kernel.workload('c1');
    const r = await rpc(agent.socketPath, 'attach', { network: 'blue', containerId: 'c1', netns });
    expect(r.result).toMatchObject({ ip: '100.64.0.2' });
    expect((await rpc(agent.socketPath, 'health', {})).result).toMatchObject({ controller: 'disconnected', planRevision: 5 });
  });

  test('with neither a controller nor a cached plan, attaches fail NotReady (retriable)', async () => {
    agent = await startAgent(opts('http://127.0.0.1:9'));
    const r = await rpc(agent.socketPath, 'attach', { network: 'blue', containerId: 'c1', netns: await kernel.workload('c1') });
    expect(r.error).toMatchObject({ code: 'NotReady', retriable: true });
  });

  test('picks the controller up when it appears later', async () => {
    const base = await ctl.listen();
    const port = ctl.port;
    await ctl.close();
    agent = await startAgent(opts(base));
    ctl = new TinyController();
    ctl.onMessage = (ws, m) => {
      if (m.type === 'hello') ctl.send({ type: 'plan', plan: testPlan({ revision: 9 }) }, ws);
    };
    await ctl.listenOn(port);
    await until(async () => (await rpc(agent!.socketPath, 'health', {})).result?.planRevision === 9, 3000);
  });

  test('a controller outage leaves the overlay as it is and local attaches work; on reconnect both sides converge', async () => {
    const b2 = { name: 'b2', network: 'blue', ip: '100.64.0.66', mac: '02:00:00:00:00:b2', host: 'h2', vtep: '198.18.0.12' };
    const b3 = { name: 'b3', network: 'blue', ip: '100.64.0.130', mac: '02:00:00:00:00:b3', host: 'h3', vtep: '198.18.0.13' };
    const flood = [{ network: 'blue', host: 'h2', vtep: '198.18.0.12' }, { network: 'blue', host: 'h3', vtep: '198.18.0.13' }];
    let plan = testPlan({ revision: 3, flood, remoteEndpoints: [b2, b3] });
    ctl.onMessage = (ws, m) => {
      if (m.type === 'hello') ctl.send({ type: 'plan', plan }, ws);
    };
    const base = await ctl.listen();
    const port = ctl.port;
    agent = await startAgent(opts(base));
    const hello = await ctl.next('hello');
    expect(hello).toMatchObject({ address: '127.0.0.1' });
    expect((await rpc(agent.socketPath, 'attach', { network: 'blue', containerId: 'c1', netns: await kernel.workload('c1') })).result).toBeDefined();
    await until(async () => (await kernel.fdbOf('wx-000010')).length === 4);

    // the controller goes away
    await ctl.close();
    await until(async () => (await rpc(agent!.socketPath, 'health', {})).result?.controller === 'disconnected');
    expect(await kernel.fdbOf('wx-000010')).toHaveLength(4);
    expect(await kernel.neighOf('wx-000010')).toHaveLength(2);
    expect((await rpc(agent.socketPath, 'attach', { network: 'blue', containerId: 'c2', netns: await kernel.workload('c2') })).result).toMatchObject({ network: 'blue' });
    expect(await kernel.fdbOf('wx-000010')).toHaveLength(4);

    // it comes back having lost host h3 meanwhile
    plan = testPlan({ revision: 4, flood: flood.slice(0, 1), remoteEndpoints: [b2] });
    ctl = new TinyController();
    ctl.onMessage = (ws, m) => {
      if (m.type === 'hello') ctl.send({ type: 'plan', plan }, ws);
    };
    await ctl.listenOn(port);
    const again = await ctl.next('hello');
    expect(again.endpoints.map((e) => e.name).sort()).toEqual(['c1.eth0', 'c2.eth0']);
    await until(() => ctl.received.some((m) => m.type === 'status' && m.appliedRevision === 4), 3000);
    expect(await kernel.fdbOf('wx-000010')).toEqual(['00:00:00:00:00:00 198.18.0.12', '02:00:00:00:00:b2 198.18.0.12']);
    expect(await kernel.neighOf('wx-000010')).toEqual(['100.64.0.66 02:00:00:00:00:b2']);
  });

  test('refuses a bad name, URL, underlay address or token file up front', async () => {
    await expect(startAgent({ ...opts('http://x'), underlayAddress: 'fd00::1' })).rejects.toMatchObject({ code: 'Invalid' });
    await expect(startAgent({ ...opts('http://x'), name: 'Bad_Name' })).rejects.toMatchObject({ code: 'Invalid' });
    await expect(startAgent(opts('ftp://x'))).rejects.toMatchObject({ code: 'Invalid' });
    await expect(startAgent({ ...opts('http://x'), tokenFile: join(dir, 'missing') })).rejects.toMatchObject({ code: 'Unauthorized' });
  });
});
