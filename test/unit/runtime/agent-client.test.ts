import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WeftError } from '../../../model/errors.js';
import type { AttachResult } from '../../../model/agent-rpc.js';
import { AgentClient, assertAgentSocket, callAgent } from '../../../runtime/agent-client.js';

type Reply = (req: { id: number; method: string; params: unknown }, sock: Socket) => void;

/** A tiny agent stand-in: newline-delimited JSON, one reply function per test. */
function fakeAgent(path: string, reply: Reply): Promise<Server> {
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (c) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        reply(JSON.parse(line), sock);
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

const send = (sock: Socket, v: unknown) => sock.write(`${JSON.stringify(v)}\n`);

const ATTACHED: AttachResult = {
  endpoint: 'c1.eth0', network: 'demo', containerId: 'c1', ifname: 'eth0', hostIfname: 'wv-01020304', netns: '/run/netns/wr-1',
  address: '10.88.0.5/24', ip: '10.88.0.5', prefixLength: 24, gateway: '10.88.0.1', mac: '02:00:0a:58:00:05', mtu: 1450, existing: false,
};

describe('AgentClient', () => {
  let dir: string;
  let sockPath: string;
  let server: Server | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-rpc-'));
    sockPath = join(dir, 'agent.sock');
  });
  afterEach(async () => {
    if (server) await new Promise((r) => server?.close(r));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one JSON line per request and resolves the matching result', async () => {
    const seen: unknown[] = [];
    server = await fakeAgent(sockPath, (req, sock) => {
      seen.push(req);
      send(sock, { id: req.id, result: ATTACHED });
    });
    const r = await callAgent(sockPath, 'attach', { network: 'demo', containerId: 'c1', netns: '/run/netns/wr-1' });
    expect(r).toEqual(ATTACHED);
    expect(seen).toEqual([{ id: 1, method: 'attach', params: { network: 'demo', containerId: 'c1', netns: '/run/netns/wr-1' } }]);
  });

  it('matches concurrent requests by id when answers come out of order', async () => {
    const held: { id: number; sock: Socket }[] = [];
    server = await fakeAgent(sockPath, (req, sock) => {
      held.push({ id: req.id, sock });
      if (held.length === 2) for (const h of [...held].reverse()) send(h.sock, { id: h.id, result: { detached: [`x${h.id}`] } });
    });
    const client = await AgentClient.connect(sockPath);
    try {
      const [a, b] = await Promise.all([client.call('detach', { containerId: 'a' }), client.call('detach', { containerId: 'b' })]);
      expect(a.detached).toEqual(['x1']);
      expect(b.detached).toEqual(['x2']);
    } finally {
      client.close();
    }
  });

  it('maps an error body to a WeftError with code and details', async () => {
    server = await fakeAgent(sockPath, (req, sock) =>
      send(sock, { id: req.id, error: { code: 'AddressInUse', message: '10.88.0.5 is in use', field: '/ip', details: [{ path: '/ip', message: 'taken' }], retriable: false } }),
    );
    const err = await callAgent(sockPath, 'attach', { network: 'demo', containerId: 'c', netns: '/x', ip: '10.88.0.5' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeftError);
    expect(err).toMatchObject({ code: 'AddressInUse', message: '10.88.0.5 is in use', field: '/ip' });
  });

  it('fails every pending request when the agent answers with id null (an unparseable request)', async () => {
    server = await fakeAgent(sockPath, (_req, sock) => send(sock, { id: null, error: { code: 'BadJSON', message: 'request is not valid JSON', retriable: false } }));
    await expect(callAgent(sockPath, 'health', {})).rejects.toMatchObject({ code: 'BadJSON' });
  });

  it('times out a request the agent never answers', async () => {
    server = await fakeAgent(sockPath, () => undefined);
    await expect(callAgent(sockPath, 'list', {}, { timeoutMs: 150 })).rejects.toThrow('the agent did not answer list within 150ms');
  });

  it('rejects pending requests when the agent closes the connection', async () => {
    server = await fakeAgent(sockPath, (_req, sock) => sock.destroy());
    await expect(callAgent(sockPath, 'health', {})).rejects.toThrow('the agent closed the connection before answering');
  });

  it('rejects on a malformed response line', async () => {
    server = await fakeAgent(sockPath, (_req, sock) => sock.write('not json\n'));
    await expect(callAgent(sockPath, 'health', {})).rejects.toThrow(/malformed response: not json/);
  });

  it('says the agent is not running when the socket is missing', async () => {
    await expect(callAgent(sockPath, 'health', {})).rejects.toThrow(
      `weft agent is not running (no socket at ${sockPath}): start it with weft up or weft agent`,
    );
    expect(() => assertAgentSocket(sockPath, () => false)).toThrow(`weft agent is not running (no socket at ${sockPath})`);
  });

  it('says the agent is not running when the socket file is stale', async () => {
    const s = await fakeAgent(sockPath, () => undefined);
    // Closing a listening unix socket server removes its file; leave a plain file behind instead.
    await new Promise((r) => s.close(r));
    writeFileSync(sockPath, '');
    await expect(callAgent(sockPath, 'health', {})).rejects.toMatchObject({ code: 'NotReady', message: expect.stringMatching(/weft agent is not running|refuses connections/) });
  });
});
