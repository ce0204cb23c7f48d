// The watch endpoint over a real ws client: auth by header or first
// message (never the URL), unreadable messages refused, resume across a
// reconnect.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WatchSocket, type WatchSocketOptions } from '../../../../controller/api/watch-socket.js';
import { routeUpgrades } from '../../../../controller/api/route-upgrades.js';
import { WATCH_CLOSE, WATCH_PATH, type WatchMessage } from '../../../../model/watch.js';
import { TOKENS } from '../support/harness.js';
import { WatchTestClient, type ConnectOptions } from './watch-client.js';
import { changesOf, watchHarness } from './watch-harness.js';

type Harness = ReturnType<typeof watchHarness>;

const isSynced = (m: WatchMessage) => m.type === 'synced';
const positionOf = (m: WatchMessage) => (m as { position: string }).position;

describe('watch socket', () => {
  let h: Harness;
  let socket: WatchSocket;
  let server: Server;
  let base: string;
  const clients: WatchTestClient[] = [];

  async function start(options: Partial<WatchSocketOptions> = {}) {
    h = watchHarness({ coalesceMs: 10 });
    socket = new WatchSocket(h.hub, TOKENS, h.logger, { authTimeoutMs: 2_000, pingIntervalMs: 60_000, ...options });
    server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', routeUpgrades([{ path: WATCH_PATH, who: 'watch clients', handle: (req, s, head) => socket.handleUpgrade(req, s, head) }]));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const connect = async (opts: ConnectOptions = {}) => {
    const c = await WatchTestClient.connect(base, opts);
    clients.push(c);
    return c;
  };

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await socket.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    h.close();
  });

  test('a client with the admin token in the Authorization header gets the full state, then synced', async () => {
    await start();
    h.createNetwork('web', '10.1.0.0/16');
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    expect(changesOf(c.got)).toEqual(['added Network/web']);
  });

  test('a wrong token in the header is refused with 401 before the handshake', async () => {
    await start();
    await expect(connect({ header: TOKENS.agent })).rejects.toMatchObject({ statusCode: 401, body: expect.stringContaining('Unauthorized') });
  });

  test('without a header, an auth message first authenticates (what a browser does)', async () => {
    await start();
    h.createNetwork('web', '10.1.0.0/16');
    const c = await connect();
    c.send({ type: 'auth', token: TOKENS.admin });
    await c.until(isSynced, 'synced');
    expect(changesOf(c.got)).toEqual(['added Network/web']);
  });

  test('an Authorization header of another scheme (a proxy\'s Basic auth) is not ours: the auth message still works', async () => {
    await start();
    const c = await connect({ authorization: 'Basic dXNlcjpwYXNz' });
    c.send({ type: 'auth', token: TOKENS.admin });
    await c.until(isSynced, 'synced');
  });

  test('a wrong token in the auth message gets one error, then close 4401, and no state', async () => {
    await start();
    h.createNetwork('web', '10.1.0.0/16');
    const c = await connect();
    c.send({ type: 'auth', token: TOKENS.agent });
    expect(await c.closed()).toBe(WATCH_CLOSE.unauthorized);
    expect(c.got).toEqual([{ type: 'error', code: 'Unauthorized', message: expect.stringMatching(/wrong token/) }]);
  });

  test('a message other than auth first is unauthorized', async () => {
    await start();
    const c = await connect();
    c.send({ type: 'ping' });
    expect(await c.closed()).toBe(WATCH_CLOSE.unauthorized);
    expect(c.got).toEqual([{ type: 'error', code: 'Unauthorized', message: expect.stringMatching(/before "auth"/) }]);
  });

  test('the token is never read from the query string: the client is closed 4401 when no auth message comes', async () => {
    await start({ authTimeoutMs: 100 });
    const c = await connect({ query: `?token=${TOKENS.admin}&access_token=${TOKENS.admin}&authorization=Bearer%20${TOKENS.admin}` });
    expect(await c.closed()).toBe(WATCH_CLOSE.unauthorized);
    expect(c.got).toEqual([{ type: 'error', code: 'Unauthorized', message: expect.stringMatching(/no "auth" message within 100 ms/) }]);
  });

  test.each([
    { name: 'text that is not JSON', send: (c: WatchTestClient) => c.ws.send('{nope'), code: 'BadJSON' },
    { name: 'an unknown message type', send: (c: WatchTestClient) => c.send({ type: 'subscribe' }), code: 'Invalid' },
    { name: 'a binary frame', send: (c: WatchTestClient) => c.ws.send(Buffer.from('{"type":"ping"}')), code: 'Invalid' },
    { name: 'a message over 64 KiB', send: (c: WatchTestClient) => c.send({ type: 'ping', pad: 'x'.repeat(70 * 1024) }), code: 'TooLarge' },
    { name: 'a second auth', send: (c: WatchTestClient) => c.send({ type: 'auth', token: TOKENS.admin }), code: 'Invalid' },
  ])('$name: an error, then close 4400', async ({ send, code }) => {
    await start();
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    send(c);
    expect(await c.closed()).toBe(WATCH_CLOSE.badRequest);
    expect(c.got[c.got.length - 1]).toMatchObject({ type: 'error', code });
  });

  test('a malformed first message (before auth) is a bad request too', async () => {
    await start();
    const c = await connect();
    c.ws.send('not json');
    expect(await c.closed()).toBe(WATCH_CLOSE.badRequest);
    expect(c.got).toEqual([{ type: 'error', code: 'BadJSON', message: expect.any(String) }]);
  });

  test('ping is answered with pong', async () => {
    await start();
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    c.send({ type: 'ping' });
    await c.until((m) => m.type === 'pong', 'pong');
  });

  test('a reconnect with the last position seen misses nothing: query ?since= or the auth message', async () => {
    await start();
    h.createNetwork('a', '10.1.0.0/16');
    const first = await connect({ header: TOKENS.admin });
    await first.until(isSynced, 'synced');
    h.createNetwork('b', '10.2.0.0/16');
    await first.until((m) => m.type === 'added' && m.object.metadata.name === 'b', 'b added');
    const at = positionOf([...first.got].reverse().find((m) => 'position' in m) as WatchMessage);
    await first.close();

    // Changed while nobody was connected.
    h.resources.deleteNetwork('a');
    h.createNetwork('c', '10.3.0.0/16');
    h.connect('h1');
    await new Promise((r) => setTimeout(r, 50));

    const byQuery = await connect({ header: TOKENS.admin, query: `?since=${encodeURIComponent(at)}` });
    const byAuth = await connect({ query: '?since=ignored.1' });
    byAuth.send({ type: 'auth', token: TOKENS.admin, since: at });
    for (const c of [byQuery, byAuth]) {
      await c.until(isSynced, 'synced');
      expect(c.got.some((m) => m.type === 'resync')).toBe(false);
      expect(changesOf(c.got).sort()).toEqual(['added Host/h1', 'added Network/c', 'deleted Network/a']);
    }

    // What a client holds after replaying equals a fresh full state.
    const held = new Map<string, string>();
    const apply = (ms: readonly WatchMessage[]) => {
      for (const m of ms) {
        if (m.type === 'added' || m.type === 'modified') held.set(`${m.object.kind}/${m.object.metadata.name}`, JSON.stringify(m.object));
        if (m.type === 'deleted') held.delete(`${m.object.kind}/${m.object.metadata.name}`);
      }
    };
    apply(first.got);
    apply(byQuery.got);
    const fresh = await connect({ header: TOKENS.admin });
    await fresh.until(isSynced, 'synced');
    const full = new Map(fresh.got.flatMap((m) => (m.type === 'added' ? [[`${m.object.kind}/${m.object.metadata.name}`, JSON.stringify(m.object)] as const] : [])));
    expect(held).toEqual(full);
  });

  test('a position from another run gets resync and the full state', async () => {
    await start();
    h.createNetwork('a', '10.1.0.0/16');
    const c = await connect({ header: TOKENS.admin, query: '?since=zzz.12' });
    await c.until(isSynced, 'synced');
    expect(c.got[0]).toMatchObject({ type: 'resync' });
    expect(changesOf(c.got)).toEqual(['added Network/a']);
  });

  test('live changes follow synced', async () => {
    await start();
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    h.createNetwork('later', '10.9.0.0/16');
    const m = await c.until((x) => x.type === 'added', 'added');
    expect(m).toMatchObject({ object: { kind: 'Network', metadata: { name: 'later' }, status: { endpoints: 0 } } });
  });

  test('what one pass sends (changes, then the events recorded meanwhile) comes in one frame, a JSON array', async () => {
    await start();
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    const framesBefore = c.frames;
    const before = c.got.length;
    h.createNetwork('a', '10.1.0.0/16');
    h.createNetwork('b', '10.2.0.0/16');
    await c.until((x) => x.type === 'event' && x.event.involved.name === 'b', 'the event of b');
    const got = c.got.slice(before);
    expect(changesOf(got)).toEqual(['added Network/a', 'added Network/b']);
    expect(got.filter((m) => m.type === 'event').map((m) => (m as { event: { involved: { name: string } } }).event.involved.name)).toEqual(['a', 'b']);
    expect(c.frames - framesBefore).toBe(1);
  });

  test('catching up is exempt from the buffer limit; a client behind on live changes is closed 4408 and unsubscribed (limit below zero: any unsent byte is too much)', async () => {
    await start({ maxBufferedBytes: -1 });
    for (let i = 0; i < 20; i++) h.createNetwork(`n${i}`, `10.${i}.0.0/16`);
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    expect(c.got.filter((m) => m.type === 'added')).toHaveLength(20);
    h.createNetwork('later', '10.99.0.0/16');
    expect(await c.closed()).toBe(WATCH_CLOSE.tooSlow);
    expect(c.got[c.got.length - 1]).toMatchObject({ type: 'error', code: 'TooSlow' });
    expect(h.hub.stats().subscribers).toBe(0);
  });

  test('a peer that stops answering pings is cut off and unsubscribed', async () => {
    await start({ pingIntervalMs: 30 });
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    expect(h.hub.stats().subscribers).toBe(1);
    // A client that reads nothing answers no ping.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const deadline = Date.now() + 5_000;
    while (h.hub.stats().subscribers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.hub.stats().subscribers).toBe(0);
    c.ws.terminate(); // the paused client would never see the close
  });

  test('closing the socket closes its clients with 1001 and refuses new ones', async () => {
    await start();
    const c = await connect({ header: TOKENS.admin });
    await c.until(isSynced, 'synced');
    await socket.close();
    expect(await c.closed()).toBe(1001);
    await expect(connect({ header: TOKENS.admin })).rejects.toMatchObject({ statusCode: 503 });
  });
});
