import { renameSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { MAX_RPC_LINE } from '../../../../model/agent-rpc.js';
import { AgentRpcHandlers } from '../../../../agents/rpc/rpc-handlers.js';
import { RpcServer } from '../../../../agents/rpc/rpc-server.js';
import { makeHarness, silentLogger, type Harness } from '../support/harness.js';

type Response = { id: number | string | null; result?: unknown; error?: { code: string; message: string; field?: string; retriable: boolean } };

/** A raw client: write lines, read newline-delimited responses. */
class RawClient {
  private buf = '';
  private readonly queue: Response[] = [];
  private waiting: ((r: Response) => void)[] = [];
  readonly closed: Promise<void>;

  constructor(readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const r = JSON.parse(this.buf.slice(0, nl)) as Response;
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiting.shift();
        if (w) w(r);
        else this.queue.push(r);
      }
    });
    this.closed = new Promise((resolve) => sock.on('close', () => resolve()));
    sock.on('error', () => {});
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(line: string | object): void {
    this.sock.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }

  next(): Promise<Response> {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async call(req: object): Promise<Response> {
    this.send(req);
    return this.next();
  }
}

describe('RpcServer', () => {
  let h: Harness;
  let server: RpcServer;
  let socketPath: string;
  const clients: RawClient[] = [];
  const client = async () => {
    const c = await RawClient.connect(socketPath);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    h = makeHarness();
    socketPath = join(h.dir, 'run', 'weft', 'agent.sock');
    const handlers = new AgentRpcHandlers(h.config, h.endpoints, h.store, h.plan, h.uplink, h.cni);
    server = new RpcServer({ socketPath }, handlers, silentLogger);
    await server.listen();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.sock.destroy();
    await server.close();
    h.cleanup();
  });

  test('creates the parent directory 0755 and the socket 0600', () => {
    expect(statSync(join(h.dir, 'run', 'weft')).mode & 0o777).toBe(0o755);
    const st = statSync(socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  test('health answers with the host, controller state and plan', async () => {
    const c = await client();
    expect(await c.call({ id: 1, method: 'health', params: {} })).toEqual({
      id: 1,
      result: { host: 'h1', controller: 'connected', planRevision: 1, endpoints: 0, networks: ['blue'] },
    });
  });

  test('attach, list, detach round trip', async () => {
    const c = await client();
    const netns = await h.netns();
    const a = await c.call({ id: 'a', method: 'attach', params: { network: 'blue', containerId: 'c1', netns } });
    expect(a).toMatchObject({ id: 'a', result: { endpoint: 'c1.eth0', ip: '100.64.0.2', existing: false } });
    expect(await c.call({ id: 2, method: 'list', params: { network: 'blue' } })).toMatchObject({ id: 2, result: { endpoints: [{ endpoint: 'c1.eth0' }] } });
    expect(await c.call({ id: 3, method: 'detach', params: { containerId: 'c1' } })).toEqual({ id: 3, result: { detached: ['c1.eth0'] } });
    expect(await c.call({ id: 4, method: 'detach', params: { containerId: 'c1' } })).toEqual({ id: 4, result: { detached: [] } });
  });

  test('garbage JSON gets BadJSON and the connection stays usable', async () => {
    const c = await client();
    c.send('{"id": 1, "method": ');
    const bad = await c.next();
    expect(bad.id).toBeNull();
    expect(bad.error?.code).toBe('BadJSON');
    expect((await c.call({ id: 9, method: 'health' })).id).toBe(9);
  });

  test.each<[string, object, string, string | undefined]>([
    ['unknown method', { id: 1, method: 'explode', params: {} }, 'Invalid', '/method'],
    ['missing method', { id: 1, params: {} }, 'Invalid', '/method'],
    ['missing id', { method: 'health', params: {} }, 'Invalid', '/id'],
    ['unknown envelope field', { id: 1, method: 'health', params: {}, jsonrpc: '2.0' }, 'Invalid', '/jsonrpc'],
    ['params not an object', { id: 1, method: 'health', params: [1] }, 'Invalid', '/params'],
    ['attach without params', { id: 1, method: 'attach' }, 'Invalid', '/network'],
    ['attach with a wrong-typed field', { id: 1, method: 'attach', params: { network: 'blue', containerId: 7, netns: '/run/netns/x' } }, 'Invalid', '/containerId'],
    ['attach with an unknown field', { id: 1, method: 'attach', params: { network: 'blue', containerId: 'c', netns: '/run/netns/x', color: 'red' } }, 'Invalid', '/color'],
    ['detach without containerId', { id: 1, method: 'detach', params: {} }, 'Invalid', '/containerId'],
    ['health with params', { id: 1, method: 'health', params: { verbose: true } }, 'Invalid', '/verbose'],
    ['a JSON array', [1, 2], 'Invalid', ''],
  ])('%s is refused', async (_what, req, code, field) => {
    const c = await client();
    const r = await c.call(req);
    expect(r.error?.code).toBe(code);
    expect(r.error?.field).toBe(field);
    expect(r.error?.retriable).toBe(false);
    expect(r.id).toBe('id' in req && typeof (req as { id: unknown }).id === 'number' ? 1 : null);
  });

  test('a line over the limit gets TooLarge and the connection is closed', async () => {
    const c = await client();
    c.sock.write('x'.repeat(MAX_RPC_LINE + 10));
    const r = await c.next();
    expect(r).toMatchObject({ id: null, error: { code: 'TooLarge' } });
    await c.closed;
  });

  test('requests on one connection run concurrently and are matched by id', async () => {
    h.dp.deleteDelayMs = 0;
    const c = await client();
    const netns = await Promise.all([1, 2, 3, 4, 5].map(() => h.netns()));
    netns.forEach((ns, i) => c.send({ id: i, method: 'attach', params: { network: 'blue', containerId: `c${i}`, netns: ns } }));
    c.send({ id: 'h', method: 'health', params: {} });
    const got = await Promise.all([0, 1, 2, 3, 4, 5].map(() => c.next()));
    const byId = new Map(got.map((r) => [r.id, r]));
    expect([...byId.keys()].sort()).toEqual([0, 1, 2, 3, 4, 'h'].sort());
    for (const i of [0, 1, 2, 3, 4]) expect(byId.get(i)?.result).toMatchObject({ containerId: `c${i}` });
    expect(new Set([0, 1, 2, 3, 4].map((i) => (byId.get(i)?.result as { ip: string }).ip)).size).toBe(5);
  });

  test('a failed attach answers with the WeftError body', async () => {
    const c = await client();
    const r = await c.call({ id: 5, method: 'attach', params: { network: 'red', containerId: 'c', netns: '/run/netns/x' } });
    expect(r).toMatchObject({ id: 5, error: { code: 'NotFound', field: '/network', retriable: false } });
  });

  test('replaces a stale socket file, refuses a live one and a non-socket', async () => {
    const live = new RpcServer({ socketPath }, new AgentRpcHandlers(h.config, h.endpoints, h.store, h.plan, h.uplink, h.cni), silentLogger);
    await expect(live.listen()).rejects.toMatchObject({ code: 'Conflict' });

    const filePath = join(h.dir, 'not-a-socket');
    writeFileSync(filePath, 'x');
    const onFile = new RpcServer({ socketPath: filePath }, new AgentRpcHandlers(h.config, h.endpoints, h.store, h.plan, h.uplink, h.cni), silentLogger);
    await expect(onFile.listen()).rejects.toMatchObject({ code: 'Conflict' });

    // a socket file nobody serves (a crashed agent's) is replaced
    const stalePath = join(h.dir, 'stale.sock');
    const bound = join(h.dir, 'bound.sock');
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(bound, () => r()));
    renameSync(bound, stalePath); // closing unlinks `bound` only: the file at stalePath stays, served by nobody
    await new Promise<void>((r) => dead.close(() => r()));
    expect(statSync(stalePath).isSocket()).toBe(true);
    const fresh = new RpcServer({ socketPath: stalePath }, new AgentRpcHandlers(h.config, h.endpoints, h.store, h.plan, h.uplink, h.cni), silentLogger);
    await fresh.listen();
    const c = await RawClient.connect(stalePath);
    clients.push(c);
    expect((await c.call({ id: 1, method: 'health' })).result).toMatchObject({ host: 'h1' });
    await fresh.close();
  });
});
